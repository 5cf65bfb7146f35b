/**
 * PIN assembly from single keys: the pure machine table-driven, the per-reader
 * shell with fake timers, and random keystroke streams as properties.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  defaultKeypadEntryOptions,
  emptyEntry,
  expireEntry,
  KeypadEntry,
  pressKey,
  type EntryOutput,
  type EntryState,
} from '../../daemon/access/keypad-entry.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import { fcOptions } from '../support/fast-check.js';

const options = { interDigitTimeoutMs: 5_000, maxDigits: 6 };

/** Outputs as plain text for the tables: submit:12345, cleared, timed_out, rejected:too_long. */
const show = (o: EntryOutput): string =>
  o.type === 'submit' ? `submit:${o.code.reveal()}` : o.type === 'rejected' ? `rejected:${o.reason}` : o.type;

/** Run keys through the pure machine; each key is [key, ms since the previous key]. */
function run(keys: readonly (readonly [string, number])[]): { outputs: string[]; state: EntryState } {
  let state = emptyEntry;
  let now = 1_000;
  const outputs: string[] = [];
  for (const [key, gap] of keys) {
    now += gap;
    const step = pressKey(state, key, now, options);
    state = step.state;
    outputs.push(...step.outputs.map(show));
  }
  return { outputs, state };
}

const typed = (text: string, gap = 300): [string, number][] => [...text].map((k) => [k, gap]);

describe('keypad entry machine', () => {
  it.each([
    ['digits then # submit the code', typed('24680#'), ['submit:24680']],
    ['CR submits like #', typed('24680\r'), ['submit:24680']],
    ['CR LF submits once', typed('24680\r\n'), ['submit:24680']],
    ['LF submits', typed('13579\n'), ['submit:13579']],
    ['* clears, the rest is a new code', typed('999*13579#'), ['cleared', 'submit:13579']],
    ['* on nothing is silent', typed('*#'), []],
    ['# on nothing submits nothing', typed('##'), []],
    ['leading zeros are kept', typed('00042#'), ['submit:00042']],
    ['two codes in a row', typed('11111#22222#'), ['submit:11111', 'submit:22222']],
    ['a short code is submitted (the pipeline denies it)', typed('12#'), ['submit:12']],
    ['exactly the maximum is accepted', typed('123456#'), ['submit:123456']],
    ['one digit too many rejects the whole entry', typed('1234567#'), ['rejected:too_long']],
    ['the tail of a long entry never becomes a code', typed('1234567890#5#'), ['rejected:too_long', 'submit:5']],
    ['* ends a spoilt entry too', typed('1234567*'), ['cleared']],
    ['letters and noise are ignored', typed('12a3\u00004x5#'), ['submit:12345']],
    [
      'a pause at the timeout discards the digits before it',
      [...typed('135'), ['7', 5_000], ...typed('9#')] as [string, number][],
      ['timed_out', 'submit:79'],
    ],
    [
      'a pause just under the timeout keeps them',
      [...typed('135'), ['7', 4_999], ...typed('9#')] as [string, number][],
      ['submit:13579'],
    ],
    ['# after the timeout submits nothing', [...typed('13579'), ['#', 6_000]] as [string, number][], ['timed_out']],
  ])('%s', (_name, keys, expected) => {
    expect(run(keys).outputs).toEqual(expected);
  });

  it('expireEntry discards only after the timeout, and only once', () => {
    const { state } = run(typed('123'));
    const at = state.lastKeyAt ?? 0;
    expect(expireEntry(state, at + 4_999, options).outputs).toEqual([]);
    const expired = expireEntry(state, at + 5_000, options);
    expect(expired.outputs.map(show)).toEqual(['timed_out']);
    expect(expireEntry(expired.state, at + 10_000, options).outputs).toEqual([]);
  });

  it('never shows the digits when the state is logged or serialised', () => {
    const { state } = run(typed('24680'));
    expect(JSON.stringify(state)).not.toContain('24680');
    expect(String(state.digits)).toBe('[secret]');
  });
});

describe('KeypadEntry (one reader, real timers faked)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const make = () => {
    const outputs: string[] = [];
    const entry = new KeypadEntry(defaultKeypadEntryOptions, (o) => outputs.push(show(o)));
    const feed = (keys: string) => entry.feed(new SecretValue(keys));
    return { entry, outputs, feed };
  };

  it('submits keys that arrive one per read, and several per read', () => {
    const { outputs, feed } = make();
    for (const key of '24680#') feed(key);
    feed('13579#');
    expect(outputs).toEqual(['submit:24680', 'submit:13579']);
  });

  it('discards an abandoned entry by timer after the default 5 s', () => {
    const { entry, outputs, feed } = make();
    feed('246');
    vi.advanceTimersByTime(4_999);
    expect(entry.pending).toBe(true);
    expect(outputs).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(outputs).toEqual(['timed_out']);
    expect(entry.pending).toBe(false);
    // The next person starts from nothing.
    feed('13579#');
    expect(outputs).toEqual(['timed_out', 'submit:13579']);
  });

  it('restarts the timeout with every key', () => {
    const { outputs, feed } = make();
    for (const key of '2468') {
      feed(key);
      vi.advanceTimersByTime(4_000);
    }
    feed('0#');
    expect(outputs).toEqual(['submit:24680']);
  });

  it('reset() forgets the entry and its timer', () => {
    const { entry, outputs, feed } = make();
    feed('123');
    entry.reset();
    vi.advanceTimersByTime(10_000);
    feed('#');
    expect(outputs).toEqual([]);
  });
});

describe('keystroke streams (properties)', () => {
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...'0123456789') },
    { weight: 2, arbitrary: fc.constantFrom('#', '*', '\r', '\n') },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) },
  );
  const stream = fc.array(fc.tuple(key, fc.integer({ min: 0, max: 12_000 })), { maxLength: 200 });

  it('never throws, and only ever submits 1..maxDigits digits', () => {
    fc.assert(
      fc.property(stream, fc.integer({ min: 4, max: 12 }), (keys, maxDigits) => {
        const opts = { interDigitTimeoutMs: 5_000, maxDigits };
        let state = emptyEntry;
        let now = 0;
        for (const [k, gap] of keys) {
          now += gap;
          const step = pressKey(state, k, now, opts);
          state = step.state;
          for (const out of step.outputs) {
            if (out.type === 'submit') {
              expect(out.code.reveal()).toMatch(/^\d+$/);
              expect(out.code.length).toBeLessThanOrEqual(maxDigits);
            }
          }
          expect(state.digits.length).toBeLessThanOrEqual(maxDigits);
        }
      }),
      fcOptions(300),
    );
  });

  it('submits exactly the digits typed since the last #, * or pause', () => {
    // Model: a straightforward re-implementation on whole strings.
    fc.assert(
      fc.property(stream, (keys) => {
        let state = emptyEntry;
        let now = 0;
        let model = '';
        let last: number | null = null;
        let spoilt = false;
        const got: string[] = [];
        const want: string[] = [];
        for (const [k, gap] of keys) {
          now += gap;
          if (last !== null && now - last >= options.interDigitTimeoutMs) {
            model = '';
            spoilt = false;
            last = null;
          }
          if (/^\d$/.test(k)) {
            if (model.length >= options.maxDigits) spoilt = true;
            model = spoilt ? '' : model + k;
            last = now;
          } else if (k === '#' || k === '\r' || k === '\n' || k === '*') {
            if ((k !== '*') && !spoilt && model.length > 0) want.push(model);
            model = '';
            spoilt = false;
            last = null;
          }
          const step = pressKey(state, k, now, options);
          state = step.state;
          for (const out of step.outputs) if (out.type === 'submit') got.push(out.code.reveal());
        }
        expect(got).toEqual(want);
      }),
      fcOptions(300),
    );
  });
});
