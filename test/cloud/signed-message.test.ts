import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloudKeyring, SIGNED_SCHEMA, signPayload } from '../../daemon/cloud/signed-message.js';
import { cloudKey } from '../support/cloud-keys.js';
import { fcOptions } from '../support/fast-check.js';

const current = cloudKey('k2026');
const next = cloudKey('k2027');
const stranger = cloudKey('k2026');
const raw32 = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').subarray(12).toString('base64');
const keyring = new CloudKeyring([
  { id: current.id, key: current.publicPem },
  { id: next.id, key: raw32(next.publicPem) },
]);

describe('signed cloud messages', () => {
  it('verifies messages from every configured key (rotation), in PEM or raw base64', () => {
    const payload = { type: 'delta', gatewayId: 'gw1', fromVersion: 1, toVersion: 2 };
    expect(keyring.verify(signPayload(current.privateKey, current.id, payload), 65_536)).toEqual({ ok: true, keyId: 'k2026', payload });
    expect(keyring.verify(Buffer.from(signPayload(next.privateKey, next.id, payload)), 65_536)).toMatchObject({ ok: true, keyId: 'k2027' });
  });

  it('rejects with a reason: unsigned, wrong key, tampered, unknown key, oversized, malformed', () => {
    const good = JSON.parse(signPayload(current.privateKey, current.id, { n: 1 })) as { payload: string; sig: string };
    const reasons = [
      keyring.verify(JSON.stringify({ type: 'delta' }), 65_536),
      keyring.verify(signPayload(stranger.privateKey, 'k2026', { n: 1 }), 65_536),
      keyring.verify(JSON.stringify({ ...good, schema: SIGNED_SCHEMA, keyId: 'k2026', payload: Buffer.from('{"n":2}').toString('base64') }), 65_536),
      keyring.verify(signPayload(current.privateKey, 'old-key', { n: 1 }), 65_536),
      keyring.verify(signPayload(current.privateKey, current.id, { pad: 'x'.repeat(2000) }), 1000),
      keyring.verify('not json', 65_536),
      keyring.verify(JSON.stringify({ schema: SIGNED_SCHEMA, keyId: 'k2026', payload: good.payload, sig: 'AAAA' }), 65_536),
    ].map((r) => (r.ok ? 'ok' : r.reason));
    expect(reasons).toEqual(['malformed', 'bad_signature', 'bad_signature', 'unknown_key', 'oversized', 'malformed', 'bad_signature']);
  });

  it('refuses a key that is not Ed25519', () => {
    expect(() => new CloudKeyring([{ id: 'x', key: 'AAAA' }])).toThrow();
  });

  it('never throws on garbage and never accepts it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.record({ schema: fc.constant(SIGNED_SCHEMA), keyId: fc.constantFrom('k2026', 'k2027', 'x'), payload: fc.base64String({ minLength: 1 }), sig: fc.base64String({ minLength: 1, maxLength: 100 }) }).map((o) => JSON.stringify(o))), (input) => {
        expect(keyring.verify(input, 4096).ok).toBe(false);
      }),
      fcOptions(1000),
    );
  });
});
