/**
 * The code-guessing guard shared by every channel that accepts a typed code:
 * keypads (`keypad:<readerId>`), and later Wi-Fi RADIUS (`radius:<client>`)
 * and the kiosk (`kiosk:<id>`). Each source has its own counter; one source's
 * lockout never affects another.
 *
 * A channel asks check() before it looks a code up, refuses the code when the
 * source is locked out, and reports every wrong code with recordFailure().
 * Lockout starts and ends are announced to listeners (the security journal
 * writes and publishes them). An end is announced by a timer at the moment it
 * happens, or by the next check(), whichever comes first.
 *
 * State lives in memory only: a restart forgets counters and lockouts (see
 * docs/policy.md for why that is acceptable). Durations use a monotonic clock.
 */
import {
  expireLockout,
  initialLockoutState,
  isIdle,
  isLockedOut,
  registerFailure,
  type GuessingPolicy,
  type LockoutState,
} from '../engine/lockout.js';

export const defaultGuessingPolicy: GuessingPolicy = {
  attempts: 5,
  windowMs: 10 * 60_000,
  lockoutMs: 60_000,
  growthFactor: 2,
  maxLockoutMs: 30 * 60_000,
  resetAfterMs: 24 * 3_600_000,
};

export type LockoutEvent =
  | { readonly type: 'lockout_started'; readonly source: string; readonly durationMs: number; readonly level: number; readonly failures: number }
  | { readonly type: 'lockout_ended'; readonly source: string; readonly durationMs: number; readonly level: number };

export type GuardVerdict = { readonly locked: false } | { readonly locked: true; readonly remainingMs: number };

export interface LockedSource {
  readonly source: string;
  readonly remainingMs: number;
  readonly level: number;
}

/** Above this many remembered sources, idle ones are swept on the next failure. */
const SWEEP_ABOVE = 256;

export class GuessGuard {
  readonly #policy: GuessingPolicy;
  readonly #now: () => number;
  readonly #sources = new Map<string, LockoutState>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #listeners = new Set<(event: LockoutEvent) => void>();

  constructor(policy: GuessingPolicy = defaultGuessingPolicy, now: () => number = () => performance.now()) {
    this.#policy = policy;
    this.#now = now;
  }

  get policy(): GuessingPolicy {
    return this.#policy;
  }

  /** Whether codes from `source` must be refused now. */
  check(source: string): GuardVerdict {
    const now = this.#now();
    const state = this.#expire(source, now);
    if (state === undefined || !isLockedOut(state, now) || state.lockedUntil === null) return { locked: false };
    return { locked: true, remainingMs: state.lockedUntil - now };
  }

  /** A wrong code from `source` (unknown or ambiguous). Returns the lockout it started, if any. */
  recordFailure(source: string): LockoutEvent | null {
    const now = this.#now();
    const state = this.#expire(source, now) ?? initialLockoutState;
    const { state: next, started } = registerFailure(state, now, this.#policy);
    this.#sources.set(source, next);
    if (this.#sources.size > SWEEP_ABOVE) this.#sweep(now);
    if (started === null) return null;
    const event: LockoutEvent = { type: 'lockout_started', source, ...started };
    this.#schedule(source, started.durationMs);
    this.#emit(event);
    return event;
  }

  /** Sources locked out now (status, tests). */
  locked(): LockedSource[] {
    const now = this.#now();
    const out: LockedSource[] = [];
    for (const [source, state] of this.#sources) {
      if (isLockedOut(state, now) && state.lockedUntil !== null) out.push({ source, remainingMs: state.lockedUntil - now, level: state.level });
    }
    return out;
  }

  onEvent(listener: (event: LockoutEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stop the timers (gateway stopping); pending ends are not announced. */
  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #expire(source: string, now: number): LockoutState | undefined {
    const state = this.#sources.get(source);
    if (state === undefined) return undefined;
    const { state: next, ended } = expireLockout(state, now);
    if (ended === null) return state;
    this.#sources.set(source, next);
    const timer = this.#timers.get(source);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(source);
    this.#emit({ type: 'lockout_ended', source, ...ended });
    return next;
  }

  #schedule(source: string, delayMs: number): void {
    const previous = this.#timers.get(source);
    if (previous !== undefined) clearTimeout(previous);
    const timer = setTimeout(() => {
      this.#timers.delete(source);
      this.#expire(source, this.#now());
      // A timer may fire marginally before the monotonic deadline: try again.
      const state = this.#sources.get(source);
      if (state !== undefined && state.lockedUntil !== null && !this.#timers.has(source)) this.#schedule(source, Math.max(1, state.lockedUntil - this.#now()));
    }, delayMs);
    timer.unref();
    this.#timers.set(source, timer);
  }

  #sweep(now: number): void {
    for (const [source, state] of this.#sources) if (isIdle(state, now, this.#policy)) this.#sources.delete(source);
  }

  #emit(event: LockoutEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
