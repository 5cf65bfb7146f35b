/** Keeps the phone team's test vectors in docs/ble-tap.md true: recomputed here from the gateway's encoder. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeTapToken, parseTapToken, tapMac, tapStep } from '../../drivers/ble/tap-token.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/ble-tap.md', import.meta.url)), 'utf8');
const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const keyId = Buffer.from('0a1b2c3d', 'hex');

describe('docs/ble-tap.md test vectors', () => {
  it.each([
    [null, 0],
    ['2026-03-02T09:00:10Z', 59081400],
    ['2026-03-02T09:00:30Z', 59081401],
  ])('the row for %s matches the encoder', (time, counter) => {
    if (time !== null) expect(tapStep(Date.parse(time))).toBe(counter);
    const mac = tapMac(key, keyId, counter).toString('hex');
    const data = encodeTapToken(key, keyId, counter).toString('hex');
    const row = doc.split('\n').find((line) => line.includes(`| \`${mac}\` | \`${data}\` |`));
    expect(row, `row with MAC ${mac}`).toBeDefined();
    expect(row).toContain(time ?? '| — |');
    expect(row).toContain(`| ${counter} `);
    expect(parseTapToken(Buffer.from(data, 'hex'))).toEqual({ keyId: '0a1b2c3d', counter, mac });
  });

  it('the MAC is HMAC-SHA-256 over key id || counter, truncated to 8 bytes, as the doc says', async () => {
    const { createHmac } = await import('node:crypto');
    const message = Buffer.from('0a1b2c3d038582b8', 'hex');
    expect(createHmac('sha256', key).update(message).digest().subarray(0, 8).toString('hex')).toBe(tapMac(key, keyId, 59081400).toString('hex'));
    expect(doc).toContain('accepts counters 59081399 to 59081401');
  });
});
