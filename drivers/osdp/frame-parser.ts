/**
 * Cuts a byte stream from an RS-485 line into OSDP packets.
 *
 * Line noise, a PD powering up, a truncated packet or a stray SOM inside data
 * must never wedge the parser: anything that does not check out costs one byte
 * (the SOM it started at) and the search resumes right after it. A pause of
 * more than the inter-character timeout abandons a partial packet, as the
 * spec's receivers do. MARK bytes (FF) before SOM are idle line, not garbage.
 */
import { performanceClock, type MonotonicClock } from '../serial/clock.js';
import { OSDP_MARK, OSDP_MAX_PACKET, OSDP_MIN_PACKET, OSDP_SOM } from './constants.js';
import { decodeFrame, type OsdpFrame } from './frame.js';

export const OSDP_INTER_CHARACTER_TIMEOUT_MS = 20;

export interface FrameParserCounters {
  frames: number;
  badCheck: number;
  badLength: number;
  badScb: number;
  garbageBytes: number;
  /** Partial packets dropped after a pause longer than the inter-character timeout. */
  incomplete: number;
}

export interface FrameParserOptions {
  readonly clock?: MonotonicClock;
  readonly interCharacterTimeoutMs?: number;
}

export class OsdpFrameParser {
  readonly #clock: MonotonicClock;
  readonly #gapMs: number;
  readonly #counters: FrameParserCounters = { frames: 0, badCheck: 0, badLength: 0, badScb: 0, garbageBytes: 0, incomplete: 0 };
  #buffer: Buffer = Buffer.alloc(0);
  #lastByteAt = Number.NEGATIVE_INFINITY;

  constructor(options: FrameParserOptions = {}) {
    this.#clock = options.clock ?? performanceClock;
    this.#gapMs = options.interCharacterTimeoutMs ?? OSDP_INTER_CHARACTER_TIMEOUT_MS;
  }

  counters(): Readonly<FrameParserCounters> {
    return { ...this.#counters };
  }

  /** Forgets any partial packet (before a new command goes out, after a reopen). */
  reset(): void {
    this.#buffer = Buffer.alloc(0);
  }

  /** Feeds received bytes; returns every complete, valid packet they finish. */
  push(chunk: Buffer): OsdpFrame[] {
    const now = this.#clock.now();
    if (this.#buffer.length > 0 && now - this.#lastByteAt > this.#gapMs) {
      this.#counters.incomplete += 1;
      this.#buffer = Buffer.alloc(0);
    }
    this.#lastByteAt = now;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: OsdpFrame[] = [];
    for (;;) {
      this.#skipToSom();
      if (this.#buffer.length < 4) break;
      const length = this.#buffer.readUInt16LE(2);
      if (length < OSDP_MIN_PACKET || length > OSDP_MAX_PACKET) {
        this.#counters.badLength += 1;
        this.#dropSom();
        continue;
      }
      if (this.#buffer.length < length) break;
      const result = decodeFrame(this.#buffer.subarray(0, length));
      if (!result.ok) {
        if (result.reason === 'check') this.#counters.badCheck += 1;
        else if (result.reason === 'scb') this.#counters.badScb += 1;
        else this.#counters.badLength += 1;
        this.#dropSom();
        continue;
      }
      this.#counters.frames += 1;
      frames.push(result.frame);
      this.#buffer = this.#buffer.subarray(length);
    }
    // Keep a private copy so the caller's chunk can be reused.
    this.#buffer = Buffer.from(this.#buffer);
    return frames;
  }

  #skipToSom(): void {
    let index = 0;
    while (index < this.#buffer.length && this.#buffer[index] !== OSDP_SOM) {
      if (this.#buffer[index] !== OSDP_MARK) this.#counters.garbageBytes += 1;
      index += 1;
    }
    if (index > 0) this.#buffer = this.#buffer.subarray(index);
  }

  #dropSom(): void {
    this.#counters.garbageBytes += 1;
    this.#buffer = this.#buffer.subarray(1);
  }
}
