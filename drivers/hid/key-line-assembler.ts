import { Transform, type TransformCallback } from 'node:stream';
import { performanceClock, type MonotonicClock } from '../serial/clock.js';
import type { Keystroke } from './boot-report-decoder.js';

export interface KeyLineAssemblerOptions {
  /**
   * A gap longer than this between two keys drops the line typed so far. A
   * reader types a whole credential within milliseconds; a person at a
   * keyboard, or a read cut short, does not.
   */
  readonly interKeyTimeoutMs: number;
  /** Longer lines are dropped whole, never cut into a credential. */
  readonly maxLength: number;
  readonly clock?: MonotonicClock;
}

/** Diagnostic counters; they never contain what was typed. */
export type KeyLineCounters = {
  lines: number;
  /** Lines dropped because a key came too late after the one before. */
  timedOutLines: number;
  /** Lines dropped because one of their keys could not be decoded. */
  brokenLines: number;
  overlongLines: number;
};

/**
 * Key presses to lines (object mode: Keystroke in, string out). Enter ends a
 * line; only lines typed without a gap and without an undecodable key come
 * out, so a partial or corrupted read never becomes a credential. Time is
 * taken when a key arrives: no timers, nothing to cancel. Never throws.
 */
export class KeyLineAssembler extends Transform {
  readonly #timeoutMs: number;
  readonly #maxLength: number;
  readonly #clock: MonotonicClock;
  #line = '';
  #broken = false;
  #overlong = false;
  #lastKeyAt = Number.NEGATIVE_INFINITY;
  readonly #counters: KeyLineCounters = { lines: 0, timedOutLines: 0, brokenLines: 0, overlongLines: 0 };

  constructor(options: KeyLineAssemblerOptions) {
    super({ objectMode: true });
    if (!(options.interKeyTimeoutMs > 0)) throw new RangeError('interKeyTimeoutMs must be > 0');
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) throw new RangeError('maxLength must be >= 1');
    this.#timeoutMs = options.interKeyTimeoutMs;
    this.#maxLength = options.maxLength;
    this.#clock = options.clock ?? performanceClock;
  }

  counters(): Readonly<KeyLineCounters> {
    return { ...this.#counters };
  }

  get pending(): boolean {
    return this.#line.length > 0 || this.#broken || this.#overlong;
  }

  /** Drops a partial line, e.g. after the device was reopened. */
  reset(): void {
    this.#line = '';
    this.#broken = false;
    this.#overlong = false;
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (isKeystroke(chunk)) this.#key(chunk);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.reset();
    callback();
  }

  #key(keystroke: Keystroke): void {
    const now = this.#clock.now();
    if (this.pending && now - this.#lastKeyAt > this.#timeoutMs) {
      this.#counters.timedOutLines += 1;
      this.reset();
    }
    this.#lastKeyAt = now;
    switch (keystroke.kind) {
      case 'char':
        if (this.#broken || this.#overlong) return;
        this.#line += keystroke.char;
        if (this.#line.length > this.#maxLength) {
          this.#overlong = true;
          this.#line = '';
        }
        return;
      case 'broken':
        this.#broken = true;
        this.#line = '';
        return;
      case 'enter':
        this.#endLine();
        return;
    }
  }

  #endLine(): void {
    const line = this.#line;
    if (this.#broken) this.#counters.brokenLines += 1;
    else if (this.#overlong) this.#counters.overlongLines += 1;
    else if (line.length > 0) {
      this.#counters.lines += 1;
      this.push(line);
    }
    this.reset();
  }
}

function isKeystroke(value: unknown): value is Keystroke {
  return typeof value === 'object' && value !== null && 'kind' in value;
}
