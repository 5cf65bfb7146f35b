import { Transform, type TransformCallback } from 'node:stream';
import { APPLICATION_ERROR, MAX_EXTENDED_LENGTH } from './frame.js';

/** What the PN532 sent, by grammar. */
export type Pn532Packet =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nack' }
  /** Application-level error frame (00 00 FF 01 FF 7F 81 00): the PN532 rejected the command's syntax. */
  | { readonly kind: 'error' }
  /** A frame whose length checked out but whose data checksum did not: worth a NACK. */
  | { readonly kind: 'corrupt' }
  /** A valid information frame: TFI and PD0…PDn (PD0 is the command or response code). */
  | { readonly kind: 'frame'; readonly tfi: number; readonly data: Buffer };

/** Diagnostic counters; they never contain UIDs. */
export type Pn532ParserCounters = {
  framesOk: number;
  acks: number;
  /** Start codes followed by a length that fails LCS (or an impossible length). */
  badLength: number;
  /** Frames whose DCS did not match. */
  badChecksum: number;
  /** Non-zero bytes outside any frame (zeros are pre- and postamble). */
  garbageBytes: number;
};

/** The start code plus LEN and LCS of an extended frame, TFI…, DCS. */
const LONGEST_FRAME = 7 + MAX_EXTENDED_LENGTH + 1;

/**
 * Turns bytes from a PN532 into packets (object mode).
 *
 * Framing rule: sync on the start code 00 FF, then trust nothing until LCS and
 * DCS check out; a failed check drops one byte and searches again, so a frame
 * hidden behind a false start code is still found. Chunk boundaries and timing
 * play no part: an ACK and its response in one chunk, or a frame one byte per
 * chunk, parse the same. At most one frame's bytes are held. Never throws.
 */
export class Pn532FrameParser extends Transform {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #counters: Pn532ParserCounters = { framesOk: 0, acks: 0, badLength: 0, badChecksum: 0, garbageBytes: 0 };

  constructor() {
    super({ readableObjectMode: true });
  }

  counters(): Readonly<Pn532ParserCounters> {
    return { ...this.#counters };
  }

  get pendingByteCount(): number {
    return this.#buffer.length;
  }

  /** Drops held bytes, e.g. before a new command: a partial old response cannot complete a new one. */
  reset(): void {
    this.#buffer = Buffer.alloc(0);
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk instanceof Uint8Array && chunk.length > 0) {
      this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.reset();
    callback();
  }

  #parse(): void {
    for (;;) {
      if (!this.#findStartCode()) return;
      if (this.#parseFrame() === 'incomplete') return;
    }
  }

  /**
   * Drops everything before the next 00 FF so that the buffer starts with it;
   * false when there is none (only a trailing 00 that may begin one is kept).
   */
  #findStartCode(): boolean {
    const buffer = this.#buffer;
    for (let index = 0; index + 1 < buffer.length; index += 1) {
      if (buffer[index] === 0x00 && buffer[index + 1] === 0xff) {
        this.#skip(index);
        return true;
      }
    }
    const keep = buffer.length > 0 && buffer[buffer.length - 1] === 0x00 ? 1 : 0;
    this.#skip(buffer.length - keep);
    return false;
  }

  /** Parses the frame at the start of the buffer, which begins 00 FF. */
  #parseFrame(): 'consumed' | 'incomplete' {
    const buffer = this.#buffer;
    if (buffer.length < 4) return 'incomplete';
    const len = buffer[2] ?? 0;
    const lcs = buffer[3] ?? 0;
    if (len === 0x00 && lcs === 0xff) {
      this.#counters.acks += 1;
      this.#consume(4);
      this.push({ kind: 'ack' } satisfies Pn532Packet);
      return 'consumed';
    }
    if (len === 0xff && lcs === 0x00) {
      this.#consume(4);
      this.push({ kind: 'nack' } satisfies Pn532Packet);
      return 'consumed';
    }
    if (len === 0xff && lcs === 0xff) return this.#parseExtended();
    if (((len + lcs) & 0xff) !== 0 || len === 0) return this.#falseStart('badLength');
    return this.#parseBody(4, len);
  }

  #parseExtended(): 'consumed' | 'incomplete' {
    const buffer = this.#buffer;
    if (buffer.length < 7) return 'incomplete';
    const lenm = buffer[4] ?? 0;
    const lenl = buffer[5] ?? 0;
    const lcs = buffer[6] ?? 0;
    const length = (lenm << 8) | lenl;
    if (((lenm + lenl + lcs) & 0xff) !== 0 || length === 0 || length > MAX_EXTENDED_LENGTH) {
      return this.#falseStart('badLength');
    }
    return this.#parseBody(7, length);
  }

  /** `length` bytes of TFI and data start at `offset`, followed by DCS. */
  #parseBody(offset: number, length: number): 'consumed' | 'incomplete' {
    const buffer = this.#buffer;
    if (buffer.length < offset + length + 1) return 'incomplete';
    let sum = 0;
    for (let index = offset; index <= offset + length; index += 1) sum += buffer[index] ?? 0;
    if ((sum & 0xff) !== 0) {
      const outcome = this.#falseStart('badChecksum');
      this.push({ kind: 'corrupt' } satisfies Pn532Packet);
      return outcome;
    }
    const tfi = buffer[offset] ?? 0;
    const data = Buffer.from(buffer.subarray(offset + 1, offset + length));
    this.#consume(offset + length + 1);
    if (length === 1 && tfi === APPLICATION_ERROR) {
      this.push({ kind: 'error' } satisfies Pn532Packet);
      return 'consumed';
    }
    this.#counters.framesOk += 1;
    this.push({ kind: 'frame', tfi, data } satisfies Pn532Packet);
    return 'consumed';
  }

  /** The 00 FF was not a frame: count it, drop its 00 and search again from the FF. */
  #falseStart(counter: 'badLength' | 'badChecksum'): 'consumed' {
    this.#counters[counter] += 1;
    this.#consume(1);
    return 'consumed';
  }

  #skip(count: number): void {
    for (let index = 0; index < count; index += 1) {
      if (this.#buffer[index] !== 0x00) this.#counters.garbageBytes += 1;
    }
    this.#consume(count);
  }

  #consume(count: number): void {
    this.#buffer = count >= this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(count);
  }
}

/** Longest run of bytes the parser may hold while waiting for the rest of a frame. */
export const PN532_MAX_PENDING = LONGEST_FRAME;
