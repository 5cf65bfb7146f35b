/**
 * A Wiegand frame as received: `length` bits, bit 1 (the first transmitted,
 * usually a parity bit) being the most significant bit of `value`. A bigint
 * because formats run past 32 bits (35, 37, 48) and JavaScript bit operators
 * stop at 32.
 */
export interface WiegandBits {
  readonly length: number;
  readonly value: bigint;
}

/** Longest frame accepted; every known card format is far shorter. */
export const WIEGAND_MAX_BITS = 128;

export function wiegandBits(length: number, value: bigint): WiegandBits {
  if (!Number.isInteger(length) || length < 1 || length > WIEGAND_MAX_BITS) {
    throw new RangeError(`a Wiegand frame has 1..${WIEGAND_MAX_BITS} bits, got ${length}`);
  }
  if (value < 0n || value >> BigInt(length) !== 0n) throw new RangeError(`value does not fit in ${length} bits`);
  return { length, value };
}

/** Parses "1011…" (first transmitted bit first); undefined for anything else. */
export function wiegandBitsFromString(text: string): WiegandBits | undefined {
  if (text.length < 1 || text.length > WIEGAND_MAX_BITS || !/^[01]+$/.test(text)) return undefined;
  return { length: text.length, value: BigInt(`0b${text}`) };
}

export function wiegandBitsToString(bits: WiegandBits): string {
  return bits.value.toString(2).padStart(bits.length, '0');
}

/**
 * Bits packed MSB first and left-justified in whole bytes, as OSDP RAW card
 * data carries them (`BD 88 EB 80` for 26 bits). Padding bits are ignored.
 */
export function wiegandBitsFromBytes(bytes: Uint8Array, bitCount: number): WiegandBits | undefined {
  if (!Number.isInteger(bitCount) || bitCount < 1 || bitCount > WIEGAND_MAX_BITS) return undefined;
  const byteCount = Math.ceil(bitCount / 8);
  if (bytes.length < byteCount) return undefined;
  let value = 0n;
  for (let index = 0; index < byteCount; index += 1) value = (value << 8n) | BigInt(bytes[index] ?? 0);
  return { length: bitCount, value: value >> BigInt(byteCount * 8 - bitCount) };
}

/** Bit `position` (1 = first transmitted) as 0 or 1. */
export function bitAt(bits: WiegandBits, position: number): number {
  return Number((bits.value >> BigInt(bits.length - position)) & 1n);
}

/** The `length` bits starting at `from` (1-based), as an unsigned integer. */
export function bitField(bits: WiegandBits, from: number, length: number): bigint {
  const shift = BigInt(bits.length - (from + length - 1));
  return (bits.value >> shift) & ((1n << BigInt(length)) - 1n);
}
