import { describe, expect, it } from 'vitest';
import { formatCardNumber } from '../../drivers/rdm6300/card-number.js';
import { realFrames, syntheticFrame } from './rdm6300-test-vectors.js';

describe('formatCardNumber', () => {
  it.each([...realFrames, syntheticFrame].map((v) => [v.decimal10, v.fcCn, v] as const))(
    'maps tag %s to decimal10 and to fc-cn %s',
    (decimal10, fcCn, vector) => {
      const frame = { customer: vector.customer, tag: vector.tag };
      expect(formatCardNumber(frame, 'decimal10')).toBe(decimal10);
      expect(formatCardNumber(frame, 'fc-cn')).toBe(fcCn);
    },
  );

  it('pairs 0004614867 with 070,27347, not with the widespread wrong 070,13371', () => {
    const card = { customer: 0x0e, tag: 4614867 };
    expect(formatCardNumber(card, 'decimal10')).toBe('0004614867');
    expect(formatCardNumber(card, 'fc-cn')).toBe('070,27347');
    expect(formatCardNumber(card, 'fc-cn')).not.toBe('070,13371');
    // 070,13371 belongs to a different card: 0x0046343B.
    expect(formatCardNumber({ customer: 0x0e, tag: 0x0046343b }, 'decimal10')).toBe('0004600891');
    expect(formatCardNumber({ customer: 0x0e, tag: 0x0046343b }, 'fc-cn')).toBe('070,13371');
  });

  it('ignores the customer byte for decimal10 (Suprema 4B 00 42 3C 15 → 4340757)', () => {
    expect(formatCardNumber({ customer: 0x4b, tag: 0x00423c15 }, 'decimal10')).toBe('0004340757');
  });

  it('matches the seabreezerfid pair 0013961168 ↔ 213,02000', () => {
    const card = { customer: 0, tag: 0x00d507d0 };
    expect(formatCardNumber(card, 'decimal10')).toBe('0013961168');
    expect(formatCardNumber(card, 'fc-cn')).toBe('213,02000');
  });

  it('takes FC/CN from the low 24 bits (Roger EMC-1 0x01020E9C9B → 014,40091)', () => {
    expect(formatCardNumber({ customer: 0x01, tag: 0x020e9c9b }, 'fc-cn')).toBe('014,40091');
  });

  it('renders all 40 bits as 10 uppercase hex digits', () => {
    expect(formatCardNumber({ customer: 0x0e, tag: 4614867 }, 'hex')).toBe('0E00466AD3');
    expect(formatCardNumber({ customer: 0x67, tag: 0x003b51c6 }, 'hex')).toBe('67003B51C6');
    expect(formatCardNumber({ customer: 0x4b, tag: 0x00423c15 }, 'hex')).toBe('4B00423C15');
    expect(formatCardNumber({ customer: 0x00, tag: 0x00000001 }, 'hex')).toBe('0000000001');
  });

  it('does not run parseInt over all 40 bits like node-rdm6300 did (442385519046)', () => {
    expect(formatCardNumber({ customer: 0x67, tag: 0x003b51c6 }, 'decimal10')).toBe('0003887558');
  });

  it('handles the largest tag without going negative', () => {
    const card = { customer: 0xff, tag: 0xffffffff };
    expect(formatCardNumber(card, 'decimal10')).toBe('4294967295');
    expect(formatCardNumber(card, 'fc-cn')).toBe('255,65535');
    expect(formatCardNumber(card, 'hex')).toBe('FFFFFFFFFF');
  });
});
