/**
 * CRC-16/MODBUS: reflected polynomial 0xA001, initial value 0xFFFF, sent low
 * byte first. Check value for "123456789" is 0x4B37.
 */
export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The frame with its CRC appended, low byte first. */
export function withCrc(bytes: Uint8Array): Buffer {
  const crc = crc16Modbus(bytes);
  return Buffer.from([...bytes, crc & 0xff, crc >>> 8]);
}

/** True when the last two bytes are the CRC of the rest. */
export function hasValidCrc(frame: Uint8Array): boolean {
  if (frame.length < 3) return false;
  const crc = crc16Modbus(frame.subarray(0, frame.length - 2));
  return frame[frame.length - 2] === (crc & 0xff) && frame[frame.length - 1] === crc >>> 8;
}
