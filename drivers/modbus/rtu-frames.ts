import { withCrc } from './crc16.js';

/**
 * The Modbus-RTU requests a relay board needs (FC05 write single coil, FC01
 * read coils) and the reply grammar a master parses. Addresses 1..247; 0 is
 * broadcast and gets no reply, so a relay never uses it.
 */
export const MODBUS_MIN_SLAVE = 1;
export const MODBUS_MAX_SLAVE = 247;
export const FC_READ_COILS = 0x01;
export const FC_READ_DISCRETE_INPUTS = 0x02;
export const FC_WRITE_SINGLE_COIL = 0x05;
const EXCEPTION_BIT = 0x80;

export function assertSlave(slave: number): void {
  if (!Number.isInteger(slave) || slave < MODBUS_MIN_SLAVE || slave > MODBUS_MAX_SLAVE) {
    throw new RangeError(`Modbus slave address must be an integer ${MODBUS_MIN_SLAVE}..${MODBUS_MAX_SLAVE}, got ${slave}`);
  }
}

export function assertCoil(coil: number): void {
  if (!Number.isInteger(coil) || coil < 0 || coil > 0xffff) throw new RangeError(`coil address must be 0..65535, got ${coil}`);
}

/** FC05: `ADDR 05 COIL_HI COIL_LO VAL_HI VAL_LO CRC_LO CRC_HI`, VAL FF 00 = on, 00 00 = off. */
export function encodeWriteSingleCoil(slave: number, coil: number, on: boolean): Buffer {
  assertSlave(slave);
  assertCoil(coil);
  return withCrc(Uint8Array.of(slave, FC_WRITE_SINGLE_COIL, coil >> 8, coil & 0xff, on ? 0xff : 0x00, 0x00));
}

/** FC01: `ADDR 01 START_HI START_LO QTY_HI QTY_LO CRC_LO CRC_HI`, 1..2000 coils. */
export function encodeReadCoils(slave: number, start: number, quantity: number): Buffer {
  assertSlave(slave);
  assertCoil(start);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 2000 || start + quantity > 0x10000) {
    throw new RangeError(`coil quantity must be 1..2000 within the address space, got ${quantity}`);
  }
  return withCrc(Uint8Array.of(slave, FC_READ_COILS, start >> 8, start & 0xff, quantity >> 8, quantity & 0xff));
}

/** FC02: `ADDR 02 START_HI START_LO QTY_HI QTY_LO CRC_LO CRC_HI`, 1..2000 discrete inputs (same layout as FC01). */
export function encodeReadDiscreteInputs(slave: number, start: number, quantity: number): Buffer {
  const request = encodeReadCoils(slave, start, quantity);
  request[1] = FC_READ_DISCRETE_INPUTS;
  return withCrc(request.subarray(0, 6));
}

/**
 * The bits of an FC01/FC02 reply `ADDR FC N DATA… CRC`: bit 0 of the first
 * data byte is the first address asked for. Throws when the byte count does
 * not fit `quantity` (a reply to another request, or a confused board).
 */
export function decodeBits(reply: RtuReply, quantity: number): boolean[] {
  const byteCount = reply.pdu[1] ?? 0;
  const expected = Math.ceil(quantity / 8);
  if (byteCount !== expected || reply.pdu.length !== 2 + expected) {
    throw new RangeError(`expected ${expected} data byte(s) for ${quantity} bit(s), got ${byteCount}`);
  }
  return Array.from({ length: quantity }, (_, i) => ((reply.pdu[2 + (i >> 3)] ?? 0) & (1 << (i & 7))) !== 0);
}

/** A reply frame with a valid CRC. `pdu` is the function code and data, without address and CRC. */
export interface RtuReply {
  readonly slave: number;
  readonly functionCode: number;
  readonly pdu: Buffer;
  readonly frame: Buffer;
}

export function isException(reply: RtuReply): boolean {
  return (reply.functionCode & EXCEPTION_BIT) !== 0;
}

export function exceptionCode(reply: RtuReply): number | undefined {
  return isException(reply) ? reply.pdu[1] : undefined;
}

const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target failed to respond',
};

export function describeException(code: number): string {
  return `exception ${code.toString(16).padStart(2, '0')} (${EXCEPTION_NAMES[code] ?? 'unknown'})`;
}

/**
 * Length of the reply frame starting with `address, functionCode[, byteCount]`:
 * a number once enough header bytes are known, 'need-more' before that, or
 * 'not-a-reply' when these bytes cannot start a reply.
 */
export function replyLength(header: Uint8Array): number | 'need-more' | 'not-a-reply' {
  if (header.length < 2) return 'need-more';
  const slave = header[0] ?? 0;
  const functionCode = header[1] ?? 0;
  if (slave < MODBUS_MIN_SLAVE || slave > MODBUS_MAX_SLAVE) return 'not-a-reply';
  if ((functionCode & EXCEPTION_BIT) !== 0) return REPLY_SHAPES[functionCode & ~EXCEPTION_BIT] === undefined ? 'not-a-reply' : 5;
  const shape = REPLY_SHAPES[functionCode];
  if (shape === undefined) return 'not-a-reply';
  if (shape === 'byte-count') {
    if (header.length < 3) return 'need-more';
    const byteCount = header[2] ?? 0;
    return byteCount === 0 ? 'not-a-reply' : 3 + byteCount + 2;
  }
  return shape;
}

/** Reads carry a byte count; writes echo 8 bytes (address, code, 4 bytes, CRC). */
const REPLY_SHAPES: Readonly<Record<number, 'byte-count' | 8>> = {
  0x01: 'byte-count',
  0x02: 'byte-count',
  0x03: 'byte-count',
  0x04: 'byte-count',
  0x05: 8,
  0x06: 8,
  0x0f: 8,
  0x10: 8,
};

/** Longest reply the grammar allows: address, code, byte count 255, data, CRC. */
export const MAX_REPLY_LENGTH = 3 + 255 + 2;
