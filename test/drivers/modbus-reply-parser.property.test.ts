import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasValidCrc, withCrc } from '../../drivers/modbus/crc16.js';
import { replyLength, type RtuReply } from '../../drivers/modbus/rtu-frames.js';
import { RTU_MAX_PENDING, RtuReplyParser } from '../../drivers/modbus/rtu-reply-parser.js';
import { fcOptions } from '../support/fast-check.js';

// Fixed seed unless FC_SEED is set; see test/support/fast-check.ts.
/** Per property: each call is one property's options (FC_TALLY counts it). */
const runs = (): ReturnType<typeof fcOptions> => fcOptions(400);

async function parse(chunks: readonly Uint8Array[]): Promise<{ replies: RtuReply[]; maxPending: number }> {
  const parser = new RtuReplyParser();
  const replies: RtuReply[] = [];
  parser.on('data', (reply: RtuReply) => replies.push(reply));
  let maxPending = 0;
  for (const chunk of chunks) {
    parser.write(Buffer.from(chunk));
    maxPending = Math.max(maxPending, parser.pendingByteCount);
  }
  parser.end();
  await new Promise((resolve) => setImmediate(resolve));
  return { replies, maxPending };
}

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

const slaveArb = fc.integer({ min: 1, max: 247 });
const writeEcho = fc
  .tuple(slaveArb, fc.integer({ min: 0, max: 0xffff }), fc.boolean())
  .map(([slave, coil, on]) => withCrc(Uint8Array.of(slave, 0x05, coil >> 8, coil & 0xff, on ? 0xff : 0, 0)));
const readReply = fc
  .tuple(slaveArb, fc.uint8Array({ minLength: 1, maxLength: 8 }))
  .map(([slave, data]) => withCrc(Uint8Array.of(slave, 0x01, data.length, ...data)));
const exception = fc.tuple(slaveArb, fc.integer({ min: 1, max: 11 })).map(([slave, code]) => withCrc(Uint8Array.of(slave, 0x85, code)));
const validReply = fc.oneof(writeEcho, readReply, exception);
const segmentArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  validReply,
  fc.tuple(validReply, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([frame, at, value]) => {
    const copy = Uint8Array.from(frame);
    copy[at % copy.length] = value;
    return copy;
  }),
  fc.tuple(validReply, fc.nat()).map(([frame, keep]) => frame.subarray(0, keep % frame.length)),
);

describe('RtuReplyParser properties', () => {
  it('never throws, holds at most one frame, and every reply it emits passes its CRC and grammar', async () => {
    let seen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(segmentArb, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), async (segments, cuts) => {
        const { replies, maxPending } = await parse(splitAt(Buffer.concat(segments), cuts));
        expect(maxPending).toBeLessThanOrEqual(RTU_MAX_PENDING);
        for (const reply of replies) {
          seen += 1;
          expect(hasValidCrc(reply.frame)).toBe(true);
          expect(replyLength(reply.frame)).toBe(reply.frame.length);
          expect(reply.slave).toBe(reply.frame[0]);
        }
      }),
      runs(),
    );
    expect(seen).toBeGreaterThan(100);
  });

  it('recovers every valid reply that follows arbitrary noise, whatever the chunking', async () => {
    // Noise that looks like a long header holds a reply back until the line goes quiet (here: end of input),
    // never loses it. Noise can still form a CRC-valid frame with a reply's first bytes (≈1 in 65536), so the
    // property checks that each reply appears in order as a subsequence of what came out.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 12 }), validReply), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (items, cuts) => {
          const input = Buffer.concat(items.flatMap(([noise, frame]) => [Buffer.from(noise), frame]));
          const { replies } = await parse(splitAt(input, cuts));
          const wanted = items.map(([, frame]) => Buffer.from(frame).toString('hex'));
          const got = replies.map((reply) => reply.frame.toString('hex'));
          let next = 0;
          for (const frame of got) if (frame === wanted[next]) next += 1;
          expect(next).toBe(wanted.length);
        },
      ),
      runs(),
    );
  });
});
