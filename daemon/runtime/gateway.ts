/**
 * The composition root: builds the store, drivers, doors, access pipeline,
 * uplink and control socket from a validated config, and tears them down in
 * the order that keeps every door in a defined state.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { DoorConfig, GatehouseConfig, ReaderConfig } from '../config/schema.js';
import type { DoorMode } from '../engine/types.js';
import { planReload, type ReloadPlan } from './reload-plan.js';
import { lookupCredential, type LookupResult } from './credential-lookup.js';
import { StatusServer } from '../http/status-server.js';
import { DecisionCounters, DecisionLatency, LoopDelay, statusFamilies } from '../http/gateway-metrics.js';
import { renderMetrics } from '../http/prometheus-text.js';
import { AccessPipeline, sourceOfReader, type AccessResult, type AccessSource } from '../access/access-pipeline.js';
import { AutoCheckout } from '../access/auto-checkout.js';
import { ConflictReporter } from '../access/conflict-reporter.js';
import type { CredentialConflict } from '../store/cache.js';
import { ClockWatch } from './clock-watch.js';
import { followClockJumps } from './clock-jumps.js';
import { DoorController, type DoorStatus } from '../access/door-controller.js';
import { createCodeSecurity, guessingPolicyOf, type CodeSecurity } from '../access/code-security.js';
import { journalDoorEvents, type DoorEventJournal } from '../access/door-events.js';
import { CredentialCache } from '../store/cache.js';
import { CredentialHasher } from '../store/credential-hash.js';
import { openDatabase, type Db } from '../store/database.js';
import { Journal, type JournalEntry } from '../store/journal.js';
import { WalFlusher } from '../store/wal-flusher.js';
import { startBackgroundCheckpoints, type BackgroundCheckpoints } from '../store/checkpointer.js';
import { CheckinSessions, type OpenSession } from '../store/sessions.js';
import { doorModes, mirrorLayout } from '../store/site-layout.js';
import { AbortedError } from '../sync/cooperative.js';
import { assertDemoKeyConfinedToDemo } from '../sync/demo-key.js';
import { SyncService, stalenessRules } from '../sync/sync-service.js';
import { SyncRejectedError, type SyncStatus } from '../sync/sync-engine.js';
import { ControlServer, ControlStream } from '../control/control-server.js';
import type { ControlRequest } from '../control/protocol.js';
import { createDriverFactory, type DriverFactory, type DriverFactoryOptions, type InputHandle, type ReaderHandle } from '../../drivers/registry.js';
import type { DeviceDriver, InputDriver, RelayDriver } from '../../drivers/types.js';
import { accessEventSchema, type DeviceAvailability, type SiteState } from '../uplink/payloads.js';
import { SiteStatePublisher } from '../uplink/site-state-publisher.js';
import { discoveryMessages } from '../uplink/home-assistant.js';
import { SecretValue } from './secret.js';
import { Supervisor, type DeviceStatus } from './supervisor.js';
import { setLogLevel, type Logger } from './logger.js';
import { createUplink, type Uplink, type UplinkStatus } from '../uplink/uplink.js';
import { accessTopic, alarmTopic, doorEventTopic, gatewayTopic } from '../uplink/topics.js';
import { CloudChannel, type CloudChannelStatus } from '../cloud/cloud-channel.js';
import { CloudKeyring } from '../cloud/signed-message.js';
import { BleService, type BleStatus } from '../ble/ble-service.js';
import { TapVerifier } from '../ble/tap-verifier.js';
import { Kiosk } from '../kiosk/kiosk.js';
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
  /** BLE readers (adapter state and the fix when unusable), presence and tap counters; null without BLE readers. */
  readonly ble: BleStatus | null;
  /** Whether the wall clock is believed, and how often it jumped. */
  readonly clock: { trusted: boolean; synchronised: boolean | null; jumps: number; policy: string };
  /** Wi-Fi check-in (RADIUS); null when config wifi is absent. */
  readonly wifi: WifiStatus | null;
}

const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** One decision as `gatehouse tail` shows it: who, where, what and why; a fingerprint, never the value. */
function tailLine(result: AccessResult, source: AccessSource, db: Db): Record<string, unknown> {
  const person = result.decision.person;
  const name = person === null ? null : (db.prepare<[string], { name: string }>('SELECT name FROM people WHERE id = ?').get(person.id)?.name ?? null);
  return {
    at: new Date(result.event?.createdAt ?? Date.now()).toISOString(),
    reader: source.id,
    channel: source.channel,
    door: source.doorId,
    outcome: result.decision.outcome,
    reason: result.decision.reason,
    person: person?.id ?? null,
    name,
    checkin: result.decision.checkin,
    fingerprint: result.fingerprint,
    seq: result.event?.seq ?? null,
  };
}

const scheduleOf = (door: DoorConfig, config: GatehouseConfig) =>
  door.schedule === undefined ? null : (config.schedules[door.schedule] ?? null);

export class Gateway {
  readonly bootId: string;
  #loaded: LoadedConfig;
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
  /** Relay supervisors by door id. */
  readonly #relays = new Map<string, Supervisor<RelayDriver>>();
  /** Door contact and REX inputs, by door id and role. */
  #inputs: { doorId: string; role: 'contact' | 'rex'; handle: InputHandle; supervisor: Supervisor<InputDriver> }[] = [];
  readonly #doorEvents: DoorEventJournal;
  readonly #readers: { config: ReaderConfig; handle: ReaderHandle; supervisor: Supervisor<ReaderHandle['driver']> }[] = [];
  /** Kept for reloads: relays sharing a board's port must come from the same factory. */
  readonly #drivers: DriverFactory;
  readonly #hasher: CredentialHasher;
  readonly #uplink: Uplink;
  readonly #cloud: CloudChannel | null;
  readonly #resyncListeners = new Set<(reason: string) => void>();
  readonly #control: ControlServer;
  readonly clock: ClockWatch;
  readonly autoCheckout: AutoCheckout;
  readonly conflicts: ConflictReporter;
  readonly ble: BleService | null;
  /** The check-in kiosk (config kiosk); null when not configured. */
  readonly kiosk: Kiosk | null;
  readonly wifi: WifiService | null;
  #conflictsCheckedFor: number | null | undefined = undefined;
  /** The conflict scan running on the staging worker, if any. */
  #conflictScan: Promise<void> | null = null;
  #policyTimer: NodeJS.Timeout | null = null;
  /** Retained doors-and-occupancy state (and Home Assistant discovery); null without a broker. */
  #siteState: SiteStatePublisher | null = null;
  /** Occupancy also changes without a read (cut-off, inactivity): refreshed every minute too. */
  #siteStateTimer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  readonly #decisionCounters = new DecisionCounters();
  readonly #decisionLatency = new DecisionLatency();
  #loopDelay: LoopDelay | null = null;
  #http: StatusServer | null = null;
  #stopping: Promise<void> | null = null;
  readonly #flusher: WalFlusher | null;
  readonly #checkpoints: BackgroundCheckpoints | null;

  private constructor(loaded: LoadedConfig, logger: Logger, version: string, drivers: DriverFactoryOptions) {
    const { config } = loaded;
    // Before anything is opened: a gateway trusting the published demo key must not run at all.
    if (config.cloud !== undefined) assertDemoKeyConfinedToDemo(config.site.id, config.cloud.publicKeys);
    this.#loaded = loaded;
    this.#log = logger;
    this.#version = version;
    this.bootId = randomUUID();

    this.db = openDatabase(config.store.path, { logger });
    const hasher = new CredentialHasher(loaded.siteKey);
    this.#hasher = hasher;
    this.cache = new CredentialCache(this.db, hasher);
    this.sessions = new CheckinSessions(this.db);
    // Commits are made durable off the event loop; events are published only once they are (store/wal-flusher.ts).
    this.#flusher = config.store.path === ':memory:' ? null : new WalFlusher(config.store.path);
    // Checkpoints, with their fsyncs, off the event loop too (store/checkpointer.ts).
    this.#checkpoints = startBackgroundCheckpoints(this.db, logger);
    // With a cloud, an event is delivered when the cloud says it stored it, not when the broker has it.
    this.journal = new Journal(this.db, this.bootId, {
      delivery: config.cloud === undefined ? 'puback' : 'cloud-ack',
      ...(this.#flusher === null ? {} : { durability: this.#flusher }),
      onDurabilityError: (error, retryInMs) =>
        logger.error({ err: error, retryInMs }, 'cannot flush the database to disk: events wait unpublished until it works'),
    });
    mirrorLayout(this.db, config, Date.now());
    const modes = doorModes(this.db);
    this.#drivers = createDriverFactory(logger, {
      hidBackend: config.hid.backend,
      osdpBuses: config.osdp?.buses ?? {},
      // Secure channel keys are secrets of this installation: next to the database, never in it.
      osdpKeysFile: config.store.path === ':memory:' ? null : join(dirname(config.store.path), 'osdp-keys.json'),
      ...drivers,
    });

    this.#doorEvents = journalDoorEvents({
      journal: this.journal,
      topic: doorEventTopic(config.mqtt?.topicPrefix ?? 'gatehouse/v1', config.gateway.id),
      siteId: config.site.id,
      gatewayId: config.gateway.id,
      logger,
    });
    for (const door of config.doors) this.#addDoor(door, config, modes.get(door.id) ?? 'normal');

    this.clock = new ClockWatch();
    // A running visitor token keeps the time it had left (durations are monotonic).
    followClockJumps(this.clock, this.sessions, logger);
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

    this.kiosk =
      config.kiosk === undefined
        ? null
        : new Kiosk(config.kiosk, {
            siteId: config.site.id,
            siteName: config.site.name ?? config.site.id,
            gatewayId: config.gateway.id,
            registrationTopic: gatewayTopic(topicPrefix, config.gateway.id, 'events/registration'),
            db: this.db,
            hasher,
            cache: this.cache,
            sessions: this.sessions,
            journal: this.journal,
            pipeline: this.pipeline,
            logger,
          });
    for (const reader of config.readers) this.#readers.push(this.#createReader(reader));

    this.ble =
      config.ble.readers.length === 0
        ? null
        : new BleService({
            config: config.ble,
            pipeline: this.pipeline,
            hasher,
            sessions: this.sessions,
            autoCheckout: this.autoCheckout,
            verifier: new TapVerifier(this.db, hasher, this.cache),
            logger,
            nobleModule: drivers.nobleModule,
            env: drivers.bleEnv,
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


    this.#uplink = createUplink({
      config: config.mqtt,
      password: loaded.secrets.mqttPassword,
      siteId: config.site.id,
      gatewayId: config.gateway.id,
      bootId: this.bootId,
      version,
      journal: this.journal,
      logger,
      devices: () => this.#deviceAvailability(),
    });
    const link = this.#uplink.link;
    if (link !== null) {
      const topicPrefixOf = config.mqtt?.topicPrefix ?? 'gatehouse/v1';
      const siteState = new SiteStatePublisher({
        link,
        topic: gatewayTopic(topicPrefixOf, config.gateway.id, 'state'),
        build: () => this.#siteStateNow(),
        logger,
      });
      this.pipeline.onDecision(() => siteState.changed());
      if (config.homeAssistant.discovery) {
        const messages = discoveryMessages({
          discoveryPrefix: config.homeAssistant.discoveryPrefix,
          gatewayId: config.gateway.id,
          siteName: config.site.name ?? config.site.id,
          version,
          stateTopic: gatewayTopic(topicPrefixOf, config.gateway.id, 'state'),
          statusTopic: gatewayTopic(topicPrefixOf, config.gateway.id, 'status'),
          doors: config.doors.map((d) => ({ id: d.id, name: d.name ?? d.id, hasContact: d.contact !== undefined })),
        });
        siteState.alsoOnConnect(() => {
          for (const m of messages) {
            link.publish(m.topic, m.payload, { retain: true }).catch((error: unknown) => logger.debug({ err: error }, 'discovery config not published; sent again on the next connect'));
          }
        });
      }
      this.#siteState = siteState;
    }
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
    this.pipeline.onDecision((result) => {
      this.#decisionCounters.record(result);
      this.#decisionLatency.record(result);
    });
    if (config.http.enabled) {
      this.#loopDelay = new LoopDelay();
      this.#http = new StatusServer({
        host: config.http.host,
        port: config.http.port,
        token: loaded.secrets.httpToken,
        source: { statusJson: () => this.status(), metricsText: () => this.metricsText(), decisionsJson: () => this.recentDecisions(50) },
        logger,
      });
    }
  }

  /** Prometheus text for /metrics. */
  metricsText(): string {
    return renderMetrics([
      ...statusFamilies(this.status(), Date.now()),
      ...this.#decisionCounters.families(),
      ...this.#decisionLatency.families(),
      ...(this.#loopDelay?.families() ?? []),
    ]);
  }

  /**
   * The latest access decisions from the journal, newest first, as the status
   * page shows them: reader, door, outcome, reason, who; a fingerprint, never a value.
   */
  recentDecisions(limit: number): { at: string; reader: string; channel: string; door: string | null; outcome: string; reason: string; person: string | null; name: string | null; checkin: string; fingerprint: string }[] {
    const nameOf = this.db.prepare<[string], { name: string }>('SELECT name FROM people WHERE id = ?');
    return this.journal
      .recentOfType('access', limit)
      .flatMap((entry) => {
        const parsed = accessEventSchema.safeParse(JSON.parse(entry.payload));
        if (!parsed.success) return [];
        const e = parsed.data;
        return [
          {
            at: e.ts,
            reader: e.readerId,
            channel: e.channel,
            door: e.doorId,
            outcome: e.decision.outcome,
            reason: e.decision.reason,
            person: e.person?.id ?? null,
            name: e.person === null ? null : (nameOf.get(e.person.id)?.name ?? null),
            checkin: e.checkin,
            fingerprint: e.credential.fingerprint,
          },
        ];
      });
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
      gateway.#checkConflictsNow();
      gateway.#policyTimer = setInterval(() => gateway.#checkConflicts(), 10_000);
      gateway.#policyTimer.unref();
      // Doors first: each relay writes its locked state as soon as it opens.
      for (const relay of gateway.#relays.values()) relay.start();
      for (const input of gateway.#inputs) input.supervisor.start();
      for (const door of gateway.doors.values()) door.start();
      // Before any read can arrive, not before the doors' boot state.
      gateway.#warmUpDecisions();
      for (const reader of gateway.#readers) reader.supervisor.start();
      gateway.ble?.start();
      await gateway.wifi?.start();
      gateway.#cloud?.start();
      gateway.#siteState?.start();
      gateway.#siteStateTimer = setInterval(() => gateway.#siteState?.changed(), 60_000);
      gateway.#siteStateTimer.unref();
      gateway.#uplink.start();
      await gateway.#control.start();
      await gateway.#http?.start();
      await gateway.kiosk?.server.start();
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

  /**
   * The decision path's cold start, paid before the readers open rather than
   * by the first member (AccessPipeline.warmUp). Only a speed-up: if it
   * fails, the doors still open, so it is logged and the start goes on.
   */
  #warmUpDecisions(): void {
    try {
      this.pipeline.warmUp(this.#readers.map((r) => sourceOfReader(r.config)));
    } catch (error) {
      this.#log.warn({ err: error }, 'decision warm-up failed; the first read after this start may be slower');
    }
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
    await this.#http?.stop().catch(() => undefined);
    this.#loopDelay?.stop();
    await this.kiosk?.server.stop().catch(() => undefined);
    await Promise.all(this.#readers.map((r) => r.supervisor.stop()));
    await this.ble?.stop();
    await this.wifi?.stop();
    this.#codes.guard.close();
    await Promise.all([...this.doors.values()].map((d) => d.shutdown()));
    await Promise.all([...this.#relays.values()].map((r) => r.stop()));
    await Promise.all(this.#inputs.map((i) => i.supervisor.stop()));
    this.#cloud?.stop();
    await this.sync.stop();
    await this.#conflictScan;
    if (this.#siteStateTimer !== null) clearInterval(this.#siteStateTimer);
    this.#siteState?.stop();
    await this.#uplink.stop();
    this.journal.close();
    await this.#flusher?.close();
    await this.#checkpoints?.stop();
    this.db.close();
    this.#log.info({ bootId: this.bootId }, 'gatehouse stopped');
  }

  /**
   * Resolves when every door is in its boot state: each relay's first open
   * attempt finished and, where it opened, the locked level written. READY=1 waits for this.
   */
  async doorsInBootState(): Promise<void> {
    await Promise.all([...this.doors.values()].map((door) => door.bootSettled()));
  }

  /**
   * Local health for the systemd watchdog: the event loop ran (this is called
   * from a timer) and the store answers. Never the broker or the internet, and
   * never a missing device: those are supervised and must not restart the process.
   */
  health(): { ok: true } | { ok: false; reason: string } {
    try {
      this.db.prepare('SELECT count(*) FROM sync_state').get();
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: `store: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  /** One line for systemd's STATUS= (systemctl status gatehouse). */
  statusLine(): string {
    const doors = [...this.doors.values()];
    const relaysOnline = [...this.#relays.values()].filter((r) => r.state === 'online').length;
    const readersOnline = this.#readers.filter((r) => r.supervisor.state === 'online').length;
    const uplink = this.#uplink.status();
    const depth = this.journal.depth();
    return [
      `${doors.length} door(s), ${doors.filter((d) => d.state === 'unlocked').length} unlocked, relays ${relaysOnline}/${this.#relays.size} online`,
      `readers ${readersOnline}/${this.#readers.length} online`,
      `broker ${uplink.state}`,
      `${depth.pending} event(s) queued`,
    ].join('; ');
  }

  /**
   * SIGHUP: apply a new, already validated configuration as far as it can
   * change while running. Only the drivers whose settings changed restart;
   * what needs a restart is reported and left unchanged.
   */
  async reload(next: LoadedConfig): Promise<ReloadPlan> {
    const plan = planReload(this.#loaded, next);
    const config = next.config;
    if (plan.logLevel !== null) setLogLevel(this.#log, plan.logLevel);
    mirrorLayout(this.db, config, Date.now());
    const modes = doorModes(this.db);

    // Readers first: a reader of a removed door must stop before its door goes.
    const readerGone = new Set([...plan.readers.removed, ...plan.readers.changed.map((r) => r.id)]);
    for (let i = this.#readers.length - 1; i >= 0; i--) {
      const reader = this.#readers[i];
      if (reader === undefined || !readerGone.has(reader.config.id)) continue;
      this.#readers.splice(i, 1);
      await reader.supervisor.stop();
    }
    const doorGone = [...plan.doors.removed, ...plan.doors.relayChanged.map((d) => d.id)];
    for (const id of doorGone) await this.#removeDoor(id);
    for (const door of [...plan.doors.added, ...plan.doors.relayChanged]) {
      this.#addDoor(door, config, modes.get(door.id) ?? 'normal');
      this.#startDoor(door.id);
    }
    for (const door of plan.doors.settingsChanged) {
      this.doors.get(door.id)?.reconfigure(door, scheduleOf(door, config));
    }
    // Schedules changed without the door's own entry changing are covered by settingsChanged.
    for (const reader of [...plan.readers.added, ...plan.readers.changed]) {
      const entry = this.#createReader(reader);
      this.#readers.push(entry);
      entry.supervisor.start();
    }
    // Sections needing a restart keep their old values: the running config is the old one with the live parts replaced.
    const keep = this.#loaded;
    this.#loaded = {
      ...keep,
      warnings: next.warnings,
      config: { ...keep.config, log: config.log, schedules: config.schedules, doors: config.doors, readers: config.readers },
    };
    return plan;
  }

  /** `gatehouse relay test <door>`: one normal pulse, through the door (a locked-down door refuses). */
  relayTest(doorId: string): { door: string; pulseMs: number; relay: string } {
    const door = this.doors.get(doorId);
    if (door === undefined) throw new Error(`no door "${doorId}" (doors: ${[...this.doors.keys()].join(', ') || 'none'})`);
    const status = door.status();
    if (status.mode === 'locked-down') throw new Error(`door "${doorId}" is locked down; release it first`);
    if (status.relay.state !== 'online') throw new Error(`the relay of door "${doorId}" is ${status.relay.state}${status.relay.lastError === null ? '' : ` (${status.relay.lastError})`}`);
    const pulseMs = door.policy().pulseMs;
    this.#log.info({ door: doorId, pulseMs }, 'relay test requested');
    door.unlock(pulseMs);
    return { door: doorId, pulseMs, relay: status.relay.deviceId };
  }

  /** `gatehouse lookup`: who a card or PIN belongs to; the value itself is never returned or logged. */
  lookup(kind: 'card' | 'keypad', value: SecretValue): LookupResult {
    return lookupCredential({ db: this.db, cache: this.cache, hasher: this.#hasher }, kind, value, Date.now());
  }

  /** `gatehouse outbox`: the journal entries not yet delivered, oldest first. */
  outbox(limit: number): { depth: GatewayStatusReport['journal']; oldestAgeS: number | null; entries: { seq: number; type: string; createdAt: string; publishedAt: string | null; attempts: number }[] } {
    const depth = this.status().journal;
    return {
      depth,
      oldestAgeS: depth.oldestPendingAt === null ? null : Math.max(0, Math.round((Date.now() - Date.parse(depth.oldestPendingAt)) / 1000)),
      entries: this.journal.pending(0, limit).map((e) => ({
        seq: e.seq,
        type: e.type,
        createdAt: new Date(e.createdAt).toISOString(),
        publishedAt: e.publishedAt === null ? null : new Date(e.publishedAt).toISOString(),
        attempts: e.attempts,
      })),
    };
  }

  /** `gatehouse outbox retry`: send every undelivered event again now. */
  outboxRetry(): ReturnType<Uplink['redeliver']> {
    return this.#uplink.redeliver();
  }

  #addDoor(door: DoorConfig, config: GatehouseConfig, mode: DoorMode): void {
    const relay = this.#watched(new Supervisor(this.#drivers.relay(door), { logger: this.#log }));
    this.#relays.set(door.id, relay);
    const input = (role: 'contact' | 'rex'): Supervisor<InputDriver> | null => {
      const inputConfig = door[role];
      if (inputConfig === undefined) return null;
      const handle = this.#drivers.input(door, role, inputConfig);
      const supervisor = this.#watched(new Supervisor(handle.driver, { logger: this.#log }));
      this.#inputs.push({ doorId: door.id, role, handle, supervisor });
      return supervisor;
    };
    const controller = new DoorController({
      config: door,
      relay,
      contact: input('contact'),
      rex: input('rex'),
      schedule: scheduleOf(door, config),
      unlockSchedule: door.unlockSchedule === undefined ? null : (config.schedules[door.unlockSchedule] ?? null),
      timezone: config.site.timezone,
      mode,
      logger: this.#log,
      onEvent: this.#doorEvents.sink,
    });
    controller.onChange(() => this.#siteState?.changed());
    this.doors.set(door.id, controller);
  }

  /** The retained `state` topic: doors and occupancy as they are now. */
  #siteStateNow(): SiteState {
    const { config } = this.#loaded;
    return {
      schema: 'gatehouse.state/1',
      gatewayId: config.gateway.id,
      siteId: config.site.id,
      ts: new Date().toISOString(),
      doors: [...this.doors.values()].map((d) => {
        const s = d.status();
        return { id: s.id, name: s.name, lock: s.lock, mode: s.mode, open: s.contact?.active ?? null, alarm: s.alarm };
      }),
      occupancy: this.sessions.occupancy(),
    };
  }

  /** Start a door added by a reload: relay, inputs, unlock schedule. */
  #startDoor(id: string): void {
    this.#relays.get(id)?.start();
    for (const input of this.#inputs) if (input.doorId === id) input.supervisor.start();
    this.doors.get(id)?.start();
  }

  /** Lock the door, close its relay and inputs, forget it. */
  async #removeDoor(id: string): Promise<void> {
    await this.doors.get(id)?.shutdown();
    await this.#relays.get(id)?.stop();
    const inputs = this.#inputs.filter((i) => i.doorId === id);
    await Promise.all(inputs.map((i) => i.supervisor.stop()));
    this.#inputs = this.#inputs.filter((i) => i.doorId !== id);
    this.doors.delete(id);
    this.#relays.delete(id);
  }

  /** Every device's state change republishes the retained MQTT status (per-device availability). */
  #watched<D extends DeviceDriver>(supervisor: Supervisor<D>): Supervisor<D> {
    supervisor.onChange(() => this.#uplink.devicesChanged());
    return supervisor;
  }

  #deviceAvailability(): DeviceAvailability[] {
    const entry = (kind: DeviceAvailability['kind'], id: string, s: DeviceStatus): DeviceAvailability => ({
      id,
      kind,
      state: s.state,
      since: new Date(s.since).toISOString(),
      lastError: s.lastError,
    });
    return [
      ...this.#readers.map((r) => entry('reader', r.config.id, r.supervisor.status())),
      ...[...this.#relays].map(([doorId, relay]) => entry('relay', `door:${doorId}`, relay.status())),
      ...this.#inputs.map((i) => entry('input', `door:${i.doorId}:${i.role}`, i.supervisor.status())),
    ];
  }

  #createReader(reader: ReaderConfig): { config: ReaderConfig; handle: ReaderHandle; supervisor: Supervisor<ReaderHandle['driver']> } {
    const handle = this.#drivers.reader(reader);
    // Tamper and power reports are alarms, published like duress and lockouts.
    handle.driver.onDeviceEvent?.((event) => this.#codes.alarms.device({ readerId: reader.id, doorId: reader.door ?? null, ...event }));
    // A QR scanner at the kiosk: its reads are visitor codes decided at the kiosk.
    if (this.kiosk !== null && this.#loaded.config.kiosk?.scanners.includes(reader.id) === true) this.kiosk.api.attachScanner(reader.id, handle.driver);
    else this.pipeline.attach(reader, handle.driver);
    return { config: reader, handle, supervisor: this.#watched(new Supervisor(handle.driver, { logger: this.#log })) };
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
        writeFailures: this.pipeline.journalFailures + this.#doorEvents.failures(),
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
      ble: this.ble?.status() ?? null,
      clock: { ...this.clock.status(), policy: config.time.unsyncedClock },
      wifi: this.wifi?.status() ?? null,
    };
  }

  /** At start, before any reader or link runs: the scan runs here, and the status has its answer at once. */
  #checkConflictsNow(): void {
    try {
      this.#conflictsCheckedFor = this.cache.state().appliedAt;
      this.conflicts.check();
    } catch (error) {
      this.#log.error({ err: error }, 'could not check for credential conflicts');
    }
  }

  /** Look for shared credentials whenever the data in force has changed (after a sync): scanned by the staging worker, off the event loop. */
  #checkConflicts(): void {
    if (this.#conflictScan !== null) return;
    let appliedAt: number | null;
    try {
      appliedAt = this.cache.state().appliedAt;
    } catch (error) {
      this.#log.error({ err: error }, 'could not check for credential conflicts');
      return;
    }
    if (appliedAt === this.#conflictsCheckedFor) return;
    this.#conflictScan = this.sync.engine
      .conflicts()
      .then((conflicts) => {
        if (this.#stopping !== null) return;
        this.#conflictsCheckedFor = appliedAt;
        this.conflicts.report(conflicts);
      })
      .catch((error: unknown) => {
        // Tried again at the next tick.
        if (!(error instanceof AbortedError)) this.#log.error({ err: error }, 'could not check for credential conflicts');
      })
      .finally(() => {
        this.#conflictScan = null;
      });
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

  /** Set a simulated door input (sim drivers only): contact open/closed, or a REX press. */
  simulateInput(doorId: string, role: 'contact' | 'rex', action: 'open' | 'closed' | 'press'): DoorStatus {
    const input = this.#inputs.find((i) => i.doorId === doorId && i.role === role);
    if (input?.handle.simulate === undefined) throw new Error(`door "${doorId}" has no simulated ${role} input`);
    if (!input.handle.simulate(action)) throw new Error(`the ${role} input of door "${doorId}" is not online`);
    const door = this.doors.get(doorId);
    if (door === undefined) throw new Error(`no door "${doorId}"`);
    return door.status();
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

  #onKioskControl(request: Extract<ControlRequest, { op: 'kiosk-pair' | 'kiosk-list' | 'kiosk-revoke' }>): unknown {
    const kiosk = this.kiosk;
    if (kiosk === null) throw new Error('the kiosk is not configured: add a kiosk section (kiosk.listen) to the config');
    switch (request.op) {
      case 'kiosk-pair': {
        const issued = kiosk.pair(request.name);
        return { code: issued.code, name: request.name, expiresAt: new Date(issued.expiresAt).toISOString(), url: kiosk.server.url };
      }
      case 'kiosk-list':
        return kiosk.list().map((k) => ({
          id: k.id,
          name: k.name,
          createdAt: new Date(k.createdAt).toISOString(),
          lastSeenAt: k.lastSeenAt === null ? null : new Date(k.lastSeenAt).toISOString(),
          revokedAt: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
        }));
      case 'kiosk-revoke':
        if (!kiosk.revoke(request.id)) throw new Error(`no kiosk "${request.id}" (see gatehouse kiosk list)`);
        return { revoked: request.id };
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
      case 'sim-input': {
        const door = this.simulateInput(request.door, request.input, request.action);
        return { door: door.id, state: door.state, mode: door.mode, lock: door.lock, alarm: door.alarm };
      }
      case 'sync-import':
        return this.#startImport(request.path, request.force);
      case 'sync-status':
        return this.sync.status();
      case 'sync-request': {
        const before = this.sync.status();
        const outcome = this.sync.requestSnapshot('command');
        if (outcome === null) throw new Error('no broker or no cloud keys configured: there is nobody to ask for a snapshot');
        // What the CLI needs to follow the answer: it is done once one more snapshot was applied.
        return { outcome, version: before.version, snapshotsApplied: before.applied.snapshots };
      }
      case 'kiosk-pair':
      case 'kiosk-list':
      case 'kiosk-revoke':
        return this.#onKioskControl(request);
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
      case 'tail':
        return new ControlStream((emit) => this.pipeline.onDecision((result, source) => emit(tailLine(result, source, this.db))));
      case 'lookup':
        return this.lookup(request.kind, new SecretValue(request.value));
      case 'outbox':
        return this.outbox(request.limit);
      case 'outbox-retry':
        return this.outboxRetry();
      case 'relay-test':
        return this.relayTest(request.door);
    }
  }
}
