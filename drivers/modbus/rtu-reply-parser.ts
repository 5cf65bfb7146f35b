import { Transform, type TransformCallback } from 'node:stream';
import { hasValidCrc } from './crc16.js';
import { MAX_REPLY_LENGTH, replyLength, type RtuReply } from './rtu-frames.js';

export interface RtuReplyParserOptions {
  /**
   * Silence after which a partial frame is abandoned. Modbus delimits frames
   * by 3.5 character times; USB adapters deliver in bursts (FTDI latency timer
   * 16 ms), so this is set in milliseconds well above both.
   */
  readonly interByteTimeoutMs?: number;
}

export type RtuParserCounters = {
  replies: number;
  badCrc: number;
  /** Partial frames abandoned after inter-byte silence. */
  incomplete: number;
  /** Bytes that could not start a reply, skipped. */
  garbageBytes: number;
};

/**
 * Turns bytes from an RS-485 bus into Modbus-RTU replies (object mode).
 *
 * Framing rule: the grammar (address, function code, byte count) gives the
 * length; the CRC decides. A frame that fails its CRC, or bytes that cannot
 * start a reply, drop one byte and the search starts again, so garbage before
 * a reply or two replies in one chunk parse correctly. Inter-byte silence
 * never ends a frame; it only proves that a partial one at the head will not
 * be completed (noise that looked like a long header), so the head is dropped
 * and the held bytes searched again for a reply hiding behind it. At most one
 * frame is held. Never throws.
 */
export class RtuReplyParser extends Transform {
  readonly #interByteTimeoutMs: number | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #timer: NodeJS.Timeout | undefined;
  readonly #counters: RtuParserCounters = { replies: 0, badCrc: 0, incomplete: 0, garbageBytes: 0 };

  constructor(options: RtuReplyParserOptions = {}) {
    super({ readableObjectMode: true });
    this.#interByteTimeoutMs = options.interByteTimeoutMs;
  }

  counters(): Readonly<RtuParserCounters> {
    return { ...this.#counters };
  }

  get pendingByteCount(): number {
    return this.#buffer.length;
  }

  /** Drops held bytes, e.g. before a new request: they cannot be its reply. */
  reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#buffer = Buffer.alloc(0);
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk instanceof Uint8Array && chunk.length > 0) {
      this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
      this.#armSilenceTimer();
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#abandonPartial();
    this.reset();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.reset();
    callback(error);
  }

  #parse(): void {
    while (this.#buffer.length > 0) {
      const length = replyLength(this.#buffer);
      if (length === 'need-more') return;
      if (length === 'not-a-reply') {
        this.#drop(1, true);
        continue;
      }
      if (this.#buffer.length < length) return;
      const frame = this.#buffer.subarray(0, length);
      if (!hasValidCrc(frame)) {
        this.#counters.badCrc += 1;
        this.#drop(1, false);
        continue;
      }
      const reply: RtuReply = {
        slave: frame[0] ?? 0,
        functionCode: frame[1] ?? 0,
        pdu: Buffer.from(frame.subarray(1, length - 2)),
        frame: Buffer.from(frame),
      };
      this.#drop(length, false);
      this.#counters.replies += 1;
      this.push(reply);
    }
  }

  #armSilenceTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#interByteTimeoutMs === undefined || this.#buffer.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#abandonPartial();
    }, this.#interByteTimeoutMs);
    this.#timer.unref();
  }

  /** No more bytes are coming for the frame at the head: drop it byte by byte, keeping any reply behind it. */
  #abandonPartial(): void {
    if (this.#buffer.length === 0) return;
    this.#counters.incomplete += 1;
    while (this.#buffer.length > 0) {
      this.#drop(1, true);
      this.#parse();
    }
  }

  #drop(count: number, garbage: boolean): void {
    if (garbage) this.#counters.garbageBytes += count;
    this.#buffer = count >= this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(count);
  }
}

export const RTU_MAX_PENDING = MAX_REPLY_LENGTH;
