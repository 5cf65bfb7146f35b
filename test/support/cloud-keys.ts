/** Ed25519 key pairs for tests that play the cloud. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface TestCloudKey {
  readonly id: string;
  readonly privateKey: KeyObject;
  /** PEM, as it appears in the gateway config. */
  readonly publicPem: string;
}

export function cloudKey(id = 'cloud-test'): TestCloudKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { id, privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
