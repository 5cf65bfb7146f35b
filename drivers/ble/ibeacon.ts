/**
 * Apple iBeacon in noble's manufacturerData: `4C 00 02 15 <uuid 16> <major BE> <minor BE> <power int8>`
 * (25 bytes). Apple sends many other 0x004C types (Nearby, Find My): those are not ours.
 */
import { AdvertisementFormatError, formatUuid, type IBeaconFields } from './frames.js';

export const APPLE_COMPANY_ID = 0x004c;
const IBEACON_TYPE = 0x02;
const IBEACON_LENGTH = 0x15;
const IBEACON_BYTES = 25;

/** Null when the data is not an iBeacon; throws AdvertisementFormatError when it claims to be one but is cut short. */
export function parseIBeacon(m: Buffer): IBeaconFields | null {
  if (m.length < 4 || m.readUInt16LE(0) !== APPLE_COMPANY_ID || m[2] !== IBEACON_TYPE || m[3] !== IBEACON_LENGTH) return null;
  if (m.length < IBEACON_BYTES) throw new AdvertisementFormatError(`iBeacon data is ${m.length} bytes, expected ${IBEACON_BYTES}`);
  return {
    uuid: formatUuid(m.subarray(4, 20)),
    major: m.readUInt16BE(20),
    minor: m.readUInt16BE(22),
    measuredPower: m.readInt8(24),
  };
}
