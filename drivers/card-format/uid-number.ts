/**
 * The number the platform stores for a 13.56 MHz card UID. The canonical form
 * is the UID in hex; sites migrating from other readers store what those
 * readers produced, which is why the other renderings exist:
 *
 *   UID 9E B3 6E 66   hex 9EB36E66   hex-reversed 666EB39E
 *                     decimal 2662559334   decimal-reversed 1718530974
 *                     decimal10 2662559334   decimal10-reversed 1718530974
 *
 * "reversed" is little-endian, what many 13.56 MHz keyboard-wedge readers type.
 */
export const UID_CARD_FORMATS = ['hex', 'hex-reversed', 'decimal', 'decimal-reversed', 'decimal10', 'decimal10-reversed'] as const;
export type UidCardFormat = (typeof UID_CARD_FORMATS)[number];

/**
 * Renders a UID, or undefined when the format cannot represent it (a 7- or
 * 10-byte UID has no 10-digit rendering; cutting it would merge cards).
 */
export function formatUid(uid: Uint8Array, format: UidCardFormat): string | undefined {
  if (uid.length === 0) return undefined;
  switch (format) {
    case 'hex':
      return hex(uid);
    case 'hex-reversed':
      return hex(reversed(uid));
    case 'decimal':
      return toBigInt(uid).toString(10);
    case 'decimal-reversed':
      return toBigInt(reversed(uid)).toString(10);
    case 'decimal10':
      return uid.length === 4 ? toBigInt(uid).toString(10).padStart(10, '0') : undefined;
    case 'decimal10-reversed':
      return uid.length === 4 ? toBigInt(reversed(uid)).toString(10).padStart(10, '0') : undefined;
  }
}

/**
 * A 4-byte UID starting 08 is a random ID (ISO 14443-3 RID): phones, HCE and
 * some DESFire cards make up a new one on every activation, so it identifies
 * nobody and must never be looked up as a credential.
 */
export function isRandomUid(uid: Uint8Array): boolean {
  return uid.length === 4 && uid[0] === 0x08;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function reversed(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes).reverse();
}

function toBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}
