import { Transform, type TransformCallback } from 'node:stream';
import { CR, ETX, LF, STX, rdmChecksum, type RdmFrame } from './frame.js';

/** Diagnostic counters; they never contain tag values. */
export type FrameParserCounters = {
  /** Frames with a valid checksum and a non-zero tag, emitted downstream. */
  framesOk: number;
  /** Well-formed frames whose XOR checksum did not match. */
  badChecksum: number;
  /** Started frames that were cut short, too long, or not hex. */
  malformed: number;
  /** Well-formed frames with a valid checksum but tag 0 (a known noise artefact). */
  zeroTag: number;
  /** Bytes outside any frame, skipped while hunting for STX. */
  garbageBytes: number;
};

/** 10 data + 2 checksum characters, optionally followed by CR LF (ID-12LA). */
const PAYLOAD_LENGTH = 12;
const PAYLOAD_LENGTH_WITH_CRLF = 14;

/**
 * Turns raw reader bytes into decoded frames (object mode).
 *
 * Framing rule: every STX starts a new frame (abandoning any partial one),
 * ETX ends it. Neither byte can occur inside the ASCII hex payload, so this
 * resynchronises after noise, power-up garbage or a lost byte without ever
 * depending on how the OS chunked the input. At most one frame's bytes are
 * buffered, so garbage cannot grow memory. Never throws on any input.
 */
export class Rdm6300FrameParser extends Transform {
  /** Bytes after STX of the frame being collected; `undefined` while hunting for STX. */
  #payload: number[] | undefined;
  readonly #counters: FrameParserCounters = { framesOk: 0, badChecksum: 0, malformed: 0, zeroTag: 0, garbageBytes: 0 };

  constructor() {
    super({ readableObjectMode: true });
  }

  counters(): Readonly<FrameParserCounters> {
    return { ...this.#counters };
  }

  /** Bytes held for an incomplete frame (bounded; exposed for diagnostics). */
  get pendingByteCount(): number {
    return this.#payload === undefined ? 0 : this.#payload.length + 1;
  }

  /** Drops a partial frame, e.g. when the port is reopened and old bytes cannot continue it. */
  resync(): void {
    if (this.#payload !== undefined) this.#counters.malformed += 1;
    this.#payload = undefined;
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = toBytes(chunk);
    for (const byte of bytes) this.#consume(byte);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.resync();
    callback();
  }

  #consume(byte: number): void {
    if (byte === STX) {
      this.resync();
      this.#payload = [];
      return;
    }
    const payload = this.#payload;
    if (payload === undefined) {
      this.#counters.garbageBytes += 1;
      return;
    }
    if (byte === ETX) {
      this.#payload = undefined;
      this.#finish(payload);
      return;
    }
    if (payload.length === PAYLOAD_LENGTH_WITH_CRLF) {
      // Longer than any valid frame: give up and hunt for the next STX.
      this.#payload = undefined;
      this.#counters.malformed += 1;
      this.#counters.garbageBytes += 1;
      return;
    }
    payload.push(byte);
  }

  #finish(payload: readonly number[]): void {
    const decoded = decodePayload(payload);
    if (decoded === undefined) {
      this.#counters.malformed += 1;
      return;
    }
    const { frame, checksum } = decoded;
    if (rdmChecksum(frame) !== checksum) {
      this.#counters.badChecksum += 1;
      return;
    }
    if (frame.tag === 0) {
      this.#counters.zeroTag += 1;
      return;
    }
    this.#counters.framesOk += 1;
    this.push(frame);
  }
}

/** Decodes D0..D4 and the checksum from the 12 hex characters, or undefined if the payload is not a frame. */
function decodePayload(payload: readonly number[]): { frame: RdmFrame; checksum: number } | undefined {
  const crlfVariant = payload.length === PAYLOAD_LENGTH_WITH_CRLF && payload[12] === CR && payload[13] === LF;
  if (payload.length !== PAYLOAD_LENGTH && !crlfVariant) return undefined;
  const customer = hexByte(payload, 0);
  const tagHigh = hexByte(payload, 2);
  const tagMidHigh = hexByte(payload, 4);
  const tagMidLow = hexByte(payload, 6);
  const tagLow = hexByte(payload, 8);
  const checksum = hexByte(payload, 10);
  if (
    customer === undefined ||
    tagHigh === undefined ||
    tagMidHigh === undefined ||
    tagMidLow === undefined ||
    tagLow === undefined ||
    checksum === undefined
  ) {
    return undefined;
  }
  // >>> 0 keeps tags >= 0x80000000 positive (bitwise ops are signed 32-bit).
  const tag = ((tagHigh << 24) | (tagMidHigh << 16) | (tagMidLow << 8) | tagLow) >>> 0;
  return { frame: { customer, tag }, checksum };
}

function hexByte(payload: readonly number[], offset: number): number | undefined {
  const high = hexDigit(payload[offset]);
  const low = hexDigit(payload[offset + 1]);
  return high === undefined || low === undefined ? undefined : (high << 4) | low;
}

function hexDigit(byte: number | undefined): number | undefined {
  if (byte === undefined) return undefined;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30; // 0-9
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10; // A-F
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10; // a-f
  return undefined;
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'latin1');
  return new Uint8Array(0);
}
