import { describe, expect, it } from 'vitest';
import { LIST_ONE_TYPE_A, RELEASE_ALL, SAM_NORMAL_MODE, maxRetries } from '../../drivers/pn532/commands.js';
import { ACK_FRAME, NACK_FRAME, WAKE_UP, encodeCommand, encodeFrame } from '../../drivers/pn532/frame.js';
import { ACK, NACK, commandFrames, responseFrames } from './pn532-test-vectors.js';

describe('PN532 frame encoding', () => {
  it.each(commandFrames.map((v) => [v.name, v] as const))('encodes %s byte for byte', (_, vector) => {
    expect([...encodeCommand(vector.code, Uint8Array.from(vector.params))]).toEqual(vector.frame);
  });

  it.each(responseFrames.map((v) => [v.name, v] as const))('encodes the %s response byte for byte', (_, vector) => {
    expect([...encodeFrame(0xd5, Uint8Array.from(vector.data))]).toEqual(vector.frame);
  });

  it('has the fixed ACK and NACK frames', () => {
    expect([...ACK_FRAME]).toEqual(ACK);
    expect([...NACK_FRAME]).toEqual(NACK);
  });

  it('uses the parameters the driver sends: SAM normal mode, finite retries, one type A target, release all', () => {
    expect([...encodeCommand(0x14, SAM_NORMAL_MODE)]).toEqual(commandFrames[1]?.frame);
    expect([...encodeCommand(0x32, maxRetries(2))]).toEqual(commandFrames[3]?.frame);
    expect([...encodeCommand(0x4a, LIST_ONE_TYPE_A)]).toEqual(commandFrames[6]?.frame);
    expect([...encodeCommand(0x52, RELEASE_ALL)]).toEqual(commandFrames[8]?.frame);
  });

  it('refuses 255 (forever) and other out-of-range activation retries', () => {
    for (const value of [0xff, -1, 256, 1.5]) expect(() => maxRetries(value)).toThrow(RangeError);
  });

  it('wakes with 55 55 and zeros that, followed by SAMConfiguration, form the common 24-byte one-shot', () => {
    const oneShot = [...WAKE_UP, ...encodeCommand(0x14, SAM_NORMAL_MODE)];
    expect(Buffer.from(oneShot).toString('hex').toUpperCase()).toBe('5555' + '00'.repeat(14) + 'FF03FDD414011700');
    expect(oneShot).toHaveLength(24);
  });

  it('switches to the extended frame above 254 data bytes', () => {
    const data = new Uint8Array(259).fill(0x01);
    const frame = encodeFrame(0xd4, data);
    // LEN 260 = 01 04, LCS FB; then TFI, 259 data bytes, DCS, postamble.
    expect([...frame.subarray(0, 9)]).toEqual([0x00, 0x00, 0xff, 0xff, 0xff, 0x01, 0x04, 0xfb, 0xd4]);
    expect(frame).toHaveLength(8 + 260 + 2);
    expect(frame[frame.length - 2]).toBe((0x100 - ((0xd4 + 259) & 0xff)) & 0xff);
    expect(() => encodeFrame(0xd4, new Uint8Array(265))).toThrow(RangeError);
  });
});
