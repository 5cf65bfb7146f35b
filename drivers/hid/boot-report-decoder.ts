import { Transform, type TransformCallback } from 'node:stream';
import type { MonotonicClock } from '../serial/clock.js';
import { USAGE_ENTER, USAGE_KEYPAD_ENTER, usageToChar, type KeyboardLayout } from './keyboard-layouts.js';

/**
 * What one key press means for a line being typed. `broken` marks a press
 * whose character is unknown (a malformed report, a rollover error, a key
 * that types nothing usable): the line it falls into cannot be trusted.
 */
export type Keystroke =
  | { readonly kind: 'char'; readonly char: string }
  | { readonly kind: 'enter' }
  | { readonly kind: 'broken'; readonly why: 'malformed' | 'rollover' | 'unmapped' | 'modifier' };

export interface BootReportDecoderOptions {
  readonly layout: KeyboardLayout;
  /**
   * Report id that prefixes each report on devices with numbered reports
   * (composite keyboards); undefined for the plain 8-byte boot report.
   */
  readonly reportId?: number | undefined;
  /**
   * Keys still down after this long without any report count as released. A
   * reader never holds a key; a lost key-up (unplug mid-read) would otherwise
   * swallow the first key of the next read when it is the same key.
   */
  readonly releaseAfterMs?: number | undefined;
  readonly clock?: MonotonicClock | undefined;
}

/** Diagnostic counters; they never contain what was typed. */
export type BootReportCounters = {
  reports: number;
  malformedReports: number;
  rolloverReports: number;
  unmappedKeys: number;
};

export const BOOT_REPORT_LENGTH = 8;
const SHIFT_BITS = 0x02 | 0x20;
/** Ctrl, Alt, GUI and AltGr: a key pressed with these types no plain character. */
const NON_SHIFT_BITS = 0xff & ~SHIFT_BITS;
const FIRST_MODIFIER_USAGE = 0xe0;
const LAST_MODIFIER_USAGE = 0xe7;
/** ErrorRollOver, POSTFail, ErrorUndefined: the device could not say which keys are down. */
const LAST_ERROR_USAGE = 0x03;

/**
 * Boot keyboard input reports (modifiers, reserved, six key slots) to key
 * presses, object mode in and out. A press is a usage present in this report
 * and absent from the previous one, so key-up reports, repeated reports and
 * rollover (the next key down before the last one is up) all come out right,
 * and "000" needs the key-ups in between as on any host. Never throws.
 */
export class BootReportDecoder extends Transform {
  readonly #layout: KeyboardLayout;
  readonly #reportId: number | undefined;
  readonly #releaseAfterMs: number | undefined;
  readonly #clock: MonotonicClock | undefined;
  #down = new Set<number>();
  #lastReportAt = Number.NEGATIVE_INFINITY;
  readonly #counters: BootReportCounters = { reports: 0, malformedReports: 0, rolloverReports: 0, unmappedKeys: 0 };

  constructor(options: BootReportDecoderOptions) {
    super({ objectMode: true });
    this.#layout = options.layout;
    this.#reportId = options.reportId;
    this.#releaseAfterMs = options.releaseAfterMs;
    this.#clock = options.clock;
  }

  counters(): Readonly<BootReportCounters> {
    return { ...this.#counters };
  }

  /** Forgets which keys are down, e.g. after reopening the device. */
  reset(): void {
    this.#down = new Set();
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk instanceof Uint8Array) this.#decode(chunk);
    callback();
  }

  #decode(raw: Uint8Array): void {
    this.#counters.reports += 1;
    this.#releaseStaleKeys();
    const report = this.#unwrap(raw);
    if (report === undefined) {
      this.#counters.malformedReports += 1;
      // Whatever was pressed is unknown now; a fresh key-up will clear this.
      this.#down = new Set();
      this.#press({ kind: 'broken', why: 'malformed' });
      return;
    }
    const modifiers = report[0] ?? 0;
    const slots = [...report.subarray(2)].filter((usage) => usage !== 0);
    if (slots.some((usage) => usage <= LAST_ERROR_USAGE)) {
      // Keys went down that the device cannot name; keep the previous state so their release is not a press.
      this.#counters.rolloverReports += 1;
      this.#press({ kind: 'broken', why: 'rollover' });
      return;
    }
    const down = new Set(slots);
    for (const usage of down) {
      if (this.#down.has(usage)) continue;
      if (usage >= FIRST_MODIFIER_USAGE && usage <= LAST_MODIFIER_USAGE) continue;
      this.#press(this.#keystroke(usage, modifiers));
    }
    this.#down = down;
  }

  #releaseStaleKeys(): void {
    if (this.#clock === undefined || this.#releaseAfterMs === undefined) return;
    const now = this.#clock.now();
    if (now - this.#lastReportAt > this.#releaseAfterMs) this.#down = new Set();
    this.#lastReportAt = now;
  }

  #unwrap(raw: Uint8Array): Uint8Array | undefined {
    if (this.#reportId === undefined) return raw.length === BOOT_REPORT_LENGTH ? raw : undefined;
    if (raw.length !== BOOT_REPORT_LENGTH + 1 || raw[0] !== this.#reportId) return undefined;
    return raw.subarray(1);
  }

  #keystroke(usage: number, modifiers: number): Keystroke {
    if (usage === USAGE_ENTER || usage === USAGE_KEYPAD_ENTER) return { kind: 'enter' };
    if ((modifiers & NON_SHIFT_BITS) !== 0) return { kind: 'broken', why: 'modifier' };
    const char = usageToChar(this.#layout, usage, (modifiers & SHIFT_BITS) !== 0);
    if (char !== undefined) return { kind: 'char', char };
    this.#counters.unmappedKeys += 1;
    return { kind: 'broken', why: 'unmapped' };
  }

  #press(keystroke: Keystroke): void {
    this.push(keystroke);
  }
}
