/**
 * One door: the state machine (door-state-machine.ts) wired to its relay, its
 * contact and REX inputs, its unlock schedule and the event journal, and a
 * defined relay state at every moment of the daemon's life.
 *
 * Defined states (see docs/door-states.md):
 *   boot      the relay is written as soon as it opens: locked, or released in
 *             mode unlocked; inputs count only once they have reported (a door
 *             found open at boot is "open", never "forced")
 *   running   the machine decides; every change of its lock level is written
 *   relay lost/replugged   the intended level is written again when it comes back
 *   shutdown  locked (fail-secure strike released; fail-safe maglock energised)
 *   crash / power loss     the board de-energises: a fail-secure strike locks,
 *                          a fail-safe maglock releases (required for egress)
 *
 * Modes: the commanded mode (remote lockdown, release, hold-open; persisted
 * by the caller) and the unlock schedule give the effective mode. Locked-down
 * wins over everything and cancels the running window's scheduled unlock.
 */
import type { DoorConfig } from '../config/schema.js';
import type { InputDriver, RelayCounters, RelayDriver } from '../../drivers/types.js';
import type { DeviceStatus, Supervisor } from '../runtime/supervisor.js';
import type { Logger } from '../runtime/logger.js';
import type { DoorMode, DoorPolicy, WeeklySchedule } from '../engine/types.js';
import { isWithinSchedule } from '../engine/schedule.js';
import { siteLocalTime } from '../engine/site-time.js';
import { DoorMachineRunner, type DoorStepReport } from './door-machine-runner.js';
import type { DoorAlarm, DoorPhase } from './door-state-machine.js';
import type { DoorEventSink } from './door-events.js';

export type DoorState = DoorPhase;

/** The scheduled unlock: outside a window, waiting for the window's first granted person, or holding the door unlocked. */
export type ScheduledUnlock = 'off' | 'waiting-first-person' | 'active';

export interface DoorInputStatus {
  /** true = active (contact open / button pressed); null before the first report or while lost. */
  readonly active: boolean | null;
  readonly device: DeviceStatus;
}

export interface DoorStatus {
  readonly id: string;
  readonly name: string;
  /** locked, unlocked, open, held-open-prealarm, held-open or forced-open. */
  readonly state: DoorState;
  /** Effective mode: the commanded mode, or unlocked by the unlock schedule. */
  readonly mode: DoorMode;
  /** Mode set by remote command (persisted). */
  readonly commandedMode: DoorMode;
  readonly scheduledUnlock: ScheduledUnlock | null;
  readonly lockType: DoorConfig['lockType'];
  /** Whether the relay is at its unlocked level. */
  readonly lock: 'locked' | 'unlocked';
  readonly alarm: DoorAlarm | null;
  /** Epoch ms at which a running pulse ends, or null. */
  readonly unlockedUntil: number | null;
  readonly contact: DoorInputStatus | null;
  readonly rex: DoorInputStatus | null;
  readonly relay: ReturnType<Supervisor<RelayDriver>['status']>;
  /** Commands sent to the relay, failures, last error and read-back state; null for drivers without counters. */
  readonly relayCounters: RelayCounters | null;
  readonly lastCommandError: string | null;
}

/** How often the unlock schedule is looked at; windows are whole minutes. */
const SCHEDULE_CHECK_MS = 15_000;

export class DoorController {
  readonly id: string;
  #config: DoorConfig;
  readonly #relay: Supervisor<RelayDriver>;
  readonly #contact: Supervisor<InputDriver> | null;
  readonly #rex: Supervisor<InputDriver> | null;
  #schedule: WeeklySchedule | null;
  readonly #unlockSchedule: WeeklySchedule | null;
  readonly #timezone: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onEvent: DoorEventSink;
  readonly #machine: DoorMachineRunner;
  #commandedMode: DoorMode;
  #scheduled: ScheduledUnlock = 'off';
  #scheduleTimer: NodeJS.Timeout | null = null;
  #lastCommandError: string | null = null;
  #written: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly #changeListeners = new Set<() => void>();

  constructor(options: {
    config: DoorConfig;
    relay: Supervisor<RelayDriver>;
    contact?: Supervisor<InputDriver> | null;
    rex?: Supervisor<InputDriver> | null;
    schedule: WeeklySchedule | null;
    unlockSchedule?: WeeklySchedule | null;
    /** Site time zone, for the unlock schedule. */
    timezone?: string;
    mode: DoorMode;
    logger: Logger;
    onEvent?: DoorEventSink;
    /** Wall clock (epoch ms): event timestamps and the unlock schedule. Pulses and alarms use the monotonic clock. */
    now?: () => number;
  }) {
    this.id = options.config.id;
    this.#config = options.config;
    this.#relay = options.relay;
    this.#contact = options.contact ?? null;
    this.#rex = options.rex ?? null;
    this.#schedule = options.schedule;
    this.#unlockSchedule = options.unlockSchedule ?? null;
    this.#timezone = options.timezone ?? 'UTC';
    this.#commandedMode = options.mode;
    this.#log = options.logger.child({ door: this.id });
    this.#now = options.now ?? Date.now;
    this.#onEvent = options.onEvent ?? (() => undefined);
    const config = options.config;
    this.#machine = new DoorMachineRunner({
      config: {
        heldOpenMs: config.heldOpenS * 1000,
        preAlarmMs: config.preAlarmS * 1000,
        rexMode: config.rexMode,
        rexMs: config.pulseMs,
      },
      mode: this.#effectiveMode(),
      onStep: (report) => this.#onStep(report),
    });
    this.#evaluateSchedule();
    // Whenever the relay (re)opens, write the state we intend, starting at boot.
    this.#relay.onOnline(() => this.#apply());
    this.#wireInput(this.#contact, 'contact', (active) => this.#machine.send({ type: 'contact', level: active ? 'open' : 'closed' }));
    this.#wireInput(this.#rex, 'rex', (active) => {
      if (active) this.#machine.send({ type: 'rex' });
    });
  }

  get state(): DoorState {
    return this.#stopped ? 'locked' : this.#machine.phase;
  }

  policy(): DoorPolicy {
    return {
      id: this.id,
      pulseMs: this.#config.pulseMs,
      extendedPulseMs: this.#config.extendedPulseMs ?? null,
      mode: this.#machine.state.mode,
      schedule: this.#schedule,
    };
  }

  status(): DoorStatus {
    const left = this.#machine.pulseLeftMs();
    const input = (supervisor: Supervisor<InputDriver> | null): DoorInputStatus | null =>
      supervisor === null
        ? null
        : { active: supervisor.state === 'online' ? supervisor.driver.level : null, device: supervisor.status() };
    return {
      id: this.id,
      name: this.#config.name ?? this.id,
      state: this.state,
      mode: this.#machine.state.mode,
      commandedMode: this.#commandedMode,
      scheduledUnlock: this.#unlockSchedule === null ? null : this.#scheduled,
      lockType: this.#config.lockType,
      lock: this.#unlocked() ? 'unlocked' : 'locked',
      alarm: this.#machine.state.alarm,
      unlockedUntil: left === null || this.#stopped ? null : this.#now() + left,
      contact: input(this.#contact),
      rex: input(this.#rex),
      relay: this.#relay.status(),
      relayCounters: this.#relay.driver.counters?.() ?? null,
      lastCommandError: this.#lastCommandError,
    };
  }

  /**
   * Unlock for `ms` (a grant, or a remote door.unlock), or extend a running
   * pulse to at least `ms` from now. Returns at once. The engine decides who
   * may pass (in locked-down, only the override group); the door honours it.
   * During an unlock-schedule window waiting for its first person, this is
   * that person: the door is then held unlocked for the rest of the window.
   */
  unlock(ms: number): void {
    if (this.#stopped) return;
    if (this.#scheduled === 'waiting-first-person' && this.#commandedMode === 'normal') {
      this.#scheduled = 'active';
      this.#log.info('first person in: scheduled unlock starts');
    }
    this.#machine.send({ type: 'grant', ms });
    this.#syncMode();
  }

  /**
   * Change the commanded mode (remote lockdown, release, hold-open). The
   * caller persists it in the doors table first, so it survives a restart.
   * Entering locked-down relocks at once, cutting a running pulse short, and
   * cancels the running window's scheduled unlock: after a release the window
   * waits for a first person again.
   */
  setMode(mode: DoorMode): void {
    if (this.#commandedMode === mode) return;
    this.#commandedMode = mode;
    this.#log.info({ mode }, 'door mode commanded');
    if (mode === 'locked-down' && this.#scheduled === 'active') this.#scheduled = 'waiting-first-person';
    this.#syncMode();
  }

  /** Start watching the unlock schedule (the gateway calls this once everything is built). */
  start(): void {
    if (this.#unlockSchedule === null || this.#scheduleTimer !== null || this.#stopped) return;
    this.#scheduleTimer = setInterval(() => this.#evaluateSchedule(), SCHEDULE_CHECK_MS);
    this.#scheduleTimer.unref();
  }

  /**
   * Apply reloaded settings (name, pulse, lock type, schedule) on the running
   * door; the relay is the same (a new relay means a new controller). A
   * changed lock type rewrites the relay at once: the same lock state needs
   * the opposite coil level.
   */
  reconfigure(config: DoorConfig, schedule: WeeklySchedule | null): void {
    const lockTypeChanged = config.lockType !== this.#config.lockType;
    this.#config = config;
    this.#schedule = schedule;
    if (lockTypeChanged) this.#apply();
  }

  /**
   * Resolves once the relay's first open attempt has finished and, if it
   * opened, the boot state has been written: what READY=1 waits for. A relay
   * that is missing counts as settled (it is retried in the background).
   */
  async bootSettled(): Promise<void> {
    if (this.#relay.state === 'starting') {
      await new Promise<void>((resolve) => {
        const off = this.#relay.onChange((status) => {
          if (status.state === 'starting') return;
          off();
          resolve();
        });
      });
    }
    // onOnline handlers (which queue the boot write) run right after the change listeners.
    await this.#written;
  }

  /** Lock, wait until the command has been written, and accept nothing further. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    if (this.#scheduleTimer !== null) clearInterval(this.#scheduleTimer);
    this.#scheduleTimer = null;
    this.#machine.stop();
    this.#apply();
    await this.#written;
  }

  #effectiveMode(): DoorMode {
    if (this.#commandedMode !== 'normal') return this.#commandedMode;
    return this.#scheduled === 'active' ? 'unlocked' : 'normal';
  }

  #syncMode(): void {
    this.#machine.send({ type: 'mode', mode: this.#effectiveMode() });
  }

  /** Window opened or closed since the last look (wall clock, site time zone: schedules are wall-clock rules). */
  #evaluateSchedule(): void {
    if (this.#unlockSchedule === null || this.#stopped) return;
    const inWindow = isWithinSchedule(this.#unlockSchedule, siteLocalTime(this.#now(), this.#timezone));
    if (!inWindow) this.#scheduled = 'off';
    else if (this.#scheduled === 'off') {
      // A window opening during a lockdown waits for a first person after the release.
      this.#scheduled = this.#config.firstPersonIn || this.#commandedMode === 'locked-down' ? 'waiting-first-person' : 'active';
    }
    this.#syncMode();
  }

  #wireInput(supervisor: Supervisor<InputDriver> | null, role: 'contact' | 'rex', onLevel: (active: boolean) => void): void {
    if (supervisor === null) return;
    supervisor.driver.onChange((active) => {
      if (!this.#stopped) onLevel(active);
    });
    let faulted = false;
    supervisor.onChange((status) => {
      if (status.state === 'online') faulted = false;
      if (status.state !== 'offline' || faulted || this.#stopped) return;
      // Reported once per loss, not once per retry.
      faulted = true;
      if (role === 'contact') this.#machine.send({ type: 'contact', level: 'unknown' });
      this.#record({ kind: 'input-fault', alarm: null, input: role, openMs: null });
    });
  }

  #onStep(report: DoorStepReport): void {
    if (report.lockChanged) this.#apply();
    for (const event of report.events) this.#record({ kind: event.kind, alarm: event.alarm, input: null, openMs: event.openMs });
    for (const listener of this.#changeListeners) listener();
  }

  /** Called after every step of the door's state machine (lock, contact, alarm or mode changed). */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  #record(event: { kind: Parameters<DoorEventSink>[0]['kind']; alarm: DoorAlarm | null; input: 'contact' | 'rex' | null; openMs: number | null }): void {
    try {
      this.#onEvent({ doorId: this.id, mode: this.#machine.state.mode, at: this.#now(), ...event });
    } catch (error) {
      this.#log.error({ err: error, event: event.kind }, 'door event handler failed');
    }
  }

  #unlocked(): boolean {
    return !this.#stopped && this.#machine.lockReleased;
  }

  /** Energise or release the relay so that the lock matches the machine. */
  #apply(): void {
    if (this.#relay.state !== 'online') return; // re-applied by onOnline when the relay returns
    const unlocked = this.#unlocked();
    // fail-secure strike: power opens it. fail-safe maglock: power holds it shut.
    const energised = this.#config.lockType === 'fail-secure' ? unlocked : !unlocked;
    const write = this.#relay.driver.set(energised).then(
      () => {
        this.#lastCommandError = null;
      },
      (error: unknown) => {
        this.#lastCommandError = error instanceof Error ? error.message : String(error);
        this.#log.error({ err: this.#lastCommandError, unlocked }, 'relay command failed');
      },
    );
    this.#written = this.#written.then(() => write);
  }
}
