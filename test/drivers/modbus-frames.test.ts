import { describe, expect, it } from 'vitest';
import { crc16Modbus, hasValidCrc, withCrc } from '../../drivers/modbus/crc16.js';
import { describeException, encodeReadCoils, encodeWriteSingleCoil, replyLength } from '../../drivers/modbus/rtu-frames.js';
import { crcOf } from './support/modbus-slave.js';
import {
  ANCHORS,
  EXCEPTION_ILLEGAL_ADDRESS,
  READ_8_COILS,
  READ_COILS_REPLY_1_AND_3,
  WRITE_8_COILS_OFF,
  WRITE_8_COILS_ON,
  WRONG_PUBLISHED,
  writeCoilVectors,
} from './modbus-test-vectors.js';

const hex = (frame: Uint8Array | readonly number[]) => Buffer.from(frame).toString('hex').toUpperCase();

describe('CRC-16/MODBUS', () => {
  it('has the catalogue check value 0x4B37 for "123456789"', () => {
    expect(crc16Modbus(Buffer.from('123456789', 'ascii'))).toBe(0x4b37);
  });

  it('agrees with the independent table-driven CRC of the test slave', () => {
    const samples = [[], [0x01], [0x01, 0x05, 0x00, 0x00, 0xff, 0x00], [...Buffer.from('123456789')]];
    for (const sample of samples) expect(crc16Modbus(Uint8Array.from(sample))).toBe(crcOf(sample));
  });

  it.each(
    [...writeCoilVectors.map((v) => v.frame), READ_8_COILS, READ_COILS_REPLY_1_AND_3, WRITE_8_COILS_ON, WRITE_8_COILS_OFF, EXCEPTION_ILLEGAL_ADDRESS, ...ANCHORS].map(
      (frame) => [hex(frame), frame] as const,
    ),
  )('accepts the reference frame %s and rebuilds its CRC low byte first', (_, frame) => {
    expect(hasValidCrc(Uint8Array.from(frame))).toBe(true);
    expect([...withCrc(Uint8Array.from(frame.slice(0, -2)))]).toEqual(frame);
  });

  it.each(WRONG_PUBLISHED.map((v) => [hex(v.frame), v] as const))('rejects the wrongly published %s', (_, vector) => {
    expect(hasValidCrc(Uint8Array.from(vector.frame))).toBe(false);
    expect([...withCrc(Uint8Array.from(vector.frame.slice(0, -2))).subarray(-2)]).toEqual(vector.correctCrc);
  });
});

describe('Modbus-RTU requests', () => {
  it.each(writeCoilVectors.map((v) => [v.slave, v.coil, v.on, hex(v.frame), v] as const))(
    'FC05 slave %i coil %i on=%s → %s',
    (_slave, _coil, _on, _hex, vector) => {
      expect([...encodeWriteSingleCoil(vector.slave, vector.coil, vector.on)]).toEqual(vector.frame);
    },
  );

  it('FC01 read 8 coils → 01 01 00 00 00 08 3D CC', () => {
    expect([...encodeReadCoils(1, 0, 8)]).toEqual(READ_8_COILS);
  });

  it.each([
    [0, 0],
    [248, 0],
    [1, -1],
    [1, 65536],
    [1.5, 0],
  ])('refuses slave %s coil %s', (slave, coil) => {
    expect(() => encodeWriteSingleCoil(slave, coil, true)).toThrow(RangeError);
  });
});

describe('reply grammar', () => {
  it('knows the length of each reply shape', () => {
    expect(replyLength(Uint8Array.from([0x01]))).toBe('need-more');
    expect(replyLength(Uint8Array.from([0x01, 0x05]))).toBe(8);
    expect(replyLength(Uint8Array.from([0x01, 0x85]))).toBe(5);
    expect(replyLength(Uint8Array.from([0x01, 0x01]))).toBe('need-more');
    expect(replyLength(Uint8Array.from([0x01, 0x01, 0x01]))).toBe(6);
    expect(replyLength(Uint8Array.from([0x00, 0x05]))).toBe('not-a-reply');
    expect(replyLength(Uint8Array.from([0x01, 0x42]))).toBe('not-a-reply');
    expect(replyLength(Uint8Array.from([0x01, 0x01, 0x00]))).toBe('not-a-reply');
  });

  it('names exceptions', () => {
    expect(describeException(2)).toBe('exception 02 (illegal data address)');
  });
});
