/** Signing keys for the simulated cloud: a PEM file, or a fresh pair whose public half the operator pastes into the gateway config. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SigningKey } from './protocol.js';

/** An Ed25519 private key from a PEM file (PKCS#8; text before the BEGIN line is ignored). */
export function loadSigningKey(path: string, keyId: string): SigningKey {
  const privateKey = createPrivateKey(readFileSync(path, 'utf8'));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${path}: not an Ed25519 private key`);
  return { keyId, privateKey };
}

export function generateSigningKey(keyId: string): SigningKey {
  return { keyId, privateKey: generateKeyPairSync('ed25519').privateKey };
}

/** The raw 32-byte public key in base64: the form cloud.publicKeys[].key takes. */
export function publicKeyBase64(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(12).toString('base64');
}
