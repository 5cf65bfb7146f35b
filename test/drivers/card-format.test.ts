import { describe, expect, it } from 'vitest';
import { formatUid, isRandomUid, UID_CARD_FORMATS } from '../../drivers/card-format/uid-number.js';
import { formatWiegandCard, WIEGAND_CARD_FORMATS } from '../../drivers/card-format/wiegand-number.js';
import { decodeWiegand, encodeWiegand, wiegandCardFromBody, type WiegandCard } from '../../drivers/wiegand/decode.js';

const CLASSIC = Uint8Array.of(0x9e, 0xb3, 0x6e, 0x66);
const NTAG = Uint8Array.of(0x04, 0x7b, 0xcb, 0x51, 0x96, 0x22, 0x80);

describe('formatUid', () => {
  it('renders 9E B3 6E 66 as the reference says (BE 2662559334, LE 1718530974)', () => {
    expect(formatUid(CLASSIC, 'hex')).toBe('9EB36E66');
    expect(formatUid(CLASSIC, 'hex-reversed')).toBe('666EB39E');
    expect(formatUid(CLASSIC, 'decimal')).toBe('2662559334');
    expect(formatUid(CLASSIC, 'decimal-reversed')).toBe('1718530974');
    expect(formatUid(CLASSIC, 'decimal10')).toBe('2662559334');
    expect(formatUid(CLASSIC, 'decimal10-reversed')).toBe('1718530974');
  });

  it('pads decimal10 to 10 digits and keeps leading zero bytes in hex', () => {
    const uid = Uint8Array.of(0x00, 0x46, 0x6a, 0xd3);
    expect(formatUid(uid, 'decimal10')).toBe('0004614867');
    expect(formatUid(uid, 'decimal')).toBe('4614867');
    expect(formatUid(uid, 'hex')).toBe('00466AD3');
  });

  it('renders 7-byte UIDs beyond 2^53 exactly, and has no 10-digit form for them', () => {
    expect(formatUid(NTAG, 'hex')).toBe('047BCB51962280');
    expect(formatUid(NTAG, 'decimal')).toBe(BigInt('0x047BCB51962280').toString());
    expect(formatUid(NTAG, 'decimal-reversed')).toBe(BigInt('0x80229651CB7B04').toString());
    expect(formatUid(NTAG, 'decimal10')).toBeUndefined();
    expect(formatUid(NTAG, 'decimal10-reversed')).toBeUndefined();
  });

  it('renders nothing for an empty UID', () => {
    for (const format of UID_CARD_FORMATS) expect(formatUid(new Uint8Array(0), format)).toBeUndefined();
  });

  it('recognises random UIDs: 4 bytes starting 08 only', () => {
    expect(isRandomUid(Uint8Array.of(0x08, 0x12, 0x34, 0x56))).toBe(true);
    expect(isRandomUid(CLASSIC)).toBe(false);
    expect(isRandomUid(Uint8Array.of(0x08, 1, 2, 3, 4, 5, 6))).toBe(false);
  });
});

describe('formatWiegandCard', () => {
  const card = (result: ReturnType<typeof decodeWiegand>): WiegandCard => {
    if (!result.ok) throw new Error('expected a card');
    return result.card;
  };

  it('renders FC 123 / CN 4567 like the converters do', () => {
    const fc123 = card(decodeWiegand(encodeWiegand('h10301', { facility: 123, card: 4567 }), 'h10301'));
    expect(formatWiegandCard(fc123, 'decimal10')).toBe('0008065495');
    expect(formatWiegandCard(fc123, 'fc-cn')).toBe('123,04567');
    expect(formatWiegandCard(fc123, 'hex')).toBe('7B11D7');
  });

  it('gives the EM fob number for the W34 frame of an EM card, and 070,27347 for its W26', () => {
    const w34 = card(decodeWiegand(encodeWiegand('h10306', { facility: 0x0046, card: 0x6ad3 }), 'h10306'));
    expect(formatWiegandCard(w34, 'decimal10')).toBe('0004614867');
    expect(formatWiegandCard(w34, 'fc-cn')).toBe('00070,27347');
    const w26 = card(decodeWiegand(encodeWiegand('h10301', { facility: 70, card: 27347 }), 'h10301'));
    expect(formatWiegandCard(w26, 'fc-cn')).toBe('070,27347');
  });

  it('pads each field to its width, and has no facility for H10302', () => {
    const c1k = card(decodeWiegand(encodeWiegand('corporate1000-35', { facility: 12, card: 345 }), 'corporate1000-35'));
    expect(formatWiegandCard(c1k, 'fc-cn')).toBe('0012,0000345');
    const h10302 = card(decodeWiegand(encodeWiegand('h10302', { card: 34_359_738_367 }), 'h10302'));
    expect(formatWiegandCard(h10302, 'fc-cn')).toBe('34359738367');
    expect(formatWiegandCard(h10302, 'decimal10')).toBe('34359738367');
    expect(formatWiegandCard(h10302, 'hex')).toBe('7FFFFFFFF');
  });

  it('round-trips the S4A decimal body', () => {
    const s4a = wiegandCardFromBody(123478n, 'h10301');
    expect(s4a === undefined ? undefined : formatWiegandCard(s4a, 'decimal10')).toBe('0000123478');
    expect(WIEGAND_CARD_FORMATS).toEqual(['decimal10', 'fc-cn', 'hex']);
  });
});
