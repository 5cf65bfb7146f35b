import { bitAt, bitField, wiegandBits, type WiegandBits } from './bits.js';
import { WIEGAND_FORMATS, type WiegandFormat, type WiegandFormatName } from './formats.js';

/** A card as a Wiegand format defines it. Numbers stay below 2^35, well inside a double. */
export interface WiegandCard {
  readonly format: WiegandFormatName;
  /** Facility (site) code; absent for formats without one (H10302). */
  readonly facility?: number;
  readonly card: number;
  /** All data bits without parity, and how many there are. */
  readonly body: bigint;
  readonly bodyLength: number;
}

export type WiegandRejection =
  /** No configured format has this many bits. */
  | 'unsupported-length'
  /** A parity bit does not match its mask: a misread, never a different card. */
  | 'parity';

export type WiegandDecodeResult =
  | { readonly ok: true; readonly card: WiegandCard }
  | { readonly ok: false; readonly reason: WiegandRejection };

/** Decodes a frame in one given format, checking every parity bit. */
export function decodeWiegand(bits: WiegandBits, formatName: WiegandFormatName): WiegandDecodeResult {
  const format = WIEGAND_FORMATS[formatName];
  if (bits.length !== format.bitCount) return { ok: false, reason: 'unsupported-length' };
  for (const parity of format.parity) {
    if (parityBitFor(bits, parity.over, parity.kind) !== bitAt(bits, parity.bit)) return { ok: false, reason: 'parity' };
  }
  return { ok: true, card: fieldsOf(format, bits) };
}

/**
 * Picks the format by bit count from the formats a site configured. Bit count
 * alone cannot tell H10306 from bqt34, so at most one format per length may be
 * configured; the constructor refuses anything else.
 */
export class WiegandDecoder {
  readonly #byLength = new Map<number, WiegandFormatName>();

  constructor(formats: readonly WiegandFormatName[]) {
    for (const name of formats) {
      const { bitCount } = WIEGAND_FORMATS[name];
      const other = this.#byLength.get(bitCount);
      if (other !== undefined && other !== name) {
        throw new RangeError(`Wiegand formats ${other} and ${name} are both ${bitCount} bits: configure only one`);
      }
      this.#byLength.set(bitCount, name);
    }
  }

  decode(bits: WiegandBits): WiegandDecodeResult {
    const format = this.#byLength.get(bits.length);
    return format === undefined ? { ok: false, reason: 'unsupported-length' } : decodeWiegand(bits, format);
  }
}

/**
 * The card behind a body whose parity bits a converter already stripped
 * (WG2RS232 "7B11D7", S4A "0008065495"). Nothing is left to check, so the
 * caller trusts the converter; undefined when the body is too wide for the format.
 */
export function wiegandCardFromBody(body: bigint, formatName: WiegandFormatName): WiegandCard | undefined {
  const format = WIEGAND_FORMATS[formatName];
  if (body < 0n || body >> BigInt(format.body.length) !== 0n) return undefined;
  // Re-frame with parity so the fields are read exactly as from a received frame.
  const framed = frame(format, body);
  return fieldsOf(format, framed);
}

export interface WiegandFields {
  readonly facility?: number;
  readonly card: number;
}

/** Builds the frame a reader would send; for tests, simulators and emulators. Throws when a field does not fit. */
export function encodeWiegand(formatName: WiegandFormatName, fields: WiegandFields): WiegandBits {
  const format = WIEGAND_FORMATS[formatName];
  const { facility: facilityField, card: cardField, body: bodyField } = format;
  const put = (field: { from: number; length: number }, value: number, what: string): bigint => {
    if (!Number.isSafeInteger(value) || value < 0 || BigInt(value) >> BigInt(field.length) !== 0n) {
      throw new RangeError(`${what} ${value} does not fit in ${field.length} bits of ${formatName}`);
    }
    return BigInt(value) << BigInt(bodyField.from + bodyField.length - (field.from + field.length));
  };
  let body = put(cardField, fields.card, 'card number');
  if (facilityField !== undefined) body |= put(facilityField, fields.facility ?? 0, 'facility code');
  else if (fields.facility !== undefined && fields.facility !== 0) throw new RangeError(`${formatName} has no facility code`);
  return frame(format, body);
}

/** Places the body and computes every parity bit in order. */
function frame(format: WiegandFormat, body: bigint): WiegandBits {
  const bodyShift = BigInt(format.bitCount - (format.body.from + format.body.length - 1));
  let bits = wiegandBits(format.bitCount, body << bodyShift);
  for (const parity of format.parity) {
    const value = parityBitFor(bits, parity.over, parity.kind);
    const mask = 1n << BigInt(format.bitCount - parity.bit);
    bits = { length: bits.length, value: value === 1 ? bits.value | mask : bits.value & ~mask };
  }
  return bits;
}

/** The parity bit value that makes the ones over `positions` plus itself even or odd. */
function parityBitFor(bits: WiegandBits, positions: readonly number[], kind: 'even' | 'odd'): number {
  let ones = 0;
  for (const position of positions) ones += bitAt(bits, position);
  const evenBit = ones % 2;
  return kind === 'even' ? evenBit : 1 - evenBit;
}

function fieldsOf(format: WiegandFormat, bits: WiegandBits): WiegandCard {
  const card = Number(bitField(bits, format.card.from, format.card.length));
  const body = bitField(bits, format.body.from, format.body.length);
  const base = { format: format.name, card, body, bodyLength: format.body.length };
  return format.facility === undefined
    ? base
    : { ...base, facility: Number(bitField(bits, format.facility.from, format.facility.length)) };
}
