import { describe, expect, it } from 'vitest';
import { encodeLcusCommand } from '../../drivers/lcus/protocol.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase().match(/../g)?.join(' ');

describe('encodeLcusCommand', () => {
  it.each([
    [1, true, 'A0 01 01 A2'],
    [1, false, 'A0 01 00 A1'],
    [2, true, 'A0 02 01 A3'],
    [2, false, 'A0 02 00 A2'],
    [3, true, 'A0 03 01 A4'],
    [3, false, 'A0 03 00 A3'],
    [4, true, 'A0 04 01 A5'],
    [4, false, 'A0 04 00 A4'],
    [8, true, 'A0 08 01 A9'],
  ] as const)('channel %i energised=%s → %s', (channel, energised, expected) => {
    expect(hex(encodeLcusCommand(channel, energised))).toBe(expected);
  });

  it.each([0, 9, 1.5, Number.NaN, -1])('rejects channel %s', (channel) => {
    expect(() => encodeLcusCommand(channel, true)).toThrow(RangeError);
  });
});
