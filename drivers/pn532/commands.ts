/**
 * The few PN532 commands a reader needs, and decoders for their responses.
 * Decoders take the response parameters (after the response code) and never
 * throw: anything that does not fit the grammar is `undefined` or `malformed`.
 */
export const PN532_COMMAND = {
  getFirmwareVersion: 0x02,
  samConfiguration: 0x14,
  rfConfiguration: 0x32,
  inListPassiveTarget: 0x4a,
  inRelease: 0x52,
} as const;

/** SAMConfiguration, normal mode (no SAM), no timeout: also takes the PN532 out of LowVbat. */
export const SAM_NORMAL_MODE: Uint8Array = Uint8Array.of(0x01);

/** InListPassiveTarget for one ISO 14443 type A target at 106 kbps. */
export const LIST_ONE_TYPE_A: Uint8Array = Uint8Array.of(0x01, 0x00);

/** InRelease of all targets, so that a resting card answers the next poll. */
export const RELEASE_ALL: Uint8Array = Uint8Array.of(0x00);

/**
 * RFConfiguration item 5 (MaxRetries): MxRtyATR FF, MxRtyPSL 01 (the
 * defaults) and a finite MxRtyPassiveActivation. The default FF retries
 * forever, and InListPassiveTarget then never answers while no card is there.
 */
export function maxRetries(passiveActivation: number): Uint8Array {
  if (!Number.isInteger(passiveActivation) || passiveActivation < 0 || passiveActivation > 0xfe) {
    throw new RangeError(`passive activation retries must be 0..254 (255 means forever), got ${passiveActivation}`);
  }
  return Uint8Array.of(0x05, 0xff, 0x01, passiveActivation);
}

export interface FirmwareVersion {
  /** 0x32 for a PN532. */
  readonly ic: number;
  readonly version: number;
  readonly revision: number;
  readonly support: number;
}

export function decodeFirmwareVersion(params: Uint8Array): FirmwareVersion | undefined {
  if (params.length !== 4) return undefined;
  const [ic = 0, version = 0, revision = 0, support = 0] = params;
  return { ic, version, revision, support };
}

export interface PassiveTarget {
  /** Logical target number the PN532 assigned. */
  readonly tg: number;
  /** SENS_RES (ATQA), as the two bytes arrive: 0x0004 for MIFARE Classic 1K. */
  readonly sensRes: number;
  /** SEL_RES (SAK). */
  readonly selRes: number;
  /** NFCID1: 4, 7 or 10 bytes. */
  readonly uid: Buffer;
}

export type InListResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'target'; readonly target: PassiveTarget }
  | { readonly kind: 'malformed' };

const UID_LENGTHS = new Set([4, 7, 10]);
/** SAK bit 6: the target is ISO 14443-4 compliant and its ATS follows the UID. */
const SAK_ISO14443_4 = 0x20;

/**
 * Decodes `NbTg [Tg SENS_RES(2) SEL_RES NFCIDLength NFCID1… (ATS…)]` for a
 * request of one type A target. The whole response must be accounted for:
 * a length that disagrees with the bytes is a malformed response, never a
 * shorter or longer UID.
 */
export function decodeInListPassiveTarget(params: Uint8Array): InListResult {
  const count = params[0];
  if (count === 0 && params.length === 1) return { kind: 'none' };
  if (count !== 1 || params.length < 6) return { kind: 'malformed' };
  const tg = params[1] ?? 0;
  const sensRes = ((params[2] ?? 0) << 8) | (params[3] ?? 0);
  const selRes = params[4] ?? 0;
  const uidLength = params[5] ?? 0;
  if (!UID_LENGTHS.has(uidLength)) return { kind: 'malformed' };
  const uidEnd = 6 + uidLength;
  if (params.length < uidEnd) return { kind: 'malformed' };
  const rest = params.length - uidEnd;
  if (rest > 0) {
    // Only an ISO 14443-4 target has an ATS, and its first byte (TL) counts the whole ATS.
    if ((selRes & SAK_ISO14443_4) === 0 || params[uidEnd] !== rest) return { kind: 'malformed' };
  }
  return { kind: 'target', target: { tg, sensRes, selRes, uid: Buffer.from(params.subarray(6, uidEnd)) } };
}

/** InRelease / InDeselect status byte: 0x00 is success; the low 6 bits are the error code. */
export function decodeStatus(params: Uint8Array): number | undefined {
  return params.length === 1 ? (params[0] ?? 0) & 0x3f : undefined;
}
