import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineDecoder, WIEGAND_LINE_ENCODINGS } from '../../drivers/line-reader/line-decoder.js';
import { LineSplitter } from '../../drivers/line-reader/line-splitter.js';
import { wiegandBitsFromString } from '../../drivers/wiegand/bits.js';
import { decodeWiegand } from '../../drivers/wiegand/decode.js';
import { WIEGAND_FORMATS, WIEGAND_FORMAT_NAMES } from '../../drivers/wiegand/formats.js';
import { fcOptions } from '../support/fast-check.js';

// Fixed seed unless FC_SEED is set; see test/support/fast-check.ts.
/** Per property: each call is one property's options (FC_TALLY counts it). */
const runs = (): ReturnType<typeof fcOptions> => fcOptions(400);

function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

async function lines(terminator: Uint8Array | undefined, maxLength: number, chunks: readonly Uint8Array[]) {
  const splitter = new LineSplitter({ ...(terminator === undefined ? {} : { terminator }), maxLength });
  const out: Buffer[] = [];
  splitter.on('data', (line: Buffer) => out.push(line));
  let maxPending = 0;
  for (const chunk of chunks) {
    splitter.write(Buffer.from(chunk));
    maxPending = Math.max(maxPending, splitter.pendingByteCount);
  }
  splitter.end();
  await new Promise((resolve) => setImmediate(resolve));
  return { out, maxPending };
}

const byteArb = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x0d, 0x0a, 0x30, 0x31, 0x41));
const terminatorArb = fc.option(fc.uint8Array({ minLength: 1, maxLength: 3 }), { nil: undefined });

describe('line reader properties', () => {
  it('the splitter never throws, holds a bounded line, never emits an empty, overlong or terminated line, and ignores chunking', async () => {
    await fc.assert(
      fc.asyncProperty(terminatorArb, fc.integer({ min: 1, max: 40 }), fc.array(byteArb, { maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), async (terminator, maxLength, bytes, cuts) => {
        const input = Uint8Array.from(bytes);
        const whole = await lines(terminator, maxLength, [input]);
        const chunked = await lines(terminator, maxLength, splitAt(input, cuts));
        expect(chunked.out).toEqual(whole.out);
        expect(whole.maxPending).toBeLessThanOrEqual(maxLength + (terminator?.length ?? 0));
        for (const line of whole.out) {
          expect(line.length).toBeGreaterThan(0);
          expect(line.length).toBeLessThanOrEqual(maxLength);
          if (terminator === undefined) expect(line.includes(0x0d) || line.includes(0x0a)).toBe(false);
          else expect(line.includes(Buffer.from(terminator))).toBe(false);
        }
      }),
      runs(),
    );
  });

  it('the decoder never throws, and a Wiegand frame it accepts always passes its parity', () => {
    const arb = fc.record({
      as: fc.constantFrom(...WIEGAND_LINE_ENCODINGS),
      format: fc.constantFrom(...WIEGAND_FORMAT_NAMES),
      cardFormat: fc.constantFrom('decimal10' as const, 'fc-cn' as const, 'hex' as const),
      line: fc.oneof(fc.uint8Array({ maxLength: 50 }), fc.stringMatching(/^[01]{20,40}$/).map((s) => Buffer.from(s)), fc.stringMatching(/^[0-9A-Fa-f]{1,12}$/).map((s) => Buffer.from(s))),
    });
    let acceptedFrames = 0;
    fc.assert(
      fc.property(arb, ({ as, format, cardFormat, line }) => {
        const result = new LineDecoder({ decode: { as, format, cardFormat } }).decode(line);
        if (!result.ok || (as !== 'wiegand-frame-bits' && as !== 'wiegand-frame-hex')) return;
        acceptedFrames += 1;
        const text = Buffer.from(line).toString('utf8').trim();
        const bits =
          as === 'wiegand-frame-bits'
            ? wiegandBitsFromString(text)
            : wiegandBitsFromString(BigInt(`0x${text}`).toString(2).padStart(WIEGAND_FORMATS[format].bitCount, '0'));
        expect(bits === undefined ? false : decodeWiegand(bits, format).ok).toBe(true);
      }),
      runs(),
    );
    expect(acceptedFrames).toBeGreaterThan(0);
  });

  it('the decoder never throws on arbitrary bytes with a text encoding and arbitrary safe patterns', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(undefined, '^(\\d+)$', '(?<credential>[A-Z]+)', '.'), (line, pattern) => {
        const result = new LineDecoder({ pattern, decode: { as: 'text' } }).decode(line);
        if (result.ok) expect(result.number.length).toBeGreaterThan(0);
      }),
      runs(),
    );
  });
});
