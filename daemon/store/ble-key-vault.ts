/**
 * Phone tap keys at rest. Unlike a card number, a tap key must be usable
 * (the gateway computes HMACs with it), not only comparable, so it cannot be
 * hashed: it is encrypted with AES-256-GCM under a key derived from the site
 * key (which lives in the secrets file, never in the database). The lookup
 * key of the row is the additional data, so a sealed key moved to another
 * row does not open.
 *
 * Layout of the `secret` column: nonce (12) || ciphertext (32) || tag (16).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CredentialHasher } from './credential-hash.js';

const NONCE = 12;
const TAG = 16;
const KEY_INFO = 'gatehouse/ble-key-vault/v1';

export class BleKeyVault {
  readonly #key: Buffer;

  constructor(hasher: CredentialHasher) {
    this.#key = hasher.deriveKey(KEY_INFO);
  }

  seal(plain: Buffer, lookup: Buffer): Buffer {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    cipher.setAAD(lookup);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  /** Throws when the secret was altered, moved to another row, or sealed under another site key. */
  open(sealed: Buffer, lookup: Buffer): Buffer {
    if (sealed.length <= NONCE + TAG) throw new Error('sealed BLE key is too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, NONCE));
    decipher.setAAD(lookup);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([decipher.update(sealed.subarray(NONCE, sealed.length - TAG)), decipher.final()]);
  }
}
