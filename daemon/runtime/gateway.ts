/**
 * The composition root: builds the store, drivers, doors, access pipeline,
 * uplink and control socket from a validated config, and tears them down in
 * the order that keeps every door in a defined state.
 */
import { randomUUID } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import type { ReaderConfig } from '../config/schema.js';
import { AccessPipeline, type AccessResult } from '../access/access-pipeline.js';
import { DoorController, type DoorStatus } from '../access/door-controller.js';
import { CredentialCache } from '../store/cache.js';
import { CredentialHasher } from '../store/credential-hash.js';
import { openDatabase, type Db } from '../store/database.js';
import { Journal, type JournalEntry } from '../store/journal.js';
import { CheckinSessions, type OpenSession } from '../store/sessions.js';
import { doorModes, mirrorLayout } from '../store/site-layout.js';
import { readDatasetFile } from '../sync/dataset-file.js';
import { ControlServer } from '../control/control-server.js';
import type { ControlRequest } from '../control/protocol.js';
import { createDriverFactory, type ReaderHandle } from '../../drivers/registry.js';
import type { RelayDriver } from '../../drivers/types.js';
import { SecretValue } from './secret.js';
import { Supervisor, type DeviceStatus } from './supervisor.js';
import type { Logger } from './logger.js';
import { createUplink, type Uplink, type UplinkStatus } from '../uplink/uplink.js';
import { accessTopic } from '../uplink/topics.js';

export interface GatewayStatusReport {
  readonly gateway: { id: string; siteId: string; bootId: string; version: string; startedAt: string };
  readonly doors: DoorStatus[];
  readonly readers: { id: string; driver: string; door: string | null; mode: string; device: DeviceStatus; counters: Record<string, number> }[];
  readonly cache: { version: number; people: number; credentials: number };
  readonly journal: { pending: number; oldestPendingAt: string | null; writeFailures: number };
  readonly uplink: UplinkStatus;
  readonly occupancy: { count: number; people: { personId: string; name: string; since: string; readerId: string | null }[] };
}

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export class Gateway {
  readonly bootId: string;
  readonly #loaded: LoadedConfig;
  readonly #log: Logger;
  readonly #version: string;
  readonly #startedAt = Date.now();
  readonly db: Db;
  readonly journal: Journal;
  readonly cache: CredentialCache;
  readonly sessions: CheckinSessions;
  readonly pipeline: AccessPipeline;
  readonly doors = new Map<string, DoorController>();
  readonly #relays: Supervisor<RelayDriver>[] = [];
  readonly #readers: { config: ReaderConfig; handle: ReaderHandle; supervisor: Supervisor<ReaderHandle['driver']> }[] = [];
  readonly #uplink: Uplink;
  readonly #control: ControlServer;
  #pruneTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;

  private constructor(loaded: LoadedConfig, logger: Logger, version: string) {
    const { config } = loaded;
    this.#loaded = loaded;
    this.#log = logger;
    this.#version = version;
    this.bootId = randomUUID();

    this.db = openDatabase(config.store.path);
    const hasher = new CredentialHasher(loaded.siteKey);
    this.cache = new CredentialCache(this.db, hasher);
    this.sessions = new CheckinSessions(this.db);
    this.journal = new Journal(this.db, this.bootId);
    mirrorLayout(this.db, config, Date.now());
    const modes = doorModes(this.db);
    const drivers = createDriverFactory(logger);

    for (const door of config.doors) {
      const relay = new Supervisor(drivers.relay(door), { logger });
      this.#relays.push(relay);
      this.doors.set(
        door.id,
        new DoorController({
          config: door,
          relay,
          schedule: door.schedule === undefined ? null : (config.schedules[door.schedule] ?? null),
          mode: modes.get(door.id) ?? 'normal',
          logger,
        }),
      );
    }

    this.pipeline = new AccessPipeline({
      siteId: config.site.id,
      gatewayId: config.gateway.id,
      timezone: config.site.timezone,
      accessTopic: accessTopic(config.mqtt?.topicPrefix ?? 'gatehouse/v1', config.gateway.id),
      db: this.db,
      hasher,
      cache: this.cache,
      sessions: this.sessions,
      journal: this.journal,
      doors: this.doors,
      logger,
    });

    for (const reader of config.readers) {
      const handle = drivers.reader(reader);
      this.pipeline.attach(reader, handle.driver);
      this.#readers.push({ config: reader, handle, supervisor: new Supervisor(handle.driver, { logger }) });
    }

    this.#uplink = createUplink({
      config: config.mqtt,
      password: loaded.secrets.mqttPassword,
      siteId: config.site.id,
      gatewayId: config.gateway.id,
      bootId: this.bootId,
      version,
      journal: this.journal,
      logger,
    });
    this.#control = new ControlServer(config.control.socket, (request) => this.#onControl(request), logger);
  }

  /** Open everything. Devices that are missing are retried in the background; only a broken store or socket fails start. */
  static async start(loaded: LoadedConfig, logger: Logger, version: string): Promise<Gateway> {
    const gateway = new Gateway(loaded, logger, version);
    try {
      gateway.#seedIfEmpty();
      // Doors first: each relay writes its locked state as soon as it opens.
      for (const relay of gateway.#relays) relay.start();
      for (const reader of gateway.#readers) reader.supervisor.start();
      gateway.#uplink.start();
      await gateway.#control.start();
      gateway.#pruneTimer = setInterval(() => gateway.#prune(), PRUNE_INTERVAL_MS);
      gateway.#pruneTimer.unref();
      gateway.#prune();
    } catch (error) {
      await gateway.stop();
      throw error;
    }
    logger.info(
      { bootId: gateway.bootId, doors: gateway.doors.size, readers: gateway.#readers.length, version },
      'gatehouse started',
    );
    return gateway;
  }

  /** Stop taking reads, lock every door, publish what can be published, close the store. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#pruneTimer !== null) clearInterval(this.#pruneTimer);
    await this.#control.stop().catch(() => undefined);
    await Promise.all(this.#readers.map((r) => r.supervisor.stop()));
    await Promise.all([...this.doors.values()].map((d) => d.shutdown()));
    await Promise.all(this.#relays.map((r) => r.stop()));
    await this.#uplink.stop();
    this.db.close();
    this.#log.info({ bootId: this.bootId }, 'gatehouse stopped');
  }

  status(): GatewayStatusReport {
    const { config } = this.#loaded;
    const depth = this.journal.depth();
    const open: OpenSession[] = this.sessions.openSessions();
    return {
      gateway: {
        id: config.gateway.id,
        siteId: config.site.id,
        bootId: this.bootId,
        version: this.#version,
        startedAt: new Date(this.#startedAt).toISOString(),
      },
      doors: [...this.doors.values()].map((d) => d.status()),
      readers: this.#readers.map((r) => ({
        id: r.config.id,
        driver: r.config.driver,
        door: r.config.door ?? null,
        mode: r.config.mode,
        device: r.supervisor.status(),
        counters: { ...(r.handle.driver.counters?.() ?? {}) },
      })),
      cache: { version: this.cache.version(), ...this.cache.counts() },
      journal: {
        pending: depth.pending,
        oldestPendingAt: depth.oldestPendingAt === null ? null : new Date(depth.oldestPendingAt).toISOString(),
        writeFailures: this.pipeline.journalFailures,
      },
      uplink: this.#uplink.status(),
      occupancy: {
        count: open.length,
        people: open.map((s) => ({ personId: s.personId, name: s.personName, since: new Date(s.openedAt).toISOString(), readerId: s.readerId })),
      },
    };
  }

  /** Feed a simulated read (sim drivers only). */
  simulate(kind: 'card' | 'keypad', value: string, readerId?: string): AccessResult {
    const candidates = this.#readers.filter((r) => r.handle.simulate !== undefined && (readerId === undefined || r.config.id === readerId));
    const target = candidates[0];
    if (target?.handle.simulate === undefined) {
      throw new Error(readerId === undefined ? 'no simulated reader is configured' : `no simulated reader "${readerId}"`);
    }
    const secret = new SecretValue(value);
    // The read goes through the driver, exactly like hardware, and the pipeline's
    // synchronous handling lets us capture its result.
    let result: AccessResult | undefined;
    const off = this.pipeline.onDecision((r, reader) => {
      if (reader.id === target.config.id) result = r;
    });
    try {
      const delivered = target.handle.simulate(kind === 'card' ? { kind: 'card', number: secret } : { kind: 'keypad', code: secret });
      if (!delivered) throw new Error(`reader "${target.config.id}" is not online`);
    } finally {
      off();
    }
    if (result === undefined) throw new Error('the read was not decided; see the daemon log');
    return result;
  }

  #seedIfEmpty(): void {
    const seed = this.#loaded.config.store.seedFile;
    if (seed === undefined || !this.cache.isEmpty()) return;
    const result = this.cache.applySnapshot(readDatasetFile(seed), Date.now());
    this.#log.info(
      { seed, version: result.version, people: result.people, credentials: result.credentials, rejected: result.rejectedCredentials },
      'cache seeded from file',
    );
  }

  #prune(): void {
    const days = this.#loaded.config.store.journalRetentionDays;
    try {
      const removed = this.journal.prune(Date.now() - days * 86_400_000);
      if (removed > 0) this.#log.info({ removed }, 'pruned delivered journal entries');
    } catch (error) {
      this.#log.error({ err: error }, 'journal prune failed');
    }
  }

  async #onControl(request: ControlRequest): Promise<unknown> {
    switch (request.op) {
      case 'status':
        return this.status();
      case 'sim': {
        const result = this.simulate(request.kind, request.value, request.reader);
        return {
          outcome: result.decision.outcome,
          reason: result.decision.reason,
          person: result.decision.person?.id ?? null,
          checkin: result.decision.checkin,
          fingerprint: result.fingerprint,
          seq: result.event?.seq ?? null,
        };
      }
      case 'events':
        return this.journal.recent(request.limit).map((e: JournalEntry) => ({
          seq: e.seq,
          id: e.id,
          type: e.type,
          createdAt: new Date(e.createdAt).toISOString(),
          publishedAt: e.publishedAt === null ? null : new Date(e.publishedAt).toISOString(),
          payload: JSON.parse(e.payload) as unknown,
        }));
    }
  }
}
