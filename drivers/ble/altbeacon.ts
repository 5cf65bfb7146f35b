/**
 * AltBeacon (AltBeacon/spec) in noble's manufacturerData:
 * `<mfg id LE> BE AC <beacon id 20> <ref RSSI int8> <reserved>` (26 bytes),
 * from any manufacturer: the beacon code 0xBEAC, sent big-endian, marks it.
 */
import { AdvertisementFormatError, formatUuid, type AltBeaconFields } from './frames.js';

const BEACON_CODE = 0xbeac;
const ALTBEACON_BYTES = 26;

export function parseAltBeacon(m: Buffer): AltBeaconFields | null {
  if (m.length < 4 || m.readUInt16BE(2) !== BEACON_CODE) return null;
  if (m.length !== ALTBEACON_BYTES) throw new AdvertisementFormatError(`AltBeacon data is ${m.length} bytes, expected ${ALTBEACON_BYTES}`);
  return {
    manufacturerId: m.readUInt16LE(0),
    beaconId: m.subarray(4, 24).toString('hex'),
    id1: formatUuid(m.subarray(4, 20)),
    id2: m.readUInt16BE(20),
    id3: m.readUInt16BE(22),
    refRssi: m.readInt8(24),
    reserved: m[25] ?? 0,
  };
}
