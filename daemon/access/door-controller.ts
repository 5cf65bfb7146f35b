/**
 * One door: turns "unlock for N ms" into relay commands and guarantees the
 * door's state at every moment of its life.
 *
 * Defined states (see docs/door-states.md):
 *   boot      locked: as soon as the relay opens, its lock-type's locked level is written
 *   running   unlocked for the pulse, then locked; a second grant extends, never shortens
 *   relay lost/replugged   the intended state is written again when it comes back
 *   shutdown  locked (fail-secure strike released; fail-safe maglock energised)
 *   crash / power loss     the board de-energises: a fail-secure strike locks,
 *                          a fail-safe maglock releases (required for egress)
 *
 * Pulse timing uses setTimeout, which runs on the monotonic clock: a wall-clock
 * jump neither shortens nor extends an open door.
 */
import type { DoorConfig } from '../config/schema.js';
import type { RelayDriver } from '../../drivers/types.js';
import type { Supervisor } from '../runtime/supervisor.js';
import type { Logger } from '../runtime/logger.js';
import type { DoorMode, DoorPolicy, WeeklySchedule } from '../engine/types.js';

export type DoorState = 'locked' | 'unlocked';

export interface DoorStatus {
  readonly id: string;
  readonly name: string;
  readonly state: DoorState;
  readonly mode: DoorMode;
  readonly lockType: DoorConfig['lockType'];
  /** Epoch ms at which a running pulse ends, or null. */
  readonly unlockedUntil: number | null;
  readonly relay: ReturnType<Supervisor<RelayDriver>['status']>;
  readonly lastCommandError: string | null;
}

export class DoorController {
  readonly id: string;
  #config: DoorConfig;
  readonly #relay: Supervisor<RelayDriver>;
  #schedule: WeeklySchedule | null;
  readonly #log: Logger;
  readonly #now: () => number;
  #mode: DoorMode;
  #unlockedUntil: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastCommandError: string | null = null;
  #written: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: {
    config: DoorConfig;
    relay: Supervisor<RelayDriver>;
    schedule: WeeklySchedule | null;
    mode: DoorMode;
    logger: Logger;
    now?: () => number;
  }) {
    this.id = options.config.id;
    this.#config = options.config;
    this.#relay = options.relay;
    this.#schedule = options.schedule;
    this.#mode = options.mode;
    this.#log = options.logger.child({ door: this.id });
    this.#now = options.now ?? Date.now;
    // Whenever the relay (re)opens, write the state we intend, starting with locked at boot.
    this.#relay.onOnline(() => this.#apply());
  }

  get state(): DoorState {
    return this.#unlockedUntil !== null ? 'unlocked' : 'locked';
  }

  policy(): DoorPolicy {
    return { id: this.id, pulseMs: this.#config.pulseMs, mode: this.#mode, schedule: this.#schedule };
  }

  status(): DoorStatus {
    return {
      id: this.id,
      name: this.#config.name ?? this.id,
      state: this.state,
      mode: this.#mode,
      lockType: this.#config.lockType,
      unlockedUntil: this.#unlockedUntil,
      relay: this.#relay.status(),
      lastCommandError: this.#lastCommandError,
    };
  }

  /** Unlock for `ms`, or extend a running unlock to at least `ms` from now. Returns at once. */
  unlock(ms: number): void {
    // A locked-down door opens for nobody, whatever asked: the engine denies
    // reads, and this also covers a remote unlock racing a lockdown.
    if (this.#stopped || this.#mode === 'locked-down') return;
    const until = this.#now() + ms;
    if (this.#unlockedUntil !== null && this.#unlockedUntil >= until) return;
    const wasLocked = this.#unlockedUntil === null;
    this.#unlockedUntil = until;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#relock(), ms);
    if (wasLocked) this.#apply();
  }

  /**
   * Change the door's mode (remote lockdown and release). The caller persists
   * it in the doors table first, so it survives a restart. Entering
   * locked-down relocks an open door at once, cutting a running pulse short.
   * Mode `unlocked` (held open) belongs to the policy work and is not
   * accepted here.
   */
  setMode(mode: Exclude<DoorMode, 'unlocked'>): void {
    if (this.#mode === mode) return;
    this.#mode = mode;
    this.#log.info({ mode }, 'door mode changed');
    if (mode === 'locked-down') this.lock();
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

  /** Lock now (end of pulse, shutdown, lockdown). */
  lock(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#unlockedUntil === null) return;
    this.#unlockedUntil = null;
    this.#apply();
  }

  /** Lock, wait until the command has been written, and accept no further unlocks. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#unlockedUntil = null;
    this.#apply();
    await this.#written;
  }

  #relock(): void {
    this.#timer = null;
    this.#unlockedUntil = null;
    this.#apply();
  }

  /** Energise or release the relay so that the lock matches this.state. */
  #apply(): void {
    if (this.#relay.state !== 'online') return; // re-applied by onOnline when the relay returns
    const unlocked = this.state === 'unlocked';
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
