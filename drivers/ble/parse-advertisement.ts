/**
 * Every frame in one advertisement as noble delivers it. Parse inside the
 * discover handler: noble merges advertisements per address and never clears
 * fields, so reading them later mixes frames (Eddystone UID and TLM overwrite
 * each other in serviceData).
 */
import { parseAltBeacon } from './altbeacon.js';
import { EDDYSTONE_SERVICE_UUID, parseEddystone } from './eddystone.js';
import { AdvertisementFormatError, type NobleAdvertisementData, type ParsedFrame } from './frames.js';
import { parseIBeacon } from './ibeacon.js';
import { parseTapToken, TAP_COMPANY_ID } from './tap-token.js';

export interface ParsedAdvertisement {
  readonly frames: ParsedFrame[];
  /** Frames that claimed a known format but broke it (one message each, never the bytes). */
  readonly errors: string[];
}

export interface ParseOptions {
  /** Company id the phones' tap tokens use (docs/ble-tap.md). */
  readonly tapCompanyId?: number;
}

export function parseAdvertisement(ad: NobleAdvertisementData, options: ParseOptions = {}): ParsedAdvertisement {
  const frames: ParsedFrame[] = [];
  const errors: string[] = [];
  const attempt = (parse: () => ParsedFrame | null): void => {
    try {
      const frame = parse();
      if (frame !== null) frames.push(frame);
    } catch (error) {
      if (!(error instanceof AdvertisementFormatError)) throw error;
      errors.push(error.message);
    }
  };
  const m = ad.manufacturerData;
  if (Buffer.isBuffer(m) && m.length > 0) attempt(() => parseManufacturerData(m, options.tapCompanyId ?? TAP_COMPANY_ID));
  for (const entry of ad.serviceData ?? []) {
    if (entry.uuid.toLowerCase() !== EDDYSTONE_SERVICE_UUID || !Buffer.isBuffer(entry.data)) continue;
    attempt(() => parseEddystone(entry.data));
  }
  return { frames, errors };
}

/** The most specific reading of manufacturer data: tap token, iBeacon, AltBeacon, else raw. */
export function parseManufacturerData(m: Buffer, tapCompanyId = TAP_COMPANY_ID): ParsedFrame {
  if (m.length < 2) throw new AdvertisementFormatError(`manufacturer data is ${m.length} byte(s), shorter than a company id`);
  const tap = parseTapToken(m, tapCompanyId);
  if (tap !== null) return { kind: 'tap', fields: tap };
  const ibeacon = parseIBeacon(m);
  if (ibeacon !== null) return { kind: 'ibeacon', fields: ibeacon };
  const alt = parseAltBeacon(m);
  if (alt !== null) return { kind: 'altbeacon', fields: alt };
  return { kind: 'manufacturer', fields: { companyId: m.readUInt16LE(0), data: m.subarray(2).toString('hex') } };
}
