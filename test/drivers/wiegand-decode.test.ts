import { describe, expect, it } from 'vitest';
import { wiegandBitsFromBytes, wiegandBitsFromString, wiegandBitsToString } from '../../drivers/wiegand/bits.js';
import { WiegandDecoder, decodeWiegand, encodeWiegand, wiegandCardFromBody } from '../../drivers/wiegand/decode.js';
import { DEFAULT_WIEGAND_FORMATS, WIEGAND_FORMATS, WIEGAND_FORMAT_NAMES } from '../../drivers/wiegand/formats.js';

const bits = (text: string) => {
  const parsed = wiegandBitsFromString(text);
  if (parsed === undefined) throw new Error(`not bits: ${text}`);
  return parsed;
};

describe('H10301 26-bit (hardware reference §7, access-control reference §3)', () => {
  it('decodes the worked example FC 123 / CN 4567', () => {
    const frame = bits('10111101100010001110101110');
    expect(frame.value).toBe(0x2f623aen);
    expect(decodeWiegand(frame, 'h10301')).toEqual({
      ok: true,
      card: { format: 'h10301', facility: 123, card: 4567, body: 0x7b11d7n, bodyLength: 24 },
    });
  });

  it('encodes the worked example bit for bit, left-aligned as OSDP carries it (BD 88 EB 80)', () => {
    const frame = encodeWiegand('h10301', { facility: 123, card: 4567 });
    expect(wiegandBitsToString(frame)).toBe('10111101100010001110101110');
    expect(wiegandBitsFromBytes(Uint8Array.of(0xbd, 0x88, 0xeb, 0x80), 26)).toEqual(frame);
  });

  it.each([
    [70, 27347, '10100011001101010110100110'],
    [18, 37848, '00001001010010011110110001'],
    [0, 0, '00000000000000000000000001'],
    [90, 324, '00101101000000001010001000'], // jessety/wiegand-encoder encode(324, 90)
  ])('FC %i / CN %i ↔ %s', (facility, card, expected) => {
    expect(wiegandBitsToString(encodeWiegand('h10301', { facility, card }))).toBe(expected);
    expect(decodeWiegand(bits(expected), 'h10301')).toMatchObject({ ok: true, card: { facility, card } });
  });

  it('rejects a wrong parity bit instead of reading another card', () => {
    expect(decodeWiegand(bits('00111101100010001110101110'), 'h10301')).toEqual({ ok: false, reason: 'parity' });
    expect(decodeWiegand(bits('10111101100010001110101111'), 'h10301')).toEqual({ ok: false, reason: 'parity' });
  });

  it('rejects every single flipped bit of a valid frame', () => {
    const valid = '10111101100010001110101110';
    for (let position = 0; position < valid.length; position += 1) {
      const flipped = valid.slice(0, position) + (valid[position] === '1' ? '0' : '1') + valid.slice(position + 1);
      expect(decodeWiegand(bits(flipped), 'h10301'), `bit ${position + 1}`).toEqual({ ok: false, reason: 'parity' });
    }
  });
});

describe('34-bit formats', () => {
  const EM_W34 = '1000000000100011001101010110100110';

  it('decodes the W34 frame of EM card 0004614867 as H10306 FC 70 / CN 27347, body 0x00466AD3', () => {
    expect(decodeWiegand(bits(EM_W34), 'h10306')).toEqual({
      ok: true,
      card: { format: 'h10306', facility: 70, card: 27347, body: 0x00466ad3n, bodyLength: 32 },
    });
  });

  it('reads the same bits differently as bqt34 (8-bit FC, 24-bit card): length alone does not identify a format', () => {
    expect(decodeWiegand(bits(EM_W34), 'bqt34')).toMatchObject({ ok: true, card: { facility: 0, card: 0x466ad3 } });
  });

  it('refuses to configure two formats of the same length', () => {
    expect(() => new WiegandDecoder(['h10306', 'bqt34'])).toThrow(/both 34 bits/);
  });
});

describe('Corporate 1000 35-bit and H10304/H10302 37-bit', () => {
  it('round-trips the field extremes of every format', () => {
    for (const name of WIEGAND_FORMAT_NAMES) {
      const format = WIEGAND_FORMATS[name];
      const maxCard = 2 ** format.card.length - 1;
      const maxFacility = format.facility === undefined ? undefined : 2 ** format.facility.length - 1;
      for (const fields of [
        { card: 0, facility: maxFacility === undefined ? undefined : 0 },
        { card: maxCard, facility: maxFacility },
        { card: 12345, facility: maxFacility === undefined ? undefined : 100 },
      ]) {
        const input = fields.facility === undefined ? { card: fields.card } : { card: fields.card, facility: fields.facility };
        const frame = encodeWiegand(name, input);
        expect(frame.length).toBe(format.bitCount);
        expect(decodeWiegand(frame, name)).toMatchObject({ ok: true, card: input });
      }
    }
  });

  it('Corporate 1000: company 12 bits at 3–14, card 20 bits at 15–34, three parity bits', () => {
    const frame = encodeWiegand('corporate1000-35', { facility: 0xabc, card: 0x12345 });
    const text = wiegandBitsToString(frame);
    expect(text.slice(2, 14)).toBe((0xabc).toString(2).padStart(12, '0'));
    expect(text.slice(14, 34)).toBe((0x12345).toString(2).padStart(20, '0'));
    // Bit 1 is odd parity over all of 2–35, so the whole frame has an odd number of ones.
    expect([...text].filter((c) => c === '1').length % 2).toBe(1);
  });

  it('H10304: the parity ranges overlap at bit 19', () => {
    const frame = encodeWiegand('h10304', { facility: 0, card: 1 << 17 }); // card bit 2 of 19 = frame bit 19
    const text = wiegandBitsToString(frame);
    expect(text[18]).toBe('1');
    expect(text[0]).toBe('1'); // even over 2–19 sees one 1
    expect(text[36]).toBe('0'); // odd over 19–36 sees one 1 already
  });

  it('rejects H10302 with a facility code', () => {
    expect(() => encodeWiegand('h10302', { facility: 1, card: 1 })).toThrow(RangeError);
  });
});

describe('WiegandDecoder', () => {
  const decoder = new WiegandDecoder(DEFAULT_WIEGAND_FORMATS);

  it('picks the configured format by length', () => {
    expect(decoder.decode(encodeWiegand('h10301', { facility: 1, card: 2 }))).toMatchObject({ ok: true, card: { format: 'h10301' } });
    expect(decoder.decode(encodeWiegand('h10306', { facility: 1, card: 2 }))).toMatchObject({ ok: true, card: { format: 'h10306' } });
    expect(decoder.decode(encodeWiegand('corporate1000-35', { facility: 1, card: 2 }))).toMatchObject({ ok: true, card: { format: 'corporate1000-35' } });
    expect(decoder.decode(encodeWiegand('h10304', { facility: 1, card: 2 }))).toMatchObject({ ok: true, card: { format: 'h10304' } });
  });

  it('rejects lengths no configured format has', () => {
    expect(decoder.decode(bits('1'.repeat(32)))).toEqual({ ok: false, reason: 'unsupported-length' });
  });
});

describe('bodies from converters that strip parity', () => {
  it('WG2RS232 "7B11D7" is H10301 FC 123 / CN 4567', () => {
    expect(wiegandCardFromBody(0x7b11d7n, 'h10301')).toEqual({ format: 'h10301', facility: 123, card: 4567, body: 0x7b11d7n, bodyLength: 24 });
  });

  it('S4A "0000123478" (body 0x1E256) is H10301 FC 1 / CN 57942', () => {
    expect(wiegandCardFromBody(123478n, 'h10301')).toMatchObject({ facility: 1, card: 57942 });
  });

  it('refuses a body wider than the format', () => {
    expect(wiegandCardFromBody(1n << 24n, 'h10301')).toBeUndefined();
    expect(wiegandCardFromBody(-1n, 'h10301')).toBeUndefined();
  });
});

describe('bit helpers', () => {
  it('rejects anything but 0 and 1', () => {
    expect(wiegandBitsFromString('10201')).toBeUndefined();
    expect(wiegandBitsFromString('')).toBeUndefined();
  });

  it('needs enough bytes for the bit count', () => {
    expect(wiegandBitsFromBytes(Uint8Array.of(0xbd, 0x88, 0xeb), 26)).toBeUndefined();
  });
});
