import { formatWiegandCard, type WiegandCardFormat } from '../card-format/wiegand-number.js';
import { wiegandBits, wiegandBitsFromString } from '../wiegand/bits.js';
import { decodeWiegand, wiegandCardFromBody, type WiegandCard } from '../wiegand/decode.js';
import { WIEGAND_FORMATS, type WiegandFormatName } from '../wiegand/formats.js';

/**
 * How the text a pattern extracted becomes a card number:
 *
 *   text                  as is (barcode and QR scanners, readers that already type the stored number)
 *   wiegand-body-hex      Wiegand data bits without parity, in hex: WG2RS232 "7B11D7"
 *   wiegand-body-decimal  the same in decimal: S4A "0008065495"
 *   wiegand-frame-hex     the whole frame including parity bits, in hex: parity is checked
 *   wiegand-frame-bits    the whole frame as "1011…": parity is checked
 */
export const WIEGAND_LINE_ENCODINGS = ['wiegand-body-hex', 'wiegand-body-decimal', 'wiegand-frame-hex', 'wiegand-frame-bits'] as const;
export type WiegandLineEncoding = (typeof WIEGAND_LINE_ENCODINGS)[number];
export type LineEncoding = 'text' | WiegandLineEncoding;

export type LineDecodeOptions =
  | { readonly as: 'text' }
  | { readonly as: WiegandLineEncoding; readonly format: WiegandFormatName; readonly cardFormat: WiegandCardFormat };

/** Used when no pattern is configured: the whole line, trimmed, in the encoding's alphabet. */
export const DEFAULT_LINE_PATTERNS: Readonly<Record<LineEncoding, string>> = {
  text: '^\\s*(\\S(?:.*\\S)?)\\s*$',
  'wiegand-body-hex': '^\\s*([0-9A-Fa-f]+)\\s*$',
  'wiegand-body-decimal': '^\\s*([0-9]+)\\s*$',
  'wiegand-frame-hex': '^\\s*([0-9A-Fa-f]+)\\s*$',
  'wiegand-frame-bits': '^\\s*([01]+)\\s*$',
};

export type LineRejection =
  /** Not valid UTF-8, or control characters: noise, not a credential. */
  | 'garbage'
  /** The pattern did not match, or captured nothing. */
  | 'no-match'
  /** Not a number in the encoding's alphabet, or too wide for the Wiegand format. */
  | 'out-of-range'
  /** A whole frame with the wrong number of bits for the format. */
  | 'wrong-length'
  /** A whole frame whose parity does not check out: a misread, never another card. */
  | 'parity';

export type LineDecodeResult = { readonly ok: true; readonly number: string } | { readonly ok: false; readonly reason: LineRejection };

/** Longest credential text accepted from a line. */
const MAX_CREDENTIAL_LENGTH = 256;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const CONTROL_OR_INVALID = /[\u0000-\u0008\u000a-\u001f\u007f\ufffd]/;

/**
 * Turns one line into a card number. The pattern picks the credential out of
 * the line (named group `credential`, else group 1, else the whole match);
 * the encoding turns it into the number the platform stores. Never throws.
 */
export class LineDecoder {
  readonly #pattern: RegExp;
  readonly #decode: LineDecodeOptions;

  constructor(options: { readonly pattern?: string | undefined; readonly decode: LineDecodeOptions }) {
    this.#decode = options.decode;
    this.#pattern = compileLinePattern(options.pattern ?? DEFAULT_LINE_PATTERNS[options.decode.as]);
  }

  decode(line: Uint8Array): LineDecodeResult {
    const text = Buffer.from(line).toString('utf8');
    if (CONTROL_OR_INVALID.test(text)) return { ok: false, reason: 'garbage' };
    const match = this.#pattern.exec(text);
    const value = match === null ? undefined : (match.groups?.credential ?? match[1] ?? match[0]);
    if (value === undefined || value.length === 0 || value.length > MAX_CREDENTIAL_LENGTH) return { ok: false, reason: 'no-match' };
    const decode = this.#decode;
    if (decode.as === 'text') return { ok: true, number: value };
    const card = decodeWiegandText(value, decode.as, decode.format);
    return 'reason' in card ? card : { ok: true, number: formatWiegandCard(card, decode.cardFormat) };
  }
}

/** Compiles a configured pattern; throws a message naming the problem for config checks. */
export function compileLinePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new SyntaxError(`invalid pattern ${JSON.stringify(pattern)}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function decodeWiegandText(
  value: string,
  encoding: WiegandLineEncoding,
  formatName: WiegandFormatName,
): WiegandCard | { readonly ok: false; readonly reason: LineRejection } {
  const format = WIEGAND_FORMATS[formatName];
  switch (encoding) {
    case 'wiegand-body-hex':
    case 'wiegand-body-decimal': {
      const body = parseNumber(value, encoding === 'wiegand-body-hex' ? 16 : 10);
      const card = body === undefined ? undefined : wiegandCardFromBody(body, formatName);
      return card ?? { ok: false, reason: 'out-of-range' };
    }
    case 'wiegand-frame-hex': {
      const frame = parseNumber(value, 16);
      if (frame === undefined || frame >> BigInt(format.bitCount) !== 0n) return { ok: false, reason: 'out-of-range' };
      const result = decodeWiegand(wiegandBits(format.bitCount, frame), formatName);
      return result.ok ? result.card : { ok: false, reason: 'parity' };
    }
    case 'wiegand-frame-bits': {
      const bits = wiegandBitsFromString(value);
      if (bits === undefined) return { ok: false, reason: 'out-of-range' };
      if (bits.length !== format.bitCount) return { ok: false, reason: 'wrong-length' };
      const result = decodeWiegand(bits, formatName);
      return result.ok ? result.card : { ok: false, reason: 'parity' };
    }
  }
}

/** Digits of one radix only (no sign, no 0x, no separators); at most 40 digits so BigInt stays cheap. */
function parseNumber(text: string, radix: 10 | 16): bigint | undefined {
  const digits = radix === 16 ? /^[0-9A-Fa-f]{1,40}$/ : /^[0-9]{1,40}$/;
  if (!digits.test(text)) return undefined;
  return BigInt(radix === 16 ? `0x${text}` : text);
}

/** "1B 42 0D" or "1b420d" → bytes; undefined unless it is whole hex bytes. */
export function parseHexBytes(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(compact)) return undefined;
  return Uint8Array.from(Buffer.from(compact, 'hex'));
}
