/**
 * Eddystone frames (google/eddystone) in noble's serviceData entry for
 * 0xFEAA (`data` = the frame, without the UUID): UID, URL and plain TLM.
 * EID and encrypted TLM carry nothing a gateway can use without the
 * beacon's keys: they are not parsed.
 */
import { AdvertisementFormatError, type EddystoneTlmFields, type EddystoneUidFields, type EddystoneUrlFields } from './frames.js';

export const EDDYSTONE_SERVICE_UUID = 'feaa';

const FRAME_UID = 0x00;
const FRAME_URL = 0x10;
const FRAME_TLM = 0x20;

export type EddystoneFrame =
  | { readonly kind: 'eddystone-uid'; readonly fields: EddystoneUidFields }
  | { readonly kind: 'eddystone-url'; readonly fields: EddystoneUrlFields }
  | { readonly kind: 'eddystone-tlm'; readonly fields: EddystoneTlmFields };

const SCHEMES = ['http://www.', 'https://www.', 'http://', 'https://'] as const;
const EXPANSIONS = ['.com/', '.org/', '.edu/', '.net/', '.info/', '.biz/', '.gov/', '.com', '.org', '.edu', '.net', '.info', '.biz', '.gov'] as const;

/** Null for frame types this gateway does not use (EID, encrypted TLM, reserved types). */
export function parseEddystone(frame: Buffer): EddystoneFrame | null {
  if (frame.length === 0) throw new AdvertisementFormatError('empty Eddystone frame');
  switch (frame[0]) {
    case FRAME_UID:
      return { kind: 'eddystone-uid', fields: parseUid(frame) };
    case FRAME_URL:
      return { kind: 'eddystone-url', fields: parseUrl(frame) };
    case FRAME_TLM: {
      const tlm = parseTlm(frame);
      return tlm === null ? null : { kind: 'eddystone-tlm', fields: tlm };
    }
    default:
      return null;
  }
}

function parseUid(f: Buffer): EddystoneUidFields {
  // 20 bytes with the two RFU bytes; beacons that drop them send 18.
  if (f.length !== 18 && f.length !== 20) throw new AdvertisementFormatError(`Eddystone-UID frame is ${f.length} bytes, expected 18 or 20`);
  return { txPower: f.readInt8(1), namespace: f.subarray(2, 12).toString('hex'), instance: f.subarray(12, 18).toString('hex') };
}

function parseUrl(f: Buffer): EddystoneUrlFields {
  if (f.length < 3 || f.length > 20) throw new AdvertisementFormatError(`Eddystone-URL frame is ${f.length} bytes, expected 3 to 20`);
  const scheme = SCHEMES[f[2] ?? 0xff];
  if (scheme === undefined) throw new AdvertisementFormatError(`Eddystone-URL scheme byte 0x${(f[2] ?? 0).toString(16)} is reserved`);
  let url: string = scheme;
  for (const byte of f.subarray(3)) {
    const expansion = EXPANSIONS[byte];
    if (expansion !== undefined) url += expansion;
    else if (byte > 0x20 && byte < 0x7f) url += String.fromCharCode(byte);
    else throw new AdvertisementFormatError(`Eddystone-URL byte 0x${byte.toString(16)} is reserved`);
  }
  return { txPower: f.readInt8(1), url };
}

function parseTlm(f: Buffer): EddystoneTlmFields | null {
  if (f.length < 2) throw new AdvertisementFormatError('Eddystone-TLM frame has no version byte');
  if (f[1] !== 0x00) return null; // 0x01 = encrypted (ETLM): needs the beacon's key
  if (f.length !== 14) throw new AdvertisementFormatError(`Eddystone-TLM frame is ${f.length} bytes, expected 14`);
  const mv = f.readUInt16BE(2);
  const temp = f.readInt16BE(4);
  return {
    batteryMv: mv === 0 ? null : mv,
    // 0x8000 (-128 °C) means "not supported".
    temperatureC: temp === -0x8000 ? null : temp / 256,
    advCount: f.readUInt32BE(6),
    uptimeS: f.readUInt32BE(10) / 10,
  };
}
