/**
 * Code-guessing lockout, the pure part: the state of one source (a keypad, a
 * RADIUS client, a kiosk) and how wrong codes and time change it. All times
 * are monotonic milliseconds (performance.now in the shell), never the wall
 * clock: setting the clock back must not lift a lockout, setting it forward
 * must not end one early.
 *
 *   - `attempts` wrong codes within `windowMs` lock the source out;
 *   - the n-th lockout in a row lasts lockoutMs × growthFactor^(n-1), at most
 *     maxLockoutMs;
 *   - the count of wrong codes starts again after each lockout;
 *   - the escalation level returns to zero only after `resetAfterMs` without
 *     a wrong code. A correct code does not reset anything: otherwise an
 *     attacker with one valid PIN of their own could type it between guesses.
 */
import type { Decision, DecisionReason } from './types.js';

export interface GuessingPolicy {
  readonly attempts: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  readonly growthFactor: number;
  readonly maxLockoutMs: number;
  readonly resetAfterMs: number;
}

export interface LockoutState {
  /** Monotonic times of the wrong codes since the last lockout, within the window. */
  readonly failures: readonly number[];
  /** When the current lockout ends; null when not locked out. */
  readonly lockedUntil: number | null;
  /** When the current lockout started; null when not locked out. */
  readonly lockedAt: number | null;
  /** Lockouts in a row so far (0: none since the last quiet period). */
  readonly level: number;
  /** Monotonic time of the last wrong code; null before the first. */
  readonly lastFailureAt: number | null;
}

export const initialLockoutState: LockoutState = { failures: [], lockedUntil: null, lockedAt: null, level: 0, lastFailureAt: null };

export interface LockoutStart {
  readonly durationMs: number;
  /** 1 for the first lockout in a row, 2 for the next (doubled), ... */
  readonly level: number;
  readonly failures: number;
}

export interface LockoutEnd {
  readonly durationMs: number;
  readonly level: number;
}

/** The lockout length at escalation level `level` (1-based). */
export function lockoutDuration(policy: GuessingPolicy, level: number): number {
  const raw = policy.lockoutMs * policy.growthFactor ** Math.max(0, level - 1);
  return Math.min(policy.maxLockoutMs, Math.round(raw));
}

export const isLockedOut = (state: LockoutState, now: number): boolean => state.lockedUntil !== null && now < state.lockedUntil;

/** End a lockout whose time is up. `ended` is set once, on the call that ends it. */
export function expireLockout(state: LockoutState, now: number): { state: LockoutState; ended: LockoutEnd | null } {
  if (state.lockedUntil === null || now < state.lockedUntil || state.lockedAt === null) return { state, ended: null };
  return {
    state: { ...state, lockedUntil: null, lockedAt: null },
    ended: { durationMs: state.lockedUntil - state.lockedAt, level: state.level },
  };
}

/**
 * One wrong code. While locked out nothing is counted (the source is refused
 * before its codes are looked at, so they are not guesses that could succeed).
 */
export function registerFailure(
  state: LockoutState,
  now: number,
  policy: GuessingPolicy,
): { state: LockoutState; started: LockoutStart | null } {
  if (isLockedOut(state, now)) return { state, started: null };
  const quiet = state.lastFailureAt !== null && now - state.lastFailureAt >= policy.resetAfterMs;
  const level = quiet ? 0 : state.level;
  const failures = [...state.failures.filter((t) => now - t < policy.windowMs), now];
  if (failures.length < policy.attempts) {
    return { state: { failures, lockedUntil: null, lockedAt: null, level, lastFailureAt: now }, started: null };
  }
  const nextLevel = level + 1;
  const durationMs = lockoutDuration(policy, nextLevel);
  return {
    state: { failures: [], lockedUntil: now + durationMs, lockedAt: now, level: nextLevel, lastFailureAt: now },
    started: { durationMs, level: nextLevel, failures: failures.length },
  };
}

/** Nothing left to remember: no lockout, no recent failure, no escalation that could still matter. */
export function isIdle(state: LockoutState, now: number, policy: GuessingPolicy): boolean {
  if (state.lockedUntil !== null) return false;
  if (state.lastFailureAt === null) return true;
  const age = now - state.lastFailureAt;
  return age >= policy.windowMs && (state.level === 0 || age >= policy.resetAfterMs);
}

/** Whether a decision on a typed code counts as a wrong guess. Card reads never count. */
export const isWrongCode = (reason: DecisionReason): boolean => reason === 'unknown_credential' || reason === 'ambiguous_credential';

/** The decision for a code from a locked-out source: refused before any lookup. */
export const lockedOutDecision: Decision = { outcome: 'denied', reason: 'locked_out', person: null, checkin: 'none', effects: [], flags: [], validUntil: null };
