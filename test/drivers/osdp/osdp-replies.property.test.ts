/**
 * A PD's reply payloads and secure-channel data are input, not trusted:
 * garbage never throws, decoders return undefined or a value consistent with
 * the bytes, and decryption of garbage is refused rather than misread.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCom, decodeKeypad, decodePdcap, decodePdid, decodeRaw, keypadCharacters } from '../../../drivers/osdp/commands.js';
import { decryptData, deriveSessionKeys, encryptData } from '../../../drivers/osdp/secure-channel.js';
import { fcOptions } from '../../support/fast-check.js';

const bytes = (max = 64) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const block = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));

describe('OSDP reply payloads (property)', () => {
  it('decoders never throw on garbage and what they return matches the bytes', () => {
    fc.assert(
      fc.property(bytes(), (data) => {
        const raw = decodeRaw(data);
        if (raw !== undefined) {
          expect(raw.bitCount).toBeGreaterThan(0);
          expect(raw.bits.length).toBe(Math.ceil(raw.bitCount / 8));
        }
        const keypad = decodeKeypad(data);
        if (keypad !== undefined) expect(keypad.keys.length).toBe(data[1]);
        expect(keypadCharacters(data)).toMatch(/^[0-9*#]*$/);
        expect(decodePdcap(data)).toHaveLength(Math.floor(data.length / 3));
        expect(decodePdid(data) === undefined).toBe(data.length < 12);
        expect(decodeCom(data) === undefined).toBe(data.length < 5);
      }),
      fcOptions(1000),
    );
  });

  it('decrypting garbage never throws and never yields more than it was given', () => {
    fc.assert(
      fc.property(block(16), block(8), block(16), bytes(96), (scbk, rndA, mac, encrypted) => {
        const plain = decryptData(deriveSessionKeys(scbk, rndA), mac, encrypted);
        if (plain !== undefined) expect(plain.length).toBeLessThan(encrypted.length);
      }),
      fcOptions(300),
    );
  });

  it('whatever is encrypted decrypts to itself (padding is unambiguous)', () => {
    fc.assert(
      fc.property(block(16), block(8), block(16), bytes(80), (scbk, rndA, mac, data) => {
        const keys = deriveSessionKeys(scbk, rndA);
        expect(decryptData(keys, mac, encryptData(keys, mac, data))).toEqual(data);
      }),
      fcOptions(300),
    );
  });
});
