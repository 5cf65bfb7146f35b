import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wiegandBits, wiegandBitsToString, type WiegandBits } from '../../drivers/wiegand/bits.js';
import { WiegandDecoder, decodeWiegand, encodeWiegand } from '../../drivers/wiegand/decode.js';
import { DEFAULT_WIEGAND_FORMATS, WIEGAND_FORMATS, WIEGAND_FORMAT_NAMES, type WiegandFormatName } from '../../drivers/wiegand/formats.js';
import { fcOptions } from '../support/fast-check.js';

// Fixed seed unless FC_SEED is set; see test/support/fast-check.ts.
/** Per property: each call is one property's options (FC_TALLY counts it). */
const runs = (): ReturnType<typeof fcOptions> => fcOptions(500);

const formatArb = fc.constantFrom(...WIEGAND_FORMAT_NAMES);
const framesOf = (name: WiegandFormatName) => fc.bigInt({ min: 0n, max: (1n << BigInt(WIEGAND_FORMATS[name].bitCount)) - 1n });

/** Parity exactly as proxmark3 computes it for C1k35s (masks on the Mid/Bot words), independent of our mask lists. */
function proxmarkC1k35ParityValid(frame: bigint): boolean {
  const bot = Number(frame & 0xffffffffn);
  const mid = Number(frame >> 32n);
  const parity = (value: number) => {
    let ones = 0;
    for (let v = value >>> 0; v !== 0; v >>>= 1) ones += v & 1;
    return ones & 1;
  };
  const even = (value: number) => parity(value);
  const odd = (value: number) => 1 - parity(value);
  return (
    even((mid & 0x1) ^ (bot & 0xb6db6db6)) === ((mid >> 1) & 1) &&
    odd((mid & 0x3) ^ (bot & 0x6db6db6c)) === (bot & 1) &&
    odd((mid & 0x3) ^ (bot & 0xffffffff)) === ((mid >> 2) & 1)
  );
}

describe('Wiegand decoding properties', () => {
  it('random bits never throw, and an accepted frame re-encodes to itself (its parity checks out)', () => {
    fc.assert(
      fc.property(formatArb.chain((name) => fc.tuple(fc.constant(name), framesOf(name))), ([name, value]) => {
        const frame = wiegandBits(WIEGAND_FORMATS[name].bitCount, value);
        const result = decodeWiegand(frame, name);
        if (!result.ok) {
          expect(result.reason).toBe('parity');
          return;
        }
        const { facility, card } = result.card;
        const again = encodeWiegand(name, facility === undefined ? { card } : { facility, card });
        expect(wiegandBitsToString(again)).toBe(wiegandBitsToString(frame));
      }),
      runs(),
    );
  });

  it('random frames of any length never throw through the default decoder', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }).chain((length) => fc.tuple(fc.constant(length), fc.bigInt({ min: 0n, max: (1n << BigInt(length)) - 1n }))), ([length, value]) => {
        const result = new WiegandDecoder(DEFAULT_WIEGAND_FORMATS).decode(wiegandBits(length, value));
        if (result.ok) expect(WIEGAND_FORMATS[result.card.format].bitCount).toBe(length);
      }),
      runs(),
    );
  });

  it('a single flipped bit is always rejected, never read as another card', () => {
    const arb = formatArb.chain((name) => {
      const format = WIEGAND_FORMATS[name];
      return fc.record({
        name: fc.constant(name),
        facility: fc.integer({ min: 0, max: format.facility === undefined ? 0 : 2 ** format.facility.length - 1 }),
        card: fc.integer({ min: 0, max: 2 ** Math.min(format.card.length, 52) - 1 }),
        flip: fc.integer({ min: 1, max: format.bitCount }),
      });
    });
    fc.assert(
      fc.property(arb, ({ name, facility, card, flip }) => {
        const hasFacility = WIEGAND_FORMATS[name].facility !== undefined;
        const valid = encodeWiegand(name, hasFacility ? { facility, card } : { card });
        const flipped: WiegandBits = { length: valid.length, value: valid.value ^ (1n << BigInt(valid.length - flip)) };
        expect(decodeWiegand(flipped, name)).toEqual({ ok: false, reason: 'parity' });
      }),
      runs(),
    );
  });

  it('Corporate 1000 parity agrees with proxmark3 on random frames', () => {
    fc.assert(
      fc.property(framesOf('corporate1000-35'), (value) => {
        const ours = decodeWiegand(wiegandBits(35, value), 'corporate1000-35').ok;
        expect(ours).toBe(proxmarkC1k35ParityValid(value));
      }),
      runs(),
    );
  });
});
