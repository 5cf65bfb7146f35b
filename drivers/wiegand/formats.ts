/**
 * Wiegand card formats as bit layouts. Positions are 1-based, bit 1 being the
 * first transmitted. Layouts and parity masks follow
 * RfidResearchGroup/proxmark3 client/src/wiegand_formats.c (see the
 * access-control reference, §3).
 */

/** A run of data bits: `length` bits starting at bit `from`. */
export interface BitField {
  readonly from: number;
  readonly length: number;
}

/** Parity bit `bit` makes the number of ones over `over` plus itself even or odd. */
export interface ParityBit {
  readonly bit: number;
  readonly kind: 'even' | 'odd';
  readonly over: readonly number[];
}

export interface WiegandFormat {
  readonly name: WiegandFormatName;
  readonly bitCount: number;
  /** All data bits (everything except parity), what converters that strip parity report. */
  readonly body: BitField;
  readonly facility?: BitField;
  readonly card: BitField;
  /** In encoding order: a later parity bit may cover an earlier one (Corporate 1000 bit 1). */
  readonly parity: readonly ParityBit[];
}

export const WIEGAND_FORMAT_NAMES = ['h10301', 'h10306', 'bqt34', 'corporate1000-35', 'h10304', 'h10302'] as const;
export type WiegandFormatName = (typeof WIEGAND_FORMAT_NAMES)[number];

/** One format per common length; 34-bit frames default to H10306 (bqt34 must be chosen explicitly). */
export const DEFAULT_WIEGAND_FORMATS: readonly WiegandFormatName[] = ['h10301', 'h10306', 'corporate1000-35', 'h10304'];

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Positions from..to whose offset from `from` is not ≡ skip (mod 3): Corporate 1000's "two of every three". */
const twoOfThree = (from: number, to: number, skip: number): number[] => range(from, to).filter((p) => (p - from) % 3 !== skip);

export const WIEGAND_FORMATS: Readonly<Record<WiegandFormatName, WiegandFormat>> = {
  h10301: {
    name: 'h10301',
    bitCount: 26,
    body: { from: 2, length: 24 },
    facility: { from: 2, length: 8 },
    card: { from: 10, length: 16 },
    parity: [
      { bit: 1, kind: 'even', over: range(2, 13) },
      { bit: 26, kind: 'odd', over: range(14, 25) },
    ],
  },
  h10306: {
    name: 'h10306',
    bitCount: 34,
    body: { from: 2, length: 32 },
    facility: { from: 2, length: 16 },
    card: { from: 18, length: 16 },
    parity: [
      { bit: 1, kind: 'even', over: range(2, 17) },
      { bit: 34, kind: 'odd', over: range(18, 33) },
    ],
  },
  bqt34: {
    name: 'bqt34',
    bitCount: 34,
    body: { from: 2, length: 32 },
    facility: { from: 2, length: 8 },
    card: { from: 10, length: 24 },
    parity: [
      { bit: 1, kind: 'even', over: range(2, 17) },
      { bit: 34, kind: 'odd', over: range(18, 33) },
    ],
  },
  'corporate1000-35': {
    name: 'corporate1000-35',
    bitCount: 35,
    body: { from: 3, length: 32 },
    facility: { from: 3, length: 12 },
    card: { from: 15, length: 20 },
    parity: [
      // Bit 2: even over 3–4, 6–7 … 33–34. Bit 35: odd over 2–3, 5–6 … 32–33. Bit 1: odd over 2–35, last.
      { bit: 2, kind: 'even', over: twoOfThree(3, 34, 2) },
      { bit: 35, kind: 'odd', over: twoOfThree(2, 33, 2) },
      { bit: 1, kind: 'odd', over: range(2, 35) },
    ],
  },
  h10304: {
    name: 'h10304',
    bitCount: 37,
    body: { from: 2, length: 35 },
    facility: { from: 2, length: 16 },
    card: { from: 18, length: 19 },
    parity: [
      // The two ranges overlap at bit 19.
      { bit: 1, kind: 'even', over: range(2, 19) },
      { bit: 37, kind: 'odd', over: range(19, 36) },
    ],
  },
  h10302: {
    name: 'h10302',
    bitCount: 37,
    body: { from: 2, length: 35 },
    card: { from: 2, length: 35 },
    parity: [
      { bit: 1, kind: 'even', over: range(2, 19) },
      { bit: 37, kind: 'odd', over: range(19, 36) },
    ],
  },
};
