import { Transform, type TransformCallback } from 'node:stream';

export interface LineSplitterOptions {
  /**
   * Bytes that end a line, e.g. CR LF or ETX. Undefined: CR, LF and CR LF all
   * end a line and empty lines are skipped, which suits devices whose suffix
   * is not known or was changed by someone with a configuration barcode.
   */
  readonly terminator?: Uint8Array;
  /** Longer lines are dropped whole (up to the next terminator), never cut into a credential. */
  readonly maxLength: number;
}

/** Diagnostic counters; they never contain line contents. */
export type LineSplitterCounters = {
  lines: number;
  overlongLines: number;
};

const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits a byte stream into lines (object mode, one Buffer per line, without
 * the terminator). Framing depends only on the terminator, never on how the
 * OS chunked the input. At most `maxLength` bytes are held. Never throws.
 */
export class LineSplitter extends Transform {
  readonly #terminator: Uint8Array | undefined;
  readonly #maxLength: number;
  #line: number[] = [];
  /** True while discarding the rest of an overlong line. */
  #skipping = false;
  readonly #counters: LineSplitterCounters = { lines: 0, overlongLines: 0 };

  constructor(options: LineSplitterOptions) {
    super({ readableObjectMode: true });
    if (options.terminator !== undefined && options.terminator.length === 0) throw new RangeError('terminator must not be empty');
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) throw new RangeError('maxLength must be >= 1');
    this.#terminator = options.terminator;
    this.#maxLength = options.maxLength;
  }

  counters(): Readonly<LineSplitterCounters> {
    return { ...this.#counters };
  }

  get pendingByteCount(): number {
    return this.#line.length;
  }

  /** Drops a partial line, e.g. after reopening: old bytes cannot start a line on the new port. */
  reset(): void {
    this.#line = [];
    this.#skipping = false;
  }

  /**
   * Input was dropped unparsed (`dropped` is that input). Unless it ended
   * exactly on a terminator, the next bytes are the tail of a line whose start
   * is gone: they are discarded up to the next terminator, so that a tail is
   * never read as a credential.
   */
  skipped(dropped: Uint8Array): void {
    this.#line = [];
    this.#skipping = !this.#endsOnTerminator(dropped);
  }

  #endsOnTerminator(bytes: Uint8Array): boolean {
    const terminator = this.#terminator;
    if (terminator === undefined) {
      const last = bytes[bytes.length - 1];
      return last === CR || last === LF;
    }
    if (bytes.length < terminator.length) return false;
    const offset = bytes.length - terminator.length;
    return terminator.every((byte, index) => bytes[offset + index] === byte);
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk instanceof Uint8Array) {
      for (const byte of chunk) {
        if (this.#terminator === undefined) this.#consumeAnyNewline(byte);
        else this.#consumeTerminated(byte, this.#terminator);
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.reset();
    callback();
  }

  #consumeAnyNewline(byte: number): void {
    if (byte === CR || byte === LF) {
      this.#endLine(this.#line.length);
      return;
    }
    this.#append(byte);
  }

  #consumeTerminated(byte: number, terminator: Uint8Array): void {
    this.#append(byte);
    const line = this.#line;
    if (line.length < terminator.length) return;
    const offset = line.length - terminator.length;
    for (let index = 0; index < terminator.length; index += 1) {
      if (line[offset + index] !== terminator[index]) return;
    }
    this.#endLine(offset);
  }

  #append(byte: number): void {
    if (this.#skipping) {
      // Keep only enough bytes to recognise the terminator.
      if (this.#terminator !== undefined && this.#line.length >= this.#terminator.length) this.#line.shift();
      if (this.#terminator !== undefined) this.#line.push(byte);
      return;
    }
    this.#line.push(byte);
    // The terminator may still be arriving, so allow for its length before calling the line too long.
    if (this.#line.length > this.#maxLength + (this.#terminator?.length ?? 0)) {
      this.#counters.overlongLines += 1;
      this.#skipping = true;
      this.#line = this.#terminator === undefined ? [] : this.#line.slice(-this.#terminator.length);
    }
  }

  #endLine(length: number): void {
    const skipped = this.#skipping;
    const line = this.#line.slice(0, length);
    this.reset();
    if (skipped) return;
    if (line.length > this.#maxLength) {
      this.#counters.overlongLines += 1;
      return;
    }
    if (line.length === 0) return;
    this.#counters.lines += 1;
    this.push(Buffer.from(line));
  }
}
