/**
 * Credential values are stored and compared only as a keyed hash:
 * HMAC-SHA-256(site key, namespace || 0x00 || canonical value).
 *
 * The key lives in the secrets file, never in the database, so a stolen
 * database does not give up the 100,000-entry PIN space to a brute force.
 * PINs and visitor codes share the "code" namespace on purpose: both are typed
 * on the same keypads, and a collision between them must be visible.
 */
import { createHash, createHmac, hash, hkdfSync } from 'node:crypto';
import { BeaconIdFormatError, canonicalBeaconId } from '../../drivers/ble/beacon-id.js';
import type { CredentialKind } from '../engine/types.js';

/** BLE beacon ids and tap key ids each hash in a namespace of their own: neither can match a card, a code or each other. */
export type LookupNamespace = 'card' | 'code' | 'email' | 'ble_beacon' | 'ble_key';

export const namespaceOf = (kind: CredentialKind): LookupNamespace =>
  kind === 'card' || kind === 'ble_beacon' || kind === 'ble_key' ? kind : 'code';

export class CredentialFormatError extends Error {
  override readonly name = 'CredentialFormatError';
}

/**
 * The canonical form of a card number, so the reader's mapping and the
 * platform's record compare equal: decimal numbers without leading zeros
 * ("0004614867" = "4614867"), "FFF,CCCCC" zero-padded, hex uppercase.
 */
export function canonicalCard(value: string): string {
  const v = value.trim();
  if (/^\d{1,20}$/.test(v)) return BigInt(v).toString(10);
  const fc = /^(\d{1,3}),(\d{1,5})$/.exec(v);
  if (fc) return `${fc[1]!.padStart(3, '0')},${fc[2]!.padStart(5, '0')}`;
  if (/^[0-9a-fA-F]{1,20}$/.test(v)) return `x${v.toUpperCase()}`;
  throw new CredentialFormatError('card number must be decimal digits, "FFF,CCCCC" or hex');
}

/** Keypad codes keep leading zeros: "01234" and "1234" are different PINs. */
export function canonicalCode(value: string): string {
  const v = value.trim();
  if (!/^\d{4,12}$/.test(v)) throw new CredentialFormatError('a PIN or visitor code is 4 to 12 digits');
  return v;
}

/** A phone's tap key as the cloud sends it: "<key id, 8 hex digits>:<base64 of 32 bytes>". */
export function parseBleKey(value: string): { keyId: string; key: Buffer } {
  const m = /^([0-9a-fA-F]{8}):([A-Za-z0-9+/]{43}=)$/.exec(value.trim());
  const key = m === null ? null : Buffer.from(m[2] ?? '', 'base64');
  if (m === null || key === null || key.length !== 32) throw new CredentialFormatError('a BLE key is "<key id, 8 hex digits>:<base64 of 32 bytes>"');
  return { keyId: (m[1] ?? '').toLowerCase(), key };
}

/** SHA-256 block size: HMAC pads its key to one block (RFC 2104). */
const BLOCK = 64;
/** Room for namespace, separator and value in the reused message buffer; longer ones (no credential is) take createHmac. */
const MESSAGE_ROOM = 192;

export class CredentialHasher {
  readonly #key: Buffer;
  /** Key XOR ipad, followed by room for the message: the inner hash's input, rewritten per call. */
  readonly #inner: Buffer;
  /** Key XOR opad, followed by the 32-byte inner digest: the outer hash's input. */
  readonly #outer: Buffer;

  constructor(siteKey: Buffer) {
    if (siteKey.length < 32) throw new Error('site key must be at least 32 bytes');
    this.#key = siteKey;
    // HMAC-SHA-256 as two one-shot hashes over key blocks padded once here:
    // createHmac builds a key object, a stream and a native context on
    // every call, which was 2.5-3 µs of each card read; crypto.hash over
    // reused buffers is about 1 µs less. Same function, same bytes out
    // (the test compares it with createHmac).
    const key = siteKey.length > BLOCK ? createHash('sha256').update(siteKey).digest() : siteKey;
    this.#inner = Buffer.alloc(BLOCK + MESSAGE_ROOM);
    this.#outer = Buffer.alloc(BLOCK + 32);
    for (let i = 0; i < BLOCK; i++) {
      const k = key[i] ?? 0;
      this.#inner[i] = k ^ 0x36;
      this.#outer[i] = k ^ 0x5c;
    }
  }

  /**
   * A copy of the site key, for the one other place that must hash the same
   * way: the staging worker's own hasher (sync/staging-worker.ts). Never
   * logged, never written anywhere.
   */
  exportKey(): Buffer {
    return Buffer.from(this.#key);
  }

  /** The lookup key for a value already in canonical form. */
  lookup(namespace: LookupNamespace, canonical: string): Buffer {
    // A UTF-16 unit is at most 3 bytes of UTF-8: a message that might not fit takes createHmac.
    if ((namespace.length + canonical.length) * 3 + 1 > MESSAGE_ROOM) {
      return createHmac('sha256', this.#key).update(namespace).update('\0').update(canonical).digest();
    }
    const inner = this.#inner;
    let end = BLOCK + inner.write(namespace, BLOCK, 'utf8');
    inner[end++] = 0;
    end += inner.write(canonical, end, 'utf8');
    hash('sha256', inner.subarray(0, end), 'buffer').copy(this.#outer, BLOCK);
    return hash('sha256', this.#outer, 'buffer');
  }

  /** Canonicalise and hash a value as the cloud or a reader delivers it. Throws CredentialFormatError. */
  lookupOf(kind: CredentialKind | 'keypad', value: string): Buffer {
    if (kind === 'card') return this.lookup('card', canonicalCard(value));
    if (kind === 'ble_key') return this.lookup('ble_key', parseBleKey(value).keyId);
    if (kind === 'ble_beacon') {
      try {
        return this.lookup('ble_beacon', canonicalBeaconId(value));
      } catch (error) {
        if (error instanceof BeaconIdFormatError) throw new CredentialFormatError(error.message);
        throw error;
      }
    }
    return this.lookup('code', canonicalCode(value));
  }

  /**
   * A key for another purpose, derived from the site key with HKDF-SHA-256
   * (RFC 5869), so the site key itself is used for one thing only.
   */
  deriveKey(info: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), info, 32));
  }

  /**
   * The lookup key of an email address (Wi-Fi and kiosk sign-in). Compared
   * case-insensitively, as mail systems do in practice, after trimming.
   */
  emailLookup(email: string): Buffer {
    return this.lookup('email', email.trim().toLowerCase());
  }
}

/** Short, non-reversible tag for logs and events: the first 8 hex digits of the keyed hash. */
export const fingerprint = (lookup: Buffer): string => lookup.subarray(0, 4).toString('hex');
