/**
 * The demo's cloud key. Its private half is committed to the repository
 * (config/demo-cloud-key.DEMO-ONLY.pem) so the demo data set can be signed
 * and the demo cloud played by anyone; that is exactly why no real gateway
 * may trust it. Gatehouse refuses to start with it unless site.id is "demo".
 */
import { parsePublicKey, type CloudPublicKey } from '../cloud/signed-message.js';

export const DEMO_KEY_ID = 'DEMO-ONLY-not-for-production';
export const DEMO_PUBLIC_KEY = 'eaylggQsfxK+nYHSpLJVA0t6gvzPP1SZG9eCU1qppBA=';
export const DEMO_SITE_ID = 'demo';

export class DemoKeyError extends Error {
  override readonly name = 'DemoKeyError';
}

/** Throws unless the demo key is absent or the site is the demo site. */
export function assertDemoKeyConfinedToDemo(siteId: string, keys: readonly CloudPublicKey[]): void {
  if (siteId === DEMO_SITE_ID) return;
  const demo = parsePublicKey(DEMO_PUBLIC_KEY).export({ type: 'spki', format: 'der' });
  const trusted = keys.find((k) => k.id === DEMO_KEY_ID || parsePublicKey(k.key).export({ type: 'spki', format: 'der' }).equals(demo));
  if (trusted !== undefined) {
    throw new DemoKeyError(
      `cloud.publicKeys "${trusted.id}" is the demo key, whose private half is public: anyone could sign data for this gateway. Remove it (it is accepted only when site.id is "${DEMO_SITE_ID}").`,
    );
  }
}
