/** Rolling tap tokens verified offline against a real SQLite cache: skew, expiry, replay, forgery. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TapVerifier } from '../../daemon/ble/tap-verifier.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { datasetSchema } from '../../daemon/sync/dataset.js';
import { encodeTapToken, parseTapToken, tapStep } from '../../drivers/ble/tap-token.js';
import { BLE } from '../support/ble-site.js';
import { tempDir } from '../support/temp-dir.js';

const hasher = new CredentialHasher(Buffer.alloc(32, 7));
const AT = Date.parse('2026-03-02T09:00:10Z');
const STEP = tapStep(AT);
const keyId = Buffer.from(BLE.adaKeyId, 'hex');
const token = (counter: number, key: Buffer = BLE.adaKey, id = keyId) => parseTapToken(encodeTapToken(key, id, counter))!;

describe('TapVerifier', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let cache: CredentialCache;
  let verifier: TapVerifier;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(join(dir.path, 'gatehouse.db'));
    cache = new CredentialCache(db, hasher);
    cache.applySnapshot(
      datasetSchema.parse({
        schema: 'gatehouse.dataset/1',
        version: 1,
        people: [{ id: 'm-1', kind: 'member', name: 'Ada', status: 'active', credentials: [{ id: 'k', kind: 'ble_key', value: `${BLE.adaKeyId}:${BLE.adaKey.toString('base64')}` }] }],
      }),
      AT,
    );
    verifier = new TapVerifier(db, hasher, cache);
  });
  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('accepts the current step and one step of skew either way', () => {
    expect(verifier.verify(token(STEP - 1), AT)).toMatchObject({ ok: true, personId: 'm-1', counter: STEP - 1 });
    expect(verifier.verify(token(STEP), AT)).toMatchObject({ ok: true, counter: STEP });
    expect(verifier.verify(token(STEP + 1), AT)).toMatchObject({ ok: true, counter: STEP + 1 });
    const ok = verifier.verify(token(STEP + 1), AT);
    expect(ok).toEqual({ ok: false, reason: 'replayed' });
  });

  it('refuses expired and future tokens (clock skew beyond one step)', () => {
    expect(verifier.verify(token(STEP - 2), AT)).toEqual({ ok: false, reason: 'expired' });
    expect(verifier.verify(token(STEP + 2), AT)).toEqual({ ok: false, reason: 'future' });
    // The same token 61 s later has expired.
    expect(verifier.verify(token(STEP), AT + 61_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('accepts a counter once per person, also after a restart, and never an older one', () => {
    expect(verifier.verify(token(STEP), AT).ok).toBe(true);
    expect(verifier.verify(token(STEP), AT + 1_000)).toEqual({ ok: false, reason: 'replayed' });
    expect(new TapVerifier(db, hasher, cache).verify(token(STEP), AT + 2_000)).toEqual({ ok: false, reason: 'replayed' });
    expect(verifier.verify(token(STEP - 1), AT)).toEqual({ ok: false, reason: 'replayed' });
    expect(verifier.verify(token(STEP + 1), AT).ok).toBe(true);
  });

  it('refuses a forged MAC and an unknown key id without spending the counter', () => {
    expect(verifier.verify(token(STEP, Buffer.alloc(32, 1)), AT)).toEqual({ ok: false, reason: 'bad_mac' });
    expect(verifier.verify(token(STEP, BLE.adaKey, Buffer.from('ffffffff', 'hex')), AT)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(verifier.verify(token(STEP), AT).ok).toBe(true);
  });
});
