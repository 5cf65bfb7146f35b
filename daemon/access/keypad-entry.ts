/**
 * PIN assembly for keypads that send one key at a time (Wiegand 4/8-bit
 * keypads, serial keypads): the reader sends keys, the daemon decides what a
 * code is.
 *
 *   digits accumulate; '#' or Enter (CR, LF) submits; '*' clears;
 *   a pause longer than the inter-digit timeout discards what was typed;
 *   more digits than the maximum spoil the entry: the rest of it up to the
 *   next '#', '*' or timeout is swallowed and the entry rejected, so the tail
 *   of a long entry never becomes a code of its own and nothing longer than
 *   the maximum is ever submitted.
 *
 * The core (pressKey, expireEntry) is pure: state, key and a monotonic time in,
 * state and outputs out. KeypadEntry is the shell that owns the state of one
 * reader and the timer that discards an abandoned entry.
 */
import { SecretValue } from '../runtime/secret.js';

export interface KeypadEntryOptions {
  /** Longest pause between two keys before the entry is discarded. */
  readonly interDigitTimeoutMs: number;
  /** Most digits a code may have. */
  readonly maxDigits: number;
}

export const defaultKeypadEntryOptions: KeypadEntryOptions = { interDigitTimeoutMs: 5_000, maxDigits: 12 };

export interface EntryState {
  /** Digits typed so far (a secret: never logged). */
  readonly digits: SecretValue;
  /** More than maxDigits were typed: the entry is rejected at its end. */
  readonly overflowed: boolean;
  /** Monotonic time of the last key of this entry; null when nothing is pending. */
  readonly lastKeyAt: number | null;
}

export type EntryOutput =
  | { readonly type: 'submit'; readonly code: SecretValue }
  /** The entry ended ('#', '*' or timeout) after too many digits. */
  | { readonly type: 'rejected'; readonly reason: 'too_long' }
  | { readonly type: 'cleared' }
  | { readonly type: 'timed_out' };

export interface EntryStep {
  readonly state: EntryState;
  readonly outputs: readonly EntryOutput[];
}

export const emptyEntry: EntryState = { digits: new SecretValue(''), overflowed: false, lastKeyAt: null };

const pending = (state: EntryState): boolean => state.digits.length > 0 || state.overflowed;

/** Discard an entry whose last key is older than the inter-digit timeout. */
export function expireEntry(state: EntryState, now: number, options: KeypadEntryOptions): EntryStep {
  if (state.lastKeyAt === null || now - state.lastKeyAt < options.interDigitTimeoutMs) return { state, outputs: [] };
  return { state: emptyEntry, outputs: pending(state) ? [{ type: 'timed_out' }] : [] };
}

/** One key. Keys other than digits, '#', '*', CR and LF are ignored (line noise, a stray byte). */
export function pressKey(state: EntryState, key: string, now: number, options: KeypadEntryOptions): EntryStep {
  const expired = expireEntry(state, now, options);
  const current = expired.state;
  const outputs = [...expired.outputs];

  if (key >= '0' && key <= '9' && key.length === 1) {
    const digits = current.digits.reveal();
    const next: EntryState =
      current.overflowed || digits.length >= options.maxDigits
        ? { digits: new SecretValue(''), overflowed: true, lastKeyAt: now }
        : { digits: new SecretValue(digits + key), overflowed: false, lastKeyAt: now };
    return { state: next, outputs };
  }
  if (key === '#' || key === '\r' || key === '\n') {
    if (current.overflowed) outputs.push({ type: 'rejected', reason: 'too_long' });
    else if (current.digits.length > 0) outputs.push({ type: 'submit', code: current.digits });
    // '#' on an empty entry (or the LF of a CR LF) submits nothing.
    return { state: emptyEntry, outputs };
  }
  if (key === '*') {
    if (pending(current)) outputs.push({ type: 'cleared' });
    return { state: emptyEntry, outputs };
  }
  return { state: current, outputs };
}

/**
 * The entry of one reader. Keys arrive through feed(); a timer discards an
 * abandoned entry so a half-typed PIN does not wait in memory for the next
 * person. Outputs go to the listener, in order, synchronously for keys.
 */
export class KeypadEntry {
  readonly #options: KeypadEntryOptions;
  readonly #now: () => number;
  readonly #emit: (output: EntryOutput) => void;
  #state: EntryState = emptyEntry;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: KeypadEntryOptions, emit: (output: EntryOutput) => void, now: () => number = () => performance.now()) {
    this.#options = options;
    this.#emit = emit;
    this.#now = now;
  }

  /** Keys as the reader delivered them (one or several characters). */
  feed(keys: SecretValue): void {
    for (const key of keys.reveal()) this.#apply(pressKey(this.#state, key, this.#now(), this.#options));
    this.#arm();
  }

  /** Whether digits are waiting for '#'. */
  get pending(): boolean {
    return pending(this.#state);
  }

  /** Forget the entry and stop the timer (reader closed, gateway stopping). */
  reset(): void {
    this.#state = emptyEntry;
    this.#disarm();
  }

  #apply(step: EntryStep): void {
    this.#state = step.state;
    for (const output of step.outputs) this.#emit(output);
  }

  #arm(): void {
    this.#disarm();
    const last = this.#state.lastKeyAt;
    if (last === null) return;
    const delay = Math.max(0, last + this.#options.interDigitTimeoutMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#apply(expireEntry(this.#state, this.#now(), this.#options));
      // A timer can fire a little early against the monotonic clock: look again.
      if (this.#state.lastKeyAt !== null) this.#arm();
    }, delay);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
