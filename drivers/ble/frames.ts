/**
 * What the BLE parsers make of an advertisement, as plain JSON-safe data: the
 * scanner child process sends these over IPC, so no Buffers, only hex
 * strings and numbers.
 *
 * Input is exactly what noble delivers (stoprocent/noble): `manufacturerData`
 * is the AD 0xFF payload including its 2-byte little-endian company id, and
 * `serviceData` is `[{ uuid, data }]` with `data` excluding the UUID bytes.
 */

/** The advertisement fields the parsers read, as noble hands them over. */
export interface NobleAdvertisementData {
  readonly manufacturerData?: Buffer | null | undefined;
  readonly serviceData?: readonly { readonly uuid: string; readonly data: Buffer }[] | null | undefined;
}

export interface IBeaconFields {
  /** Proximity UUID, lowercase with dashes. */
  readonly uuid: string;
  readonly major: number;
  readonly minor: number;
  /** Calibrated RSSI at 1 m, dBm. */
  readonly measuredPower: number;
}

export interface EddystoneUidFields {
  /** Calibrated tx power at 0 m, dBm. */
  readonly txPower: number;
  /** 10-byte namespace, lowercase hex. */
  readonly namespace: string;
  /** 6-byte instance, lowercase hex. */
  readonly instance: string;
}

export interface EddystoneUrlFields {
  readonly txPower: number;
  readonly url: string;
}

export interface EddystoneTlmFields {
  /** Battery voltage in mV; null = not supported by the beacon. */
  readonly batteryMv: number | null;
  /** °C (8.8 fixed point); null = not supported. */
  readonly temperatureC: number | null;
  readonly advCount: number;
  /** Time since power-on, seconds (0.1 s resolution). */
  readonly uptimeS: number;
}

export interface AltBeaconFields {
  readonly manufacturerId: number;
  /** The 20-byte beacon id, lowercase hex. */
  readonly beaconId: string;
  /** Customary 16+2+2 split of the beacon id: id1 as a UUID, id2 and id3 as numbers. */
  readonly id1: string;
  readonly id2: number;
  readonly id3: number;
  /** Reference RSSI at 1 m, dBm. */
  readonly refRssi: number;
  readonly reserved: number;
}

export interface ManufacturerFields {
  readonly companyId: number;
  /** The payload after the company id, lowercase hex. */
  readonly data: string;
}

/** A Gatehouse tap token (docs/ble-tap.md); verified by the daemon, not here. */
export interface TapTokenFields {
  /** 4-byte key id, lowercase hex. */
  readonly keyId: string;
  /** 30-second time step (Unix seconds / 30). */
  readonly counter: number;
  /** Truncated HMAC-SHA-256, lowercase hex (8 bytes). */
  readonly mac: string;
}

export type ParsedFrame =
  | { readonly kind: 'ibeacon'; readonly fields: IBeaconFields }
  | { readonly kind: 'eddystone-uid'; readonly fields: EddystoneUidFields }
  | { readonly kind: 'eddystone-url'; readonly fields: EddystoneUrlFields }
  | { readonly kind: 'eddystone-tlm'; readonly fields: EddystoneTlmFields }
  | { readonly kind: 'altbeacon'; readonly fields: AltBeaconFields }
  | { readonly kind: 'manufacturer'; readonly fields: ManufacturerFields }
  | { readonly kind: 'tap'; readonly fields: TapTokenFields };

export type FrameKind = ParsedFrame['kind'];

/** One parsed frame of one advertisement, as the scanner child reports it. */
export type BleAdvertisement = ParsedFrame & {
  /** Device address as noble reports it ("aa:bb:cc:dd:ee:ff"). */
  readonly address: string;
  readonly rssi: number;
  /** Epoch ms at which the child received it (for logs; timing uses the daemon's monotonic clock). */
  readonly at: number;
};

/** Bytes that claim to be a known format but break it (wrong length, reserved values). */
export class AdvertisementFormatError extends Error {
  override readonly name = 'AdvertisementFormatError';
}

/** 16 bytes as a lowercase UUID with dashes. */
export function formatUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
