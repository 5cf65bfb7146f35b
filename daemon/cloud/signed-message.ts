/**
 * Every message the cloud sends a gateway (sync snapshots and deltas,
 * commands, event acknowledgements) travels in one signed envelope:
 *
 *   { "schema": "gatehouse.signed/1", "keyId": "...", "payload": "<base64>", "sig": "<base64>" }
 *
 * `sig` is Ed25519 over the raw payload bytes. Base64 of the exact bytes
 * avoids any JSON canonicalisation question: what was signed is what is
 * parsed. The payload names its own type and target gateway, so a message
 * signed for one purpose or one gateway cannot be replayed as another; the
 * consumers check those fields.
 *
 * Verification never throws: a bad message becomes a rejection with a
 * machine-readable reason, and nothing else happens.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const SIGNED_SCHEMA = 'gatehouse.signed/1';

export const envelopeSchema = z
  .object({
    schema: z.literal(SIGNED_SCHEMA),
    keyId: z.string().min(1).max(64).describe('Id of the cloud key that signed; the gateway config lists the valid ones.'),
    payload: z.string().min(1).describe('Base64 of the exact UTF-8 JSON bytes that were signed.'),
    sig: z.string().min(1).max(200).describe('Base64 Ed25519 signature over the payload bytes.'),
  })
  .strict();

export type SignedEnvelope = z.infer<typeof envelopeSchema>;

export type RejectReason = 'oversized' | 'malformed' | 'unknown_key' | 'bad_signature' | 'payload_not_json';

export type Verified = { readonly ok: true; readonly keyId: string; readonly payload: unknown } | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export interface CloudPublicKey {
  readonly id: string;
  /** PEM ("-----BEGIN PUBLIC KEY-----") or the raw 32-byte key in base64. */
  readonly key: string;
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN')
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(trimmed, 'base64')]), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
  return key;
}

/**
 * The cloud's public keys. Several may be valid at once so the cloud can
 * rotate: publish with the new key once every gateway has both.
 */
export class CloudKeyring {
  readonly #keys = new Map<string, KeyObject>();

  constructor(keys: readonly CloudPublicKey[]) {
    for (const k of keys) this.#keys.set(k.id, parsePublicKey(k.key));
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Check size, envelope, key and signature, then parse the payload as JSON. Never throws. */
  verify(raw: Buffer | string, maxBytes: number): Verified {
    const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
    if (size > maxBytes) return { ok: false, reason: 'oversized', detail: `${size} bytes > ${maxBytes}` };
    let json: unknown;
    try {
      json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed', detail: 'envelope is not JSON' };
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      const issue = envelope.error.issues[0];
      return { ok: false, reason: 'malformed', detail: `envelope: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim() };
    }
    const { keyId, payload, sig } = envelope.data;
    const key = this.#keys.get(keyId);
    if (key === undefined) return { ok: false, reason: 'unknown_key', detail: `no cloud key "${keyId.slice(0, 64)}"` };
    const bytes = Buffer.from(payload, 'base64');
    const signature = Buffer.from(sig, 'base64');
    let good = false;
    try {
      good = signature.length === 64 && verify(null, bytes, key, signature);
    } catch {
      good = false;
    }
    if (!good) return { ok: false, reason: 'bad_signature', detail: `signature does not verify with key "${keyId}"` };
    try {
      return { ok: true, keyId, payload: JSON.parse(bytes.toString('utf8')) as unknown };
    } catch {
      return { ok: false, reason: 'payload_not_json', detail: 'signed payload is not JSON' };
    }
  }
}

/**
 * Sign a payload the way the cloud does. Used by scripts/cloud-sim, the tools
 * that prepare signed import files, and the tests; the gateway itself never signs.
 */
export function signPayload(privateKey: KeyObject | string, keyId: string, payload: unknown): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
  return JSON.stringify({ schema: SIGNED_SCHEMA, keyId, payload: bytes.toString('base64'), sig: sign(null, bytes, key).toString('base64') });
}
