import { describe, expect, it } from 'vitest';
import { LineDecoder, compileLinePattern, parseHexBytes, type LineDecodeOptions } from '../../drivers/line-reader/line-decoder.js';
import { encodeWiegand } from '../../drivers/wiegand/decode.js';
import { wiegandBitsToString } from '../../drivers/wiegand/bits.js';

const decode = (line: string, decodeOptions: LineDecodeOptions, pattern?: string) =>
  new LineDecoder({ pattern, decode: decodeOptions }).decode(Buffer.from(line, 'utf8'));
const text: LineDecodeOptions = { as: 'text' };
const wg = (as: Exclude<LineDecodeOptions['as'], 'text'>, cardFormat: 'decimal10' | 'fc-cn' | 'hex' = 'fc-cn', format: 'h10301' | 'h10306' = 'h10301'): LineDecodeOptions => ({
  as,
  format,
  cardFormat,
});

describe('LineDecoder', () => {
  it('passes text through, trimmed', () => {
    expect(decode('  0004614867 \t', text)).toEqual({ ok: true, number: '0004614867' });
    expect(decode('GH:member 42', text)).toEqual({ ok: true, number: 'GH:member 42' });
  });

  it('extracts with a pattern: named group `credential`, else group 1, else the whole match', () => {
    expect(decode('GH1:0004614867:x', text, '^GH1:(?<credential>\\d{10}):')).toEqual({ ok: true, number: '0004614867' });
    expect(decode('GH1:0004614867', text, '^GH1:(\\d{10})$')).toEqual({ ok: true, number: '0004614867' });
    expect(decode('ID 0004614867 OK', text, '\\d{10}')).toEqual({ ok: true, number: '0004614867' });
    expect(decode('https://evil.example/0004614867', text, '^GH1:(\\d{10})$')).toEqual({ ok: false, reason: 'no-match' });
  });

  it('rejects invalid UTF-8 and control characters as garbage', () => {
    expect(new LineDecoder({ decode: text }).decode(Uint8Array.of(0x30, 0xff, 0x31))).toEqual({ ok: false, reason: 'garbage' });
    expect(decode('12\u000734', text)).toEqual({ ok: false, reason: 'garbage' });
  });

  it('decodes a WG2RS232 hex body: 7B11D7 → 123,04567', () => {
    expect(decode('7B11D7', wg('wiegand-body-hex'))).toEqual({ ok: true, number: '123,04567' });
    expect(decode('7b11d7', wg('wiegand-body-hex', 'decimal10'))).toEqual({ ok: true, number: '0008065495' });
    expect(decode('17B11D7', wg('wiegand-body-hex'))).toEqual({ ok: false, reason: 'out-of-range' });
  });

  it('decodes an S4A decimal body: 0000123478 → 001,57942', () => {
    expect(decode('0000123478', wg('wiegand-body-decimal'))).toEqual({ ok: true, number: '001,57942' });
    expect(decode('0016777216', wg('wiegand-body-decimal'))).toEqual({ ok: false, reason: 'out-of-range' });
    expect(decode('0004614867', wg('wiegand-body-decimal', 'decimal10', 'h10306'))).toEqual({ ok: true, number: '0004614867' });
  });

  it('checks parity in a whole frame given as bits', () => {
    expect(decode('10111101100010001110101110', wg('wiegand-frame-bits'))).toEqual({ ok: true, number: '123,04567' });
    expect(decode('10111101100010001110101111', wg('wiegand-frame-bits'))).toEqual({ ok: false, reason: 'parity' });
    expect(decode('1011110110001000111010111', wg('wiegand-frame-bits'))).toEqual({ ok: false, reason: 'wrong-length' });
  });

  it('checks parity in a whole frame given in hex', () => {
    expect(decode('2F623AE', wg('wiegand-frame-hex'))).toEqual({ ok: true, number: '123,04567' });
    expect(decode('2F623AF', wg('wiegand-frame-hex'))).toEqual({ ok: false, reason: 'parity' });
    expect(decode('4F623AE', wg('wiegand-frame-hex'))).toEqual({ ok: false, reason: 'out-of-range' });
    const w34 = BigInt(`0b${wiegandBitsToString(encodeWiegand('h10306', { facility: 70, card: 27347 }))}`).toString(16);
    expect(decode(w34, wg('wiegand-frame-hex', 'decimal10', 'h10306'))).toEqual({ ok: true, number: '0004614867' });
  });

  it('refuses a number in the wrong alphabet', () => {
    expect(decode('12AB', wg('wiegand-body-decimal'))).toEqual({ ok: false, reason: 'no-match' });
    expect(decode('7B11D7', wg('wiegand-body-decimal'), '^(.*)$')).toEqual({ ok: false, reason: 'out-of-range' });
  });

  it('names the problem in a bad pattern', () => {
    expect(() => compileLinePattern('(unclosed')).toThrow(/invalid pattern "\(unclosed"/);
  });

  it('parses feedback bytes', () => {
    expect([...(parseHexBytes('1B 42 0d') ?? [])]).toEqual([0x1b, 0x42, 0x0d]);
    expect(parseHexBytes('1B4')).toBeUndefined();
    expect(parseHexBytes('zz')).toBeUndefined();
  });
});
