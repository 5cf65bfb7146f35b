/**
 * First step for every signed message on the command and ack topics: verify
 * the envelope with the keyring, and when that fails, say why in the terms an
 * operator needs (an unsigned message is a different mistake from a bad
 * signature) and recover what the message claims to be, for correlation only.
 */
import { SIGNED_SCHEMA, type CloudKeyring } from './signed-message.js';

export type EnvelopeRejectReason = 'oversized' | 'malformed' | 'unsigned' | 'unknown_key' | 'bad_signature' | 'payload_not_json';

export type Opened =
  | { readonly ok: true; readonly keyId: string; readonly payload: unknown }
  | {
      readonly ok: false;
      readonly reason: EnvelopeRejectReason;
      readonly detail: string;
      /** What the message says its payload is, unverified: never act on it. */
      readonly claimed: unknown;
    };

export function openSigned(keyring: CloudKeyring, raw: Buffer, maxBytes: number): Opened {
  const verified = keyring.verify(raw, maxBytes);
  if (verified.ok) return verified;
  if (verified.reason === 'oversized') return { ok: false, reason: 'oversized', detail: verified.detail, claimed: null };
  const json = parseJson(raw.toString('utf8'));
  const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
  // JSON without the envelope's schema marker: someone sent a bare payload.
  if (verified.reason === 'malformed' && isObject && !('sig' in json) && (!('schema' in json) || json.schema !== SIGNED_SCHEMA)) {
    return { ok: false, reason: 'unsigned', detail: 'not a signed envelope (gatehouse.signed/1)', claimed: json };
  }
  return { ok: false, reason: verified.reason, detail: verified.detail, claimed: isObject ? envelopePayload(json) : null };
}

/** A string field of an object, shortened; null when absent or not a string. */
export function claimedString(claimed: unknown, field: string, maxLength = 128): string | null {
  if (typeof claimed !== 'object' || claimed === null || !(field in claimed)) return null;
  const value = (claimed as Record<string, unknown>)[field];
  return typeof value === 'string' && value.length > 0 ? value.slice(0, maxLength) : null;
}

function envelopePayload(envelope: object): unknown {
  const payload = claimedString(envelope, 'payload', Number.MAX_SAFE_INTEGER);
  return payload === null ? null : parseJson(Buffer.from(payload, 'base64').toString('utf8'));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
