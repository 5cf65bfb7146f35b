/**
 * Cache sync as the daemon and the CLI use it: the engine built from the
 * config, the seed file applied when the cache is empty, imports from files,
 * and, when there is a broker, the MQTT side (sync-link.ts).
 *
 * `gatehouse sync import` without a running daemon builds one of these with
 * no transport, so a file goes through exactly the code an MQTT snapshot does.
 */
import { CloudKeyring } from '../cloud/signed-message.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { Logger } from '../runtime/logger.js';
import type { CredentialCache } from '../store/cache.js';
import { currentGenerationPath, isMemory } from '../store/cache-files.js';
import { WalFlusher } from '../store/wal-flusher.js';
import { readDatasetFile } from './dataset-file.js';
import { assertDemoKeyConfinedToDemo } from './demo-key.js';
import type { SnapshotRequestReason } from './messages.js';
import { isSignedSnapshotFile, readLines } from './snapshot-file.js';
import { SyncEngine, type AppliedSnapshot, type StalenessRules, type SyncStatus } from './sync-engine.js';
import { SyncLink, type SnapshotRequestOutcome, type SyncTransport } from './sync-link.js';

/** Without a cloud section there is no message size limit in the config; seed files still need one per line. */
const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** The staleness rules of a config; null without a cloud section (nothing could refresh the cache, so it never goes stale). */
export function stalenessRules(config: GatehouseConfig): StalenessRules | null {
  const cloud = config.cloud;
  return cloud === undefined ? null : { staleAfterMs: cloud.staleAfterHours * 3_600_000, policy: cloud.stalePolicy };
}

export interface SyncServiceOptions {
  readonly config: GatehouseConfig;
  readonly cache: CredentialCache;
  readonly logger: Logger;
  readonly bootId: string;
  /** The MQTT link; null without a broker (imports only). */
  readonly transport: SyncTransport | null;
  readonly now?: () => number;
  /** Apply-slice budget and chunk timeout, for tests and the benchmark. */
  readonly sliceMs?: number;
  readonly chunkTimeoutMs?: number;
  readonly minRequestIntervalMs?: number;
  readonly checkEveryMs?: number;
}

export class SyncService {
  readonly engine: SyncEngine;
  /** Syncs the cache file in force after each delta; null for an in-memory store. */
  readonly #cacheFlusher: WalFlusher | null;
  readonly staleness: StalenessRules | null;
  readonly #o: SyncServiceOptions;
  readonly #link: SyncLink | null;
  readonly #maxMessageBytes: number;

  constructor(options: SyncServiceOptions) {
    this.#o = options;
    const { config } = options;
    const cloud = config.cloud;
    if (cloud !== undefined) assertDemoKeyConfinedToDemo(config.site.id, cloud.publicKeys);
    this.#maxMessageBytes = cloud?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.staleness = stalenessRules(config);
    const db = options.cache.db;
    this.#cacheFlusher = isMemory(db.name) ? null : new WalFlusher(() => currentGenerationPath(db));
    this.engine = new SyncEngine({
      cache: options.cache,
      keyring: cloud === undefined ? null : new CloudKeyring(cloud.publicKeys),
      maxMessageBytes: this.#maxMessageBytes,
      gatewayId: config.gateway.id,
      siteId: config.site.id,
      staleness: this.staleness,
      logger: options.logger,
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.sliceMs === undefined ? {} : { sliceMs: options.sliceMs }),
      ...(options.chunkTimeoutMs === undefined ? {} : { chunkTimeoutMs: options.chunkTimeoutMs }),
      ...(this.#cacheFlusher === null ? {} : { cacheDurability: this.#cacheFlusher }),
    });
    // Without cloud keys nothing could be verified, so nothing is subscribed.
    this.#link =
      options.transport === null || cloud === undefined || config.mqtt === undefined
        ? null
        : new SyncLink({
            transport: options.transport,
            engine: this.engine,
            topicPrefix: config.mqtt.topicPrefix,
            gatewayId: config.gateway.id,
            siteId: config.site.id,
            bootId: options.bootId,
            logger: options.logger,
            refreshAfterMs: this.staleness === null ? null : this.staleness.staleAfterMs / 2,
            ...(options.now === undefined ? {} : { now: options.now }),
            ...(options.minRequestIntervalMs === undefined ? {} : { minRequestIntervalMs: options.minRequestIntervalMs }),
            ...(options.checkEveryMs === undefined ? {} : { checkEveryMs: options.checkEveryMs }),
          });
  }

  /** Clean up after an interrupted apply, seed an empty cache, then listen to the cloud. */
  async start(): Promise<AppliedSnapshot | null> {
    this.engine.start();
    const seeded = await this.#seedIfEmpty();
    this.#link?.start();
    return seeded;
  }

  async stop(): Promise<void> {
    this.#link?.stop();
    await this.engine.stop();
    await this.#cacheFlusher?.close();
  }

  /** Ask the cloud for a snapshot now (operator command, or the signed sync.resync command). Null without a broker: nobody to ask. */
  requestSnapshot(reason: SnapshotRequestReason = 'command'): SnapshotRequestOutcome | null {
    if (this.#link === null) return null;
    return this.#link.requestSnapshot(reason);
  }

  /** The hook for remote commands (cloud/command-executor requestResync): a free-form detail, always reason "command". */
  requestResync(detail: string): void {
    this.#o.logger.info({ detail }, 'snapshot requested by command');
    this.requestSnapshot('command');
  }

  /** Apply a signed snapshot file (see snapshot-file.ts). Rejects with SyncRejectedError. */
  importFile(path: string, options: { readonly force?: boolean } = {}): Promise<AppliedSnapshot> {
    return this.engine.importSnapshot(readLines(path, this.#maxMessageBytes), { file: path, force: options.force ?? false });
  }

  status(): SyncStatus {
    return this.engine.status();
  }

  async #seedIfEmpty(): Promise<AppliedSnapshot | null> {
    const seed = this.#o.config.store.seedFile;
    if (seed === undefined || !this.#o.cache.isEmpty()) return null;
    const result = (await isSignedSnapshotFile(seed, this.#maxMessageBytes))
      ? await this.engine.importSnapshot(readLines(seed, this.#maxMessageBytes), { file: seed, source: 'seed' })
      : await this.engine.applyDataset(readDatasetFile(seed), 'seed');
    this.#o.logger.info(
      { seed, version: result.version, people: result.people, credentials: result.credentials, rejected: result.rejectedCredentials },
      'cache seeded from file',
    );
    return result;
  }
}
