/**
 * Offline verification of a phone's rolling tap token (docs/ble-tap.md):
 * the counter must be within one 30-second step of the gateway's clock, the
 * MAC must match the key filed under the key id, and a counter is accepted
 * once per person: only a counter above the last one accepted for that
 * person passes (kept in ble_tap_counters, so a restart does not reopen a
 * recorded token's window).
 */
import { timingSafeEqual } from 'node:crypto';
import { tapMac, tapStep } from '../../drivers/ble/tap-token.js';
import type { TapTokenFields } from '../../drivers/ble/frames.js';
import type { CredentialCache } from '../store/cache.js';
import type { CredentialHasher } from '../store/credential-hash.js';
import type { Db } from '../store/database.js';

export type TapRejection = 'expired' | 'future' | 'unknown_key' | 'bad_mac' | 'replayed';

export type TapVerdict =
  | { readonly ok: true; readonly lookup: Buffer; readonly personId: string; readonly counter: number }
  | { readonly ok: false; readonly reason: TapRejection };

/** Steps either side of the gateway's current step that are accepted (clock skew, a token sent at a boundary). */
export const TAP_STEP_TOLERANCE = 1;

export class TapVerifier {
  readonly #hasher: CredentialHasher;
  readonly #cache: CredentialCache;
  readonly #last;
  readonly #accept;

  constructor(db: Db, hasher: CredentialHasher, cache: CredentialCache) {
    this.#hasher = hasher;
    this.#cache = cache;
    this.#last = db.prepare<[string], { counter: number }>(`SELECT counter FROM ble_tap_counters WHERE person_id = ?`);
    const upsert = db.prepare(
      `INSERT INTO ble_tap_counters (person_id, counter, accepted_at) VALUES (?, ?, ?)
       ON CONFLICT (person_id) DO UPDATE SET counter = excluded.counter, accepted_at = excluded.accepted_at WHERE excluded.counter > ble_tap_counters.counter`,
    );
    this.#accept = (personId: string, counter: number, at: number): boolean => upsert.run(personId, counter, at).changes === 1;
  }

  /** Check a token at wall-clock instant `at`; an accepted counter is recorded and never accepted again. */
  verify(token: TapTokenFields, at: number): TapVerdict {
    const step = tapStep(at);
    if (token.counter < step - TAP_STEP_TOLERANCE) return { ok: false, reason: 'expired' };
    if (token.counter > step + TAP_STEP_TOLERANCE) return { ok: false, reason: 'future' };
    const lookup = this.#hasher.lookup('ble_key', token.keyId);
    const keys = this.#cache.bleKeys(lookup);
    if (keys.length === 0) return { ok: false, reason: 'unknown_key' };
    const keyId = Buffer.from(token.keyId, 'hex');
    const mac = Buffer.from(token.mac, 'hex');
    const owner = keys.find((k) => {
      const expected = tapMac(k.key, keyId, token.counter);
      return expected.length === mac.length && timingSafeEqual(expected, mac);
    });
    if (owner === undefined) return { ok: false, reason: 'bad_mac' };
    // After the MAC: nobody can burn a person's counters without their key.
    if ((this.#last.get(owner.personId)?.counter ?? -1) >= token.counter) return { ok: false, reason: 'replayed' };
    if (!this.#accept(owner.personId, token.counter, at)) return { ok: false, reason: 'replayed' };
    return { ok: true, lookup, personId: owner.personId, counter: token.counter };
  }
}
