/**
 * Wi-Fi check-in as one component of the gateway: the RADIUS server, the
 * check-in logic and the inactivity timer, built from config wifi.radius and
 * the radiusSecrets of the secrets file.
 */
import type { AccessPipeline } from '../access/access-pipeline.js';
import type { AutoCheckout } from '../access/auto-checkout.js';
import { GuessGuard } from '../access/guess-guard.js';
import type { GuessingPolicy } from '../engine/lockout.js';
import type { RadiusConfig } from '../config/schema.js';
import type { Logger } from '../runtime/logger.js';
import { SecretValue } from '../runtime/secret.js';
import type { CredentialCache } from '../store/cache.js';
import type { CredentialHasher } from '../store/credential-hash.js';
import type { Db } from '../store/database.js';
import type { CheckinSessions } from '../store/sessions.js';
import { WifiDevices } from '../store/wifi-devices.js';
import { RadiusServer, type RadiusCounters } from './radius-server.js';
import { WifiCheckin, type WifiCounters } from './wifi-checkin.js';

export interface WifiServiceOptions {
  readonly config: RadiusConfig;
  /** Shared secret per client name (secrets file radiusSecrets). */
  readonly secrets: Readonly<Record<string, string>>;
  readonly guessing: GuessingPolicy;
  readonly db: Db;
  readonly pipeline: AccessPipeline;
  readonly cache: CredentialCache;
  readonly hasher: CredentialHasher;
  readonly sessions: CheckinSessions;
  readonly autoCheckout: AutoCheckout;
  readonly timezone: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly monotonic?: () => number;
}

export interface WifiStatus {
  readonly ports: { authPort: number; acctPort: number };
  readonly radius: RadiusCounters;
  readonly checkin: WifiCounters;
  readonly devices: number;
}

/** Closed device sessions are kept this long (the journal has the check-ins). */
const DEVICE_RETENTION_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export class WifiService {
  readonly server: RadiusServer;
  readonly checkin: WifiCheckin;
  readonly devices: WifiDevices;
  /** Per-user wrong-code lockout; the gateway journals its lockouts like the keypads'. */
  readonly userGuard: GuessGuard;
  readonly #o: WifiServiceOptions;
  #timer: NodeJS.Timeout | null = null;
  #prunedAt = -Infinity;

  constructor(o: WifiServiceOptions) {
    this.#o = o;
    this.devices = new WifiDevices(o.db);
    this.userGuard = new GuessGuard(o.guessing, o.monotonic);
    this.checkin = new WifiCheckin({
      pipeline: o.pipeline,
      cache: o.cache,
      hasher: o.hasher,
      sessions: o.sessions,
      devices: this.devices,
      autoCheckout: o.autoCheckout,
      userGuard: this.userGuard,
      logger: o.logger,
      timezone: o.timezone,
      checkInOn: o.config.checkInOn,
      maxSessionTimeoutS: o.config.maxSessionTimeoutS,
      perUser: o.config.perUser,
      now: o.now,
      monotonic: o.monotonic,
    });
    this.server = new RadiusServer({
      host: o.config.host,
      authPort: o.config.authPort,
      acctPort: o.config.acctPort,
      clients: o.config.clients.map((c) => {
        const secret = o.secrets[c.name];
        if (secret === undefined) throw new Error(`no radiusSecrets.${c.name} in the secrets file`);
        return { name: c.name, address: c.address, secret: new SecretValue(secret) };
      }),
      handler: (request) => this.checkin.handle(request),
      logger: o.logger,
      duplicateWindowMs: o.config.duplicateWindowS * 1000,
      perClient: o.config.perClient,
      monotonic: o.monotonic,
    });
  }

  async start(): Promise<void> {
    await this.server.start();
    this.#timer = setInterval(() => this.tick(), this.#o.config.idleCheckS * 1000);
    this.#timer.unref();
  }

  /** One inactivity check (the timer's job; tests call it after moving their clock). */
  tick(): number {
    try {
      const now = (this.#o.now ?? Date.now)();
      if (Math.abs(now - this.#prunedAt) > PRUNE_EVERY_MS) {
        this.#prunedAt = now;
        this.devices.prune(now - DEVICE_RETENTION_MS);
      }
      return this.checkin.checkInactivity();
    } catch (error) {
      this.#o.logger.error({ err: error }, 'Wi-Fi inactivity check failed; retried on the next tick');
      return 0;
    }
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.userGuard.close();
    await this.server.stop();
  }

  status(): WifiStatus {
    return { ports: this.server.ports(), radius: this.server.counters(), checkin: this.checkin.counters(), devices: this.devices.openDevices().length };
  }
}
