/**
 * The pure parts of code security: lockout growth, window and expiry; duress
 * schemes. The guard's timers and the pipeline are in test/access.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultGuessingPolicy } from '../../daemon/access/guess-guard.js';
import { duressCodeOf, realPinOf, type DuressScheme } from '../../daemon/engine/duress.js';
import {
  expireLockout,
  initialLockoutState,
  isIdle,
  isLockedOut,
  isWrongCode,
  lockoutDuration,
  registerFailure,
  type GuessingPolicy,
  type LockoutState,
} from '../../daemon/engine/lockout.js';
import { fcOptions } from '../support/fast-check.js';

const policy: GuessingPolicy = {
  attempts: 3,
  windowMs: 60_000,
  lockoutMs: 10_000,
  growthFactor: 2,
  maxLockoutMs: 50_000,
  resetAfterMs: 3_600_000,
};

/** Feed wrong codes at the given monotonic times; returns the lockouts started and the final state. */
function failAt(times: readonly number[], start: LockoutState = initialLockoutState) {
  let state = start;
  const started: { at: number; durationMs: number; level: number }[] = [];
  for (const at of times) {
    state = expireLockout(state, at).state;
    const step = registerFailure(state, at, policy);
    state = step.state;
    if (step.started !== null) started.push({ at, durationMs: step.started.durationMs, level: step.started.level });
  }
  return { state, started };
}

describe('lockout policy', () => {
  it.each([
    [1, 10_000],
    [2, 20_000],
    [3, 40_000],
    [4, 50_000], // capped
    [9, 50_000],
  ])('lockout %i in a row lasts %i ms (doubling up to the cap)', (level, ms) => {
    expect(lockoutDuration(policy, level)).toBe(ms);
  });

  it('locks out on the Nth wrong code within the window, not before', () => {
    const { state, started } = failAt([0, 1_000, 2_000]);
    expect(started).toEqual([{ at: 2_000, durationMs: 10_000, level: 1 }]);
    expect(isLockedOut(state, 11_999)).toBe(true);
    expect(isLockedOut(state, 12_000)).toBe(false);
    expect(failAt([0, 1_000]).started).toEqual([]);
  });

  it('forgets wrong codes older than the window', () => {
    // 0 and 30 s fall out of the window by 90 s: only two recent ones remain.
    expect(failAt([0, 30_000, 90_000, 95_000]).started).toEqual([]);
    expect(failAt([0, 30_000, 59_999]).started).toHaveLength(1);
  });

  it('ignores wrong codes during a lockout, and starts counting afresh after it', () => {
    const { state, started } = failAt([0, 1, 2, 3, 4, 5, 9_000]);
    expect(started).toHaveLength(1);
    expect(state.failures).toEqual([]);
    // After the lockout: three more wrong codes are needed.
    const after = failAt([13_000, 14_000], state);
    expect(after.started).toEqual([]);
    expect(failAt([13_000, 14_000, 15_000], state).started).toEqual([{ at: 15_000, durationMs: 20_000, level: 2 }]);
  });

  it('grows on repeat and returns to the first length only after resetAfter without a wrong code', () => {
    const burst = (t: number) => [t, t + 1, t + 2];
    const { started, state } = failAt([...burst(0), ...burst(20_000), ...burst(60_000), ...burst(200_000)]);
    expect(started.map((s) => s.durationMs)).toEqual([10_000, 20_000, 40_000, 50_000]);
    // A quiet hour later the next lockout is a first one again.
    const later = failAt(burst(200_002 + policy.resetAfterMs), state);
    expect(later.started.map((s) => [s.level, s.durationMs])).toEqual([[1, 10_000]]);
  });

  it('announces the end once, with the length served', () => {
    const { state } = failAt([0, 1, 2]);
    expect(expireLockout(state, 10_001).ended).toBeNull();
    const end = expireLockout(state, 10_002);
    expect(end.ended).toEqual({ durationMs: 10_000, level: 1 });
    expect(expireLockout(end.state, 20_000).ended).toBeNull();
  });

  it('knows when a source has nothing left worth remembering', () => {
    expect(isIdle(initialLockoutState, 0, policy)).toBe(true);
    const once = failAt([0]).state;
    expect(isIdle(once, 59_999, policy)).toBe(false);
    expect(isIdle(once, 60_000, policy)).toBe(true);
    const locked = failAt([0, 1, 2]).state;
    expect(isIdle(locked, 5_000, policy)).toBe(false);
    const served = expireLockout(locked, 10_002).state;
    // Escalation is remembered until resetAfter.
    expect(isIdle(served, 100_000, policy)).toBe(false);
    expect(isIdle(served, 2 + policy.resetAfterMs, policy)).toBe(true);
  });

  it('counts only unknown and ambiguous codes as wrong', () => {
    expect(isWrongCode('unknown_credential')).toBe(true);
    expect(isWrongCode('ambiguous_credential')).toBe(true);
    for (const reason of ['granted', 'no_valid_pass', 'credential_not_valid', 'person_inactive', 'locked_out'] as const) {
      expect(isWrongCode(reason)).toBe(false);
    }
  });

  it('never locks out for longer than the cap, whatever the failure times (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 120_000 }), { maxLength: 100 }), (gaps) => {
        let t = 0;
        const times = gaps.map((g) => (t += g));
        const { started } = failAt(times);
        for (const s of started) {
          expect(s.durationMs).toBeGreaterThanOrEqual(policy.lockoutMs);
          expect(s.durationMs).toBeLessThanOrEqual(policy.maxLockoutMs);
        }
      }),
      fcOptions(200),
    );
  });

  it('has defaults that escalate from 1 minute to a 30-minute cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((l) => lockoutDuration(defaultGuessingPolicy, l) / 60_000)).toEqual([1, 2, 4, 8, 16, 30, 30]);
  });
});

describe('duress schemes', () => {
  it.each([
    ['last-digit-plus-one', '24680', '24681'],
    ['last-digit-plus-one', '13579', '13570'],
    ['last-digit-plus-one', '00000', '00001'],
    ['reverse', '24680', '08642'],
    ['reverse', '12345', '54321'],
  ] as [DuressScheme, string, string][])('%s: the duress code of %s is %s, and back', (scheme, pin, code) => {
    expect(duressCodeOf(scheme, pin)).toBe(code);
    expect(realPinOf(scheme, code)).toBe(pin);
  });

  it('gives palindromic PINs no reverse duress code, and off gives none at all', () => {
    expect(duressCodeOf('reverse', '12321')).toBeNull();
    expect(realPinOf('reverse', '12321')).toBeNull();
    expect(duressCodeOf('off', '24680')).toBeNull();
    expect(realPinOf('off', '24681')).toBeNull();
  });

  it('derives nothing from input that is not digits', () => {
    for (const scheme of ['last-digit-plus-one', 'reverse'] as const) {
      expect(realPinOf(scheme, '')).toBeNull();
      expect(realPinOf(scheme, '12a45')).toBeNull();
    }
  });

  it('round-trips every PIN, and never maps a PIN to itself (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom<DuressScheme>('last-digit-plus-one', 'reverse'), fc.stringMatching(/^\d{4,12}$/), (scheme, pin) => {
        const code = duressCodeOf(scheme, pin);
        if (code === null) return;
        expect(code).not.toBe(pin);
        expect(code).toHaveLength(pin.length);
        expect(realPinOf(scheme, code)).toBe(pin);
      }),
      fcOptions(300),
    );
  });
});
