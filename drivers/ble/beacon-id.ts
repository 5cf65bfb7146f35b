/**
 * The identity of a static beacon, in the form the platform stores it as a
 * `ble_beacon` credential value (docs/coworking-platform-mapping.md):
 *
 *   ibeacon:<uuid>:<major>:<minor>      ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:1:2
 *   eddystone:<namespace>:<instance>    eddystone:8b0ca750095477cb3e77:000000000001
 *   altbeacon:<id1>:<id2>:<id3>         altbeacon:2f234454-cf6d-4a0f-adf2-f4911ba9ffa6:1:2
 *
 * Canonical form: lowercase hex, UUIDs with dashes, decimal numbers without
 * leading zeros, so the platform's record and the air compare equal.
 */
import type { ParsedFrame } from './frames.js';

export class BeaconIdFormatError extends Error {
  override readonly name = 'BeaconIdFormatError';
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/;

const uuid = (v: string): string => {
  const h = v.toLowerCase();
  if (!UUID.test(h)) throw new BeaconIdFormatError('expected a UUID (32 hex digits, dashes optional)');
  const x = h.replaceAll('-', '');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
};

const u16 = (v: string): string => {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 0xffff) throw new BeaconIdFormatError('major/minor (id2/id3) are 0 to 65535');
  return String(Number(v));
};

const hex = (v: string, bytes: number, what: string): string => {
  const h = v.toLowerCase();
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(h)) throw new BeaconIdFormatError(`${what} is ${bytes * 2} hex digits`);
  return h;
};

/** Canonicalise a beacon id as the cloud sends it. Throws BeaconIdFormatError. */
export function canonicalBeaconId(value: string): string {
  const parts = value.trim().split(':');
  switch (parts[0]?.toLowerCase()) {
    case 'ibeacon':
    case 'altbeacon':
      if (parts.length !== 4) break;
      return `${parts[0].toLowerCase()}:${uuid(parts[1] ?? '')}:${u16(parts[2] ?? '')}:${u16(parts[3] ?? '')}`;
    case 'eddystone':
      if (parts.length !== 3) break;
      return `eddystone:${hex(parts[1] ?? '', 10, 'namespace')}:${hex(parts[2] ?? '', 6, 'instance')}`;
    default:
      break;
  }
  throw new BeaconIdFormatError('expected "ibeacon:<uuid>:<major>:<minor>", "eddystone:<namespace>:<instance>" or "altbeacon:<id1>:<id2>:<id3>"');
}

/** The canonical beacon id a frame identifies, or null when the frame carries no static identity. */
export function beaconIdOf(frame: ParsedFrame): string | null {
  switch (frame.kind) {
    case 'ibeacon':
      return `ibeacon:${frame.fields.uuid}:${frame.fields.major}:${frame.fields.minor}`;
    case 'eddystone-uid':
      return `eddystone:${frame.fields.namespace}:${frame.fields.instance}`;
    case 'altbeacon':
      return `altbeacon:${frame.fields.id1}:${frame.fields.id2}:${frame.fields.id3}`;
    case 'eddystone-url':
    case 'eddystone-tlm':
    case 'manufacturer':
    case 'tap':
      return null;
  }
}
