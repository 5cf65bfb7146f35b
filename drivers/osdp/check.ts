/**
 * OSDP check characters. CRC-16/AUG-CCITT: poly 0x1021, init 0x1D0F, no
 * reflection, sent LSB first (Annex E; libosdp crc16_itu_t(0x1D0F, …)). Not
 * KERMIT, whatever some libraries call it.
 */

const CRC_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte += 1) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

export function osdpCrc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0x1d0f;
  for (let index = start; index < end; index += 1) {
    crc = ((crc << 8) & 0xffff) ^ (CRC_TABLE[((crc >> 8) ^ (bytes[index] ?? 0)) & 0xff] ?? 0);
  }
  return crc;
}

/** Two's complement of the 8-bit sum. */
export function osdpChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let sum = 0;
  for (let index = start; index < end; index += 1) sum = (sum + (bytes[index] ?? 0)) & 0xff;
  return (0x100 - sum) & 0xff;
}
