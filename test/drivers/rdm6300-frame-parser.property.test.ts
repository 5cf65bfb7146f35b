import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STX, encodeRdmFrame, type RdmFrame } from '../../drivers/rdm6300/frame.js';
import { Rdm6300FrameParser } from '../../drivers/rdm6300/frame-parser.js';
import { fcOptions } from '../support/fast-check.js';

// Fixed seed 20261122 unless FC_SEED is set; see test/support/fast-check.ts.
/** Per property: each call is one property's options (FC_TALLY counts it). */
const runs = (): ReturnType<typeof fcOptions> => fcOptions(500);

/** Feeds the chunks through a fresh parser; returns the frames and the largest buffer it held. */
async function parse(chunks: readonly Uint8Array[]): Promise<{ frames: RdmFrame[]; maxPending: number }> {
  const parser = new Rdm6300FrameParser();
  const frames: RdmFrame[] = [];
  parser.on('data', (frame: RdmFrame) => frames.push(frame));
  const ended = new Promise<void>((resolve) => parser.once('end', () => resolve()));
  let maxPending = 0;
  for (const chunk of chunks) {
    parser.write(Buffer.from(chunk));
    maxPending = Math.max(maxPending, parser.pendingByteCount);
  }
  parser.end();
  await ended;
  return { frames, maxPending };
}

/** Splits bytes at the given (unsorted, possibly repeated) cut points. */
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

/** Bytes biased towards what matters to the framing: STX, ETX, CR, LF and hex digits. */
const interestingByte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(0x02, 0x03, 0x0d, 0x0a),
  fc.constantFrom(...Buffer.from('0123456789ABCDEFabcdef', 'ascii')),
);

const frameArb = fc.record({
  customer: fc.integer({ min: 0, max: 0xff }),
  tag: fc.integer({ min: 1, max: 0xffff_ffff }),
});
const encodedFrameArb = fc.record({
  frame: frameArb,
  variant: fc.constantFrom('rdm6300' as const, 'id12la' as const),
  lowercase: fc.boolean(),
});
/** Noise that cannot start a frame; ETX, CR, LF and hex digits are allowed. */
const noiseWithoutStx = fc.array(interestingByte.filter((b) => b !== STX), { maxLength: 40 });
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

/** Pieces of a hostile byte stream: noise, good frames, frames with a flipped byte, cut-off frames. */
const segmentArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 60 }),
  fc.array(interestingByte, { maxLength: 60 }).map((bytes) => Uint8Array.from(bytes)),
  encodedFrameArb.map(({ frame, variant, lowercase }) => encodeRdmFrame(frame, { variant, lowercase })),
  fc
    .tuple(encodedFrameArb, fc.nat(), fc.integer({ min: 0, max: 255 }))
    .map(([{ frame, variant, lowercase }, at, value]) => {
      const bytes = Uint8Array.from(encodeRdmFrame(frame, { variant, lowercase }));
      bytes[at % bytes.length] = value;
      return bytes;
    }),
  fc
    .tuple(encodedFrameArb, fc.nat())
    .map(([{ frame, variant, lowercase }, keep]) => {
      const bytes = encodeRdmFrame(frame, { variant, lowercase });
      return bytes.subarray(0, keep % bytes.length);
    }),
);

describe('Rdm6300FrameParser properties', () => {
  it('never throws on arbitrary bytes in arbitrary chunks, and every frame it emits is valid', async () => {
    let framesSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(segmentArb, { maxLength: 12 }), cutsArb, async (segments, cuts) => {
        const { frames, maxPending } = await parse(splitAt(Buffer.concat(segments), cuts));
        expect(maxPending).toBeLessThanOrEqual(16);
        framesSeen += frames.length;
        for (const frame of frames) {
          expect(Number.isInteger(frame.customer) && frame.customer >= 0 && frame.customer <= 0xff).toBe(true);
          expect(Number.isInteger(frame.tag) && frame.tag >= 1 && frame.tag <= 0xffff_ffff).toBe(true);
          // Re-encoding yields a frame with a valid checksum: the parser decodes it back to itself.
          const { frames: again } = await parse([encodeRdmFrame(frame)]);
          expect(again).toEqual([frame]);
        }
      }),
      runs(),
    );
    // Guards against a generator that never produces a decodable frame (a vacuous property).
    expect(framesSeen).toBeGreaterThan(100);
  });

  it('output does not depend on how the input is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(interestingByte, { maxLength: 300 }), cutsArb, async (bytes, cuts) => {
        const input = Uint8Array.from(bytes);
        const whole = await parse([input]);
        const chunked = await parse(splitAt(input, cuts));
        expect(chunked.frames).toEqual(whole.frames);
      }),
      runs(),
    );
  });

  it('recovers every valid frame embedded in noise without STX, even right after a cut-off frame', async () => {
    // Noise without STX can never open a frame, and each frame's own STX discards
    // whatever came before it (noise or a frame cut off mid-way, which cannot contain
    // ETX), so every frame must come out, in order.
    const itemArb = fc.record({
      noise: noiseWithoutStx,
      cutOff: fc.option(fc.tuple(encodedFrameArb, fc.nat()), { nil: undefined }),
      encoded: encodedFrameArb,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(itemArb, { maxLength: 8 }), noiseWithoutStx, cutsArb, async (items, trailingNoise, cuts) => {
        const parts: Uint8Array[] = [];
        for (const { noise, cutOff, encoded } of items) {
          parts.push(Uint8Array.from(noise));
          if (cutOff !== undefined) {
            const [{ frame, variant, lowercase }, keep] = cutOff;
            const whole = encodeRdmFrame(frame, { variant, lowercase });
            parts.push(whole.subarray(0, 1 + (keep % (whole.length - 1))));
          }
          parts.push(encodeRdmFrame(encoded.frame, { variant: encoded.variant, lowercase: encoded.lowercase }));
        }
        parts.push(Uint8Array.from(trailingNoise));
        const { frames } = await parse(splitAt(Buffer.concat(parts), cuts));
        expect(frames).toEqual(items.map(({ encoded }) => encoded.frame));
      }),
      runs(),
    );
  });
});
