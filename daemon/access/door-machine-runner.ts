/**
 * The door state machine's shell: keeps its state, arms one timer for its
 * next deadline and reports every step. Time is monotonic (performance.now,
 * setTimeout): a wall-clock jump neither shortens nor extends a pulse or a
 * held-open count.
 */
import {
  doorPhase,
  initialDoorState,
  lockReleased,
  nextDeadline,
  stepDoor,
  type DoorInput,
  type DoorMachineConfig,
  type DoorMachineEvent,
  type DoorMachineState,
  type DoorMode,
  type DoorPhase,
} from './door-state-machine.js';

export interface DoorStepReport {
  readonly before: DoorMachineState;
  readonly after: DoorMachineState;
  readonly events: readonly DoorMachineEvent[];
  /** The lock's release changed in this step: the relay must be written. */
  readonly lockChanged: boolean;
}

export class DoorMachineRunner {
  readonly #config: DoorMachineConfig;
  readonly #onStep: (report: DoorStepReport) => void;
  readonly #now: () => number;
  #state: DoorMachineState;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: {
    config: DoorMachineConfig;
    mode: DoorMode;
    onStep: (report: DoorStepReport) => void;
    /** Monotonic clock in ms. */
    now?: () => number;
  }) {
    this.#config = options.config;
    this.#onStep = options.onStep;
    this.#now = options.now ?? (() => performance.now());
    this.#state = initialDoorState(options.mode);
  }

  get state(): DoorMachineState {
    return this.#state;
  }

  get phase(): DoorPhase {
    return doorPhase(this.#state);
  }

  get lockReleased(): boolean {
    return lockReleased(this.#state);
  }

  /** Milliseconds left of a running pulse, or null. */
  pulseLeftMs(): number | null {
    return this.#state.pulseUntil === null ? null : Math.max(0, this.#state.pulseUntil - this.#now());
  }

  send(input: DoorInput): void {
    if (this.#stopped) return;
    const before = this.#state;
    const { state, events } = stepDoor(this.#config, before, input, this.#now());
    this.#state = state;
    this.#arm();
    if (state === before && events.length === 0) return;
    this.#onStep({ before, after: state, events, lockChanged: lockReleased(before) !== lockReleased(state) });
  }

  /** Cancel the timer and ignore further inputs. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const deadline = nextDeadline(this.#config, this.#state);
    if (deadline === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.send({ type: 'tick' });
    }, Math.max(0, Math.ceil(deadline - this.#now())));
  }
}
