/**
 * The kiosk component as the gateway holds it: its API, listener, paired
 * tablets and pairing codes, built from config `kiosk` and the gateway's
 * store and pipeline.
 */
import type { AccessPipeline } from '../access/access-pipeline.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { CredentialCache } from '../store/cache.js';
import type { CredentialHasher } from '../store/credential-hash.js';
import type { Db } from '../store/database.js';
import type { Journal } from '../store/journal.js';
import type { CheckinSessions } from '../store/sessions.js';
import type { Logger } from '../runtime/logger.js';
import { HostDirectory } from './host-directory.js';
import { KioskApi } from './kiosk-api.js';
import { KioskRegistry, type KioskRecord } from './kiosk-registry.js';
import { KioskServer } from './kiosk-server.js';
import { LocalVisitors } from './local-visitors.js';
import { PairingCodes, type IssuedCode } from './pairing-codes.js';
import { KioskRegistration } from './registration.js';
import { loadStaticAssets } from './static-assets.js';

export type KioskConfig = NonNullable<GatehouseConfig['kiosk']>;

export interface KioskDeps {
  readonly siteId: string;
  readonly siteName: string;
  readonly gatewayId: string;
  readonly registrationTopic: string;
  readonly db: Db;
  readonly hasher: CredentialHasher;
  readonly cache: CredentialCache;
  readonly sessions: CheckinSessions;
  readonly journal: Journal;
  readonly pipeline: AccessPipeline;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class Kiosk {
  readonly api: KioskApi;
  readonly server: KioskServer;
  readonly registry: KioskRegistry;
  readonly #pairing: PairingCodes;
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(config: KioskConfig, deps: KioskDeps) {
    this.#now = deps.now ?? Date.now;
    this.#log = deps.logger.child({ component: 'kiosk' });
    this.registry = new KioskRegistry(deps.db);
    this.#pairing = new PairingCodes(config.pairingCodeMinutes * 60_000);
    const hosts = new HostDirectory(deps.db);
    const visitors = new LocalVisitors(deps.db, deps.sessions);
    const registration = new KioskRegistration({
      siteId: deps.siteId,
      gatewayId: deps.gatewayId,
      topic: deps.registrationTopic,
      pipeline: deps.pipeline,
      cache: deps.cache,
      hasher: deps.hasher,
      journal: deps.journal,
      visitors,
      hosts,
      logger: this.#log,
    });
    this.api = new KioskApi({
      siteName: deps.siteName,
      resultSeconds: config.resultSeconds,
      terms: config.terms,
      doorId: config.door ?? null,
      area: config.area ?? null,
      rateLimit: config.rateLimit,
      pipeline: deps.pipeline,
      registry: this.registry,
      pairing: this.#pairing,
      registration,
      hosts,
      visitors,
      logger: this.#log,
      now: this.#now,
    });
    this.server = new KioskServer({
      host: config.listen.host,
      port: config.listen.port,
      tls: config.tls,
      api: this.api,
      assets: loadStaticAssets(),
      logger: deps.logger,
    });
  }

  /** A one-time code for `gatehouse kiosk pair`; the tablet enters it on its pairing screen. */
  pair(name: string): IssuedCode {
    const issued = this.#pairing.issue(name, this.#now());
    this.#log.info({ name, expiresAt: new Date(issued.expiresAt).toISOString() }, 'kiosk pairing code issued');
    return issued;
  }

  list(): KioskRecord[] {
    return this.registry.list();
  }

  revoke(id: string): boolean {
    const done = this.registry.revoke(id, this.#now());
    if (done) this.#log.info({ kiosk: id }, 'kiosk revoked');
    return done;
  }
}
