import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type OsdpPacket, type Sqn } from '../../../drivers/osdp/frame.js';
import { OsdpFrameParser } from '../../../drivers/osdp/frame-parser.js';
import { fcOptions } from '../../support/fast-check.js';
import { ANNEX_E, FRAMES } from './osdp-vectors.js';

/** Per property: each call is one property's options (FC_TALLY counts it). */
const runs = (): ReturnType<typeof fcOptions> => fcOptions(400);

/** A clock the test moves by hand, to model pauses on the line. */
const manualClock = () => {
  let now = 0;
  return { clock: { now: () => now }, advance: (ms: number) => (now += ms) };
};

const packetArb: fc.Arbitrary<OsdpPacket> = fc.record({
  address: fc.integer({ min: 0, max: 0x7f }),
  reply: fc.boolean(),
  sqn: fc.constantFrom<Sqn>(0, 1, 2, 3),
  crc: fc.boolean(),
  scb: fc.constant(null),
  code: fc.integer({ min: 0, max: 255 }),
  data: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
});

const referenceFrames = [...Object.values(FRAMES), ANNEX_E.rmacIFrame, ANNEX_E.pollSeq3, ANNEX_E.buzSeq1];
const interestingByte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x53, 0xff, 0x00, 0x08, 0x80, 0x04));
const garbageArb = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc.array(interestingByte, { maxLength: 80 }).map((bytes) => Uint8Array.from(bytes)),
  fc.constantFrom(...referenceFrames.map((frame) => Uint8Array.from(frame))),
  fc.tuple(fc.constantFrom(...referenceFrames), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([frame, at, value]) => {
    const bytes = Uint8Array.from(frame);
    bytes[at % bytes.length] = value;
    return bytes;
  }),
  fc.tuple(fc.constantFrom(...referenceFrames), fc.nat()).map(([frame, keep]) => Uint8Array.from(frame.subarray(0, keep % frame.length))),
);

function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

describe('OSDP frame parser (property)', () => {
  it('never throws on garbage and only ever returns packets whose check is valid', () => {
    fc.assert(
      fc.property(fc.array(garbageArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), (segments, cuts) => {
        const parser = new OsdpFrameParser({ clock: manualClock().clock });
        const stream = Buffer.concat(segments.map((segment) => Buffer.from(segment)));
        for (const chunk of splitAt(stream, cuts)) {
          for (const frame of parser.push(chunk)) expect(decodeFrame(frame.bytes).ok).toBe(true);
        }
        const counters = parser.counters();
        expect(Object.values(counters).every((value) => Number.isInteger(value) && value >= 0)).toBe(true);
      }),
      runs(),
    );
  });

  it('recovers every valid packet between runs of garbage without SOM, in order, however the bytes are chunked', () => {
    const noSom = fc.uint8Array({ maxLength: 30 }).map((bytes) => Buffer.from(bytes.filter((byte) => byte !== 0x53)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(noSom, packetArb, fc.boolean()), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (items, cuts) => {
          const parser = new OsdpFrameParser({ clock: manualClock().clock });
          const wires = items.map(([, packet, mark]) => encodeFrame(packet, { mark }).wire);
          const stream = Buffer.concat(items.flatMap(([garbage], index) => [garbage, wires[index] as Buffer]));
          const got = splitAt(stream, cuts).flatMap((chunk) => parser.push(chunk));
          expect(got.map((frame) => frame.bytes.toString('hex'))).toEqual(
            wires.map((wire) => (wire[0] === 0xff ? wire.subarray(1) : wire).toString('hex')),
          );
        },
      ),
      runs(),
    );
  });

  it('after any garbage and a pause longer than the inter-character timeout, the next packet is read', () => {
    fc.assert(
      fc.property(garbageArb, packetArb, (garbage, packet) => {
        const { clock, advance } = manualClock();
        const parser = new OsdpFrameParser({ clock });
        parser.push(Buffer.from(garbage));
        advance(50);
        const wire = encodeFrame(packet).wire;
        const frames = parser.push(wire);
        expect(frames.map((frame) => frame.bytes.toString('hex'))).toContain(wire.toString('hex'));
      }),
      runs(),
    );
  });

  it('counts a corrupted CRC and still finds the packet after it', () => {
    const parser = new OsdpFrameParser({ clock: manualClock().clock });
    const corrupt = Buffer.from(FRAMES.raw26);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 0xff;
    const frames = parser.push(Buffer.concat([corrupt, FRAMES.ackSeq1]));
    expect(frames.map((frame) => frame.bytes)).toEqual([FRAMES.ackSeq1]);
    expect(parser.counters().badCheck).toBe(1);
  });
});
