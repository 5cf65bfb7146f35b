/**
 * The rolling "tap" credential a member's phone advertises (specified for
 * phone developers in docs/ble-tap.md). Manufacturer-specific data:
 *
 *   offset  bytes  field
 *   0       2      company id, little-endian (0xFFFF: test/internal use; configurable)
 *   2       2      magic "GH" (0x47 0x48)
 *   4       1      version 0x01
 *   5       4      key id (assigned by the platform with the key)
 *   9       4      counter, big-endian: floor(unix seconds / 30)
 *   13      8      HMAC-SHA-256(key, key id || counter)[0..8)
 *
 * 21 bytes: with the flags AD (3) and the manufacturer AD header (2) the
 * advertisement is 26 of the 31 legacy bytes. Only the layout lives here;
 * the daemon verifies (daemon/ble/tap-verifier.ts).
 */
import { createHmac } from 'node:crypto';
import { AdvertisementFormatError, type TapTokenFields } from './frames.js';

export const TAP_COMPANY_ID = 0xffff;
export const TAP_MAGIC = 0x4748;
export const TAP_VERSION = 0x01;
export const TAP_TOKEN_BYTES = 21;
export const TAP_STEP_SECONDS = 30;
export const TAP_MAC_BYTES = 8;
export const TAP_KEY_ID_BYTES = 4;
export const TAP_KEY_BYTES = 32;

/** The time step a wall-clock instant falls in. */
export const tapStep = (epochMs: number): number => Math.floor(epochMs / 1000 / TAP_STEP_SECONDS);

/** The MAC over key id || counter (both as sent). */
export function tapMac(key: Buffer, keyId: Buffer, counter: number): Buffer {
  const message = Buffer.alloc(TAP_KEY_ID_BYTES + 4);
  keyId.copy(message, 0);
  message.writeUInt32BE(counter, TAP_KEY_ID_BYTES);
  return createHmac('sha256', key).update(message).digest().subarray(0, TAP_MAC_BYTES);
}

/** What the phone advertises as manufacturerData (the reference encoder; tests and docs use it). */
export function encodeTapToken(key: Buffer, keyId: Buffer, counter: number, companyId = TAP_COMPANY_ID): Buffer {
  if (key.length !== TAP_KEY_BYTES) throw new RangeError(`a tap key is ${TAP_KEY_BYTES} bytes`);
  if (keyId.length !== TAP_KEY_ID_BYTES) throw new RangeError(`a key id is ${TAP_KEY_ID_BYTES} bytes`);
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) throw new RangeError('counter is a 32-bit unsigned integer');
  const out = Buffer.alloc(TAP_TOKEN_BYTES);
  out.writeUInt16LE(companyId, 0);
  out.writeUInt16BE(TAP_MAGIC, 2);
  out[4] = TAP_VERSION;
  keyId.copy(out, 5);
  out.writeUInt32BE(counter, 9);
  tapMac(key, keyId, counter).copy(out, 13);
  return out;
}

/** Null when the data is not a tap token; throws AdvertisementFormatError for a damaged one. */
export function parseTapToken(m: Buffer, companyId = TAP_COMPANY_ID): TapTokenFields | null {
  if (m.length < 5 || m.readUInt16LE(0) !== companyId || m.readUInt16BE(2) !== TAP_MAGIC) return null;
  if (m[4] !== TAP_VERSION) throw new AdvertisementFormatError(`tap token version ${m[4]} is not supported (expected ${TAP_VERSION})`);
  if (m.length !== TAP_TOKEN_BYTES) throw new AdvertisementFormatError(`tap token is ${m.length} bytes, expected ${TAP_TOKEN_BYTES}`);
  return { keyId: m.subarray(5, 9).toString('hex'), counter: m.readUInt32BE(9), mac: m.subarray(13, 21).toString('hex') };
}
