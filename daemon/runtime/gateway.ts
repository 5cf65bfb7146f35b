/**
 * The composition root: builds the store, drivers, doors, access pipeline,
 * uplink and control socket from a validated config, and tears them down in
 * the order that keeps every door in a defined state.
 */
import { randomUUID } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import type { ReaderConfig } from '../config/schema.js';
import { AccessPipeline, type AccessResult } from '../access/access-pipeline.js';
import { AutoCheckout } from '../access/auto-checkout.js';
import { ConflictReporter } from '../access/conflict-reporter.js';
import type { CredentialConflict } from '../store/cache.js';
import { ClockWatch } from './clock-watch.js';
import { DoorController, type DoorStatus } from '../access/door-controller.js';
import { createCodeSecurity, guessingPolicyOf, type CodeSecurity } from '../access/code-security.js';
import { CredentialCache } from '../store/cache.js';
import { CredentialHasher } from '../store/credential-hash.js';
import { openDatabase, type Db } from '../store/database.js';
import { Journal, type JournalEntry } from '../store/journal.js';
import { CheckinSessions, type OpenSession } from '../store/sessions.js';
import { doorModes, mirrorLayout } from '../store/site-layout.js';
import { assertDemoKeyConfinedToDemo } from '../sync/demo-key.js';
import { SyncService, stalenessRules } from '../sync/sync-service.js';
import { SyncRejectedError, type SyncStatus } from '../sync/sync-engine.js';
import { ControlServer } from '../control/control-server.js';
import type { ControlRequest } from '../control/protocol.js';
import { createDriverFactory, type DriverFactoryOptions, type ReaderHandle } from '../../drivers/registry.js';
import type { RelayDriver } from '../../drivers/types.js';
import { SecretValue } from './secret.js';
import { Supervisor, type DeviceStatus } from './supervisor.js';
import type { Logger } from './logger.js';
import { createUplink, type Uplink, type UplinkStatus } from '../uplink/uplink.js';
import { accessTopic, alarmTopic, gatewayTopic } from '../uplink/topics.js';
import { CloudChannel, type CloudChannelStatus } from '../cloud/cloud-channel.js';
import { CloudKeyring } from '../cloud/signed-message.js';
import { WifiService, type WifiStatus } from '../wifi/wifi-service.js';

export interface GatewayStatusReport {
  readonly gateway: { id: string; siteId: string; bootId: string; version: string; startedAt: string };
  readonly doors: DoorStatus[];
  readonly readers: { id: string; driver: string; door: string | null; mode: string; device: DeviceStatus; counters: Record<string, number> }[];
  /** The cache in force: version, size, last successful sync and age (stale: older than cloud.staleAfterHours). */
  readonly cache: { version: number; people: number; credentials: number; syncedAt: string | null; ageS: number | null; stale: boolean };
  /** Cache sync: state, snapshot in progress, last import, requests and rejected messages by reason. */
  readonly sync: SyncStatus;
  readonly journal: {
    pending: number;
    oldestPendingAt: string | null;
    writeFailures: number;
    /** puback: delivered on the broker's PUBACK. cloud-ack: only when the cloud acknowledges (a cloud section is configured). */
    delivery: 'puback' | 'cloud-ack';
    awaitingPuback: number;
    awaitingCloudAck: number;
  };
  readonly uplink: UplinkStatus;
  /** Remote commands and event acks; null without a cloud section and a broker. */
  readonly cloud: CloudChannelStatus | null;
  readonly occupancy: {
    count: number;
    byArea: { area: string | null; count: number }[];
    people: { personId: string; name: string; since: string; readerId: string | null; area: string | null }[];
  };
  /** Cards and keypad codes held by several people (refused to all of them). */
  readonly conflicts: readonly CredentialConflict[];
  /** Whether the wall clock is believed, and how often it jumped. */
  readonly clock: { trusted: boolean; synchronised: boolean | null; jumps: number; policy: string };
  /** Wi-Fi check-in (RADIUS); null when config wifi is absent. */
  readonly wifi: WifiStatus | null;
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
  readonly sync: SyncService;
  readonly sessions: CheckinSessions;
  readonly pipeline: AccessPipeline;
  readonly #codes: CodeSecurity;
  readonly doors = new Map<string, DoorController>();
  readonly #relays: Supervisor<RelayDriver>[] = [];
  readonly #readers: { config: ReaderConfig; handle: ReaderHandle; supervisor: Supervisor<ReaderHandle['driver']> }[] = [];
  readonly #uplink: Uplink;
  readonly #cloud: CloudChannel | null;
  readonly #resyncListeners = new Set<(reason: string) => void>();
  readonly #control: ControlServer;
  readonly clock: ClockWatch;
  readonly autoCheckout: AutoCheckout;
  readonly conflicts: ConflictReporter;
  readonly wifi: WifiService | null;
  #conflictsCheckedFor: number | null | undefined = undefined;
  #policyTimer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;

  private constructor(loaded: LoadedConfig, logger: Logger, version: string, drivers: DriverFactoryOptions) {
    const { config } = loaded;
    // Before anything is opened: a gateway trusting the published demo key must not run at all.
    if (config.cloud !== undefined) assertDemoKeyConfinedToDemo(config.site.id, config.cloud.publicKeys);
    this.#loaded = loaded;
    this.#log = logger;
    this.#version = version;
    this.bootId = randomUUID();

    this.db = openDatabase(config.store.path);
    const hasher = new CredentialHasher(loaded.siteKey);
    this.cache = new CredentialCache(this.db, hasher);
    this.sessions = new CheckinSessions(this.db);
    // With a cloud, an event is delivered when the cloud says it stored it, not when the broker has it.
    this.journal = new Journal(this.db, this.bootId, { delivery: config.cloud === undefined ? 'puback' : 'cloud-ack' });
    mirrorLayout(this.db, config, Date.now());
    const modes = doorModes(this.db);
    const factory = createDriverFactory(logger, { hidBackend: config.hid.backend, ...drivers });

    for (const door of config.doors) {
      const relay = new Supervisor(factory.relay(door), { logger });
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

    this.clock = new ClockWatch();
    this.clock.onJump((deltaMs, at) => {
      // A running visitor token keeps the time it had left (durations are monotonic).
      const shifted = this.sessions.shiftEntitlementStarts(deltaMs, at);
      this.#log.warn({ deltaMs: Math.round(deltaMs), shiftedTokenStarts: shifted }, 'the wall clock jumped');
    });
    const topicPrefix = config.mqtt?.topicPrefix ?? 'gatehouse/v1';
    this.autoCheckout = new AutoCheckout({
      siteId: config.site.id,
      gatewayId: config.gateway.id,
      timezone: config.site.timezone,
      topic: gatewayTopic(topicPrefix, config.gateway.id, 'events/checkout'),
      db: this.db,
      cache: this.cache,
      sessions: this.sessions,
      journal: this.journal,
      logger,
    });
    this.conflicts = new ConflictReporter({
      db: this.db,
      cache: this.cache,
      journal: this.journal,
      topic: gatewayTopic(topicPrefix, config.gateway.id, 'events/conflicts'),
      siteId: config.site.id,
      gatewayId: config.gateway.id,
      logger,
    });

    this.#codes = createCodeSecurity(config, {
      siteId: config.site.id,
      gatewayId: config.gateway.id,
      topic: alarmTopic(config.mqtt?.topicPrefix ?? 'gatehouse/v1', config.gateway.id),
      journal: this.journal,
      logger,
    });
    this.pipeline = new AccessPipeline({
      areas: config.areas,
      holidays: config.holidays.map((h) => h.date),
      clock: () => ({ trusted: this.clock.trusted(), policy: config.time.unsyncedClock }),
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
      staleness: stalenessRules(config) ?? undefined,
      codes: this.#codes,
    });

    this.wifi =
      config.wifi === undefined
        ? null
        : new WifiService({
            config: config.wifi.radius,
            secrets: loaded.secrets.radiusSecrets ?? {},
            guessing: guessingPolicyOf(config.guessing),
            db: this.db,
            pipeline: this.pipeline,
            cache: this.cache,
            hasher,
            sessions: this.sessions,
            autoCheckout: this.autoCheckout,
            timezone: config.site.timezone,
            logger,
          });
    if (this.wifi !== null) this.#codes.alarms.watch(this.wifi.userGuard);

    for (const reader of config.readers) {
      const handle = factory.reader(reader);
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
    const link = this.#uplink.link;
    // Without a cloud section no command or ack is accepted at all: nothing subscribes.
    this.#cloud =
      config.cloud === undefined || link === null
        ? null
        : new CloudChannel({
            link,
            topicPrefix: config.mqtt?.topicPrefix ?? 'gatehouse/v1',
            gatewayId: config.gateway.id,
            siteId: config.site.id,
            keyring: new CloudKeyring(config.cloud.publicKeys),
            maxMessageBytes: config.cloud.maxMessageBytes,
            db: this.db,
            journal: this.journal,
            sessions: this.sessions,
            doors: this.doors,
            requestResync: (reason) => this.#requestResync(reason),
            logger,
          });
    this.sync = new SyncService({ config, cache: this.cache, logger, bootId: this.bootId, transport: this.#uplink.link });
    this.onResyncRequest((reason) => this.sync.requestResync(reason));
    this.#control = new ControlServer(config.control.socket, (request) => this.#onControl(request), logger);
  }

  /** Open everything. Devices that are missing are retried in the background; only a broken store or socket fails start. */
  /** `drivers` replaces hardware libraries in tests (a fake node-hid); the daemon passes nothing. */
  static async start(loaded: LoadedConfig, logger: Logger, version: string, drivers: DriverFactoryOptions = {}): Promise<Gateway> {
    const gateway = new Gateway(loaded, logger, version, drivers);
    try {
      // Seeds an empty cache (awaited: readers start on data), then listens for the cloud.
      await gateway.sync.start();
      await gateway.clock.start();
      gateway.autoCheckout.start();
      gateway.#checkConflicts();
      gateway.#policyTimer = setInterval(() => gateway.#checkConflicts(), 10_000);
      gateway.#policyTimer.unref();
      // Doors first: each relay writes its locked state as soon as it opens.
      for (const relay of gateway.#relays) relay.start();
      for (const reader of gateway.#readers) reader.supervisor.start();
      await gateway.wifi?.start();
      gateway.#cloud?.start();
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
    if (this.#policyTimer !== null) clearInterval(this.#policyTimer);
    this.clock.stop();
    this.autoCheckout.stop();
    await this.#control.stop().catch(() => undefined);
    await Promise.all(this.#readers.map((r) => r.supervisor.stop()));
    await this.wifi?.stop();
    this.#codes.guard.close();
    await Promise.all([...this.doors.values()].map((d) => d.shutdown()));
    await Promise.all(this.#relays.map((r) => r.stop()));
    this.#cloud?.stop();
    await this.sync.stop();
    await this.#uplink.stop();
    this.db.close();
    this.#log.info({ bootId: this.bootId }, 'gatehouse stopped');
  }

  status(): GatewayStatusReport {
    const { config } = this.#loaded;
    const depth = this.journal.depth();
    const open: OpenSession[] = this.sessions.openSessions();
    const sync = this.sync.status();
    const counts = this.cache.counts();
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
      cache: { version: sync.version, people: counts.people, credentials: counts.credentials, syncedAt: sync.syncedAt, ageS: sync.ageS, stale: sync.stale },
      sync,
      journal: {
        pending: depth.pending,
        oldestPendingAt: depth.oldestPendingAt === null ? null : new Date(depth.oldestPendingAt).toISOString(),
        writeFailures: this.pipeline.journalFailures,
        delivery: this.journal.delivery,
        awaitingPuback: depth.awaitingPuback,
        awaitingCloudAck: depth.awaitingCloudAck,
      },
      uplink: this.#uplink.status(),
      cloud: this.#cloud?.status() ?? null,
      occupancy: {
        count: open.length,
        byArea: this.sessions.occupancyByArea(),
        people: open.map((s) => ({
          personId: s.personId,
          name: s.personName,
          since: new Date(s.openedAt).toISOString(),
          readerId: s.readerId,
          area: s.area,
        })),
      },
      conflicts: this.conflicts.conflicts,
      clock: { ...this.clock.status(), policy: config.time.unsyncedClock },
      wifi: this.wifi?.status() ?? null,
    };
  }

  /** Look for shared credentials whenever the data in force has changed. */
  #checkConflicts(): void {
    try {
      const appliedAt = this.cache.state().appliedAt;
      if (appliedAt === this.#conflictsCheckedFor) return;
      this.#conflictsCheckedFor = appliedAt;
      this.conflicts.check();
    } catch (error) {
      this.#log.error({ err: error }, 'could not check for credential conflicts');
    }
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
    const off = this.pipeline.onDecision((r, source) => {
      if (source.id === target.config.id) result = r;
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

  /**
   * sync.resync commands land here. The sync component subscribes (its
   * "fetch a full snapshot now"); listeners must return quickly and may throw
   * to report that the request could not be made.
   */
  onResyncRequest(listener: (reason: string) => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  #requestResync(reason: string): void {
    if (this.#resyncListeners.size === 0) this.#log.warn({ reason }, 'resync requested, but no sync component is running');
    for (const listener of this.#resyncListeners) listener(reason);
  }

  /** Start an import and answer at once with its job id; the CLI polls sync-status for progress. */
  #startImport(path: string, force: boolean): { job: number } {
    this.sync.importFile(path, { force }).catch((error: unknown) => {
      // The outcome is in sync-status; rejections are already counted and logged by the engine.
      if (!(error instanceof SyncRejectedError)) this.#log.error({ err: error, path }, 'import failed');
    });
    const job = this.sync.engine.importJob;
    if (job === null) throw new Error('import did not start');
    return { job: job.id };
  }

  #prune(): void {
    const days = this.#loaded.config.store.journalRetentionDays;
    try {
      const removed = this.journal.prune(Date.now() - days * 86_400_000);
      if (removed > 0) this.#log.info({ removed }, 'pruned delivered journal entries');
      const commands = this.#cloud?.prune(Date.now()) ?? 0;
      if (commands > 0) this.#log.info({ removed: commands }, 'pruned expired command records');
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
      case 'sync-import':
        return this.#startImport(request.path, request.force);
      case 'sync-status':
        return this.sync.status();
      case 'sync-request':
        if (!this.sync.requestSnapshot('command')) throw new Error('no broker or no cloud keys configured: there is nobody to ask for a snapshot');
        return { requested: true };
      case 'events':
        return this.journal.recent(request.limit).map((e: JournalEntry) => ({
          seq: e.seq,
          id: e.id,
          type: e.type,
          createdAt: new Date(e.createdAt).toISOString(),
          publishedAt: e.publishedAt === null ? null : new Date(e.publishedAt).toISOString(),
          ackedAt: e.ackedAt === null ? null : new Date(e.ackedAt).toISOString(),
          payload: JSON.parse(e.payload) as unknown,
        }));
    }
  }
}
