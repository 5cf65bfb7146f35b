/**
 * BLE credentials in the offline cache: beacon ids and tap key ids hash in
 * namespaces of their own; a tap key is stored only sealed (AES-256-GCM
 * under a key derived from the site key), never in plaintext.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BleKeyVault } from '../../daemon/store/ble-key-vault.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { datasetSchema } from '../../daemon/sync/dataset.js';
import { tempDir } from '../support/temp-dir.js';

const hasher = new CredentialHasher(Buffer.alloc(32, 7));
const tapKey = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const KEY_VALUE = `0A1B2C3D:${tapKey.toString('base64')}`;
const BEACON = 'ibeacon:E2C56DB5-DFFB-48D2-B060-D0F5A71096E0:1:2';

const dataset = datasetSchema.parse({
  schema: 'gatehouse.dataset/1',
  version: 1,
  people: [
    {
      id: 'm-1',
      kind: 'member',
      name: 'Ada',
      status: 'active',
      credentials: [
        { id: 'b-1', kind: 'ble_beacon', value: BEACON },
        { id: 'k-1', kind: 'ble_key', value: KEY_VALUE },
        { id: 'bad-key', kind: 'ble_key', value: '0a1b2c3d:c2hvcnQ=' },
        { id: 'bad-beacon', kind: 'ble_beacon', value: 'ibeacon:nope:1:2' },
      ],
    },
  ],
});

describe('BLE credentials in the cache', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let cache: CredentialCache;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(join(dir.path, 'gatehouse.db'));
    cache = new CredentialCache(db, hasher);
  });
  afterEach(() => {
    if (db.open) db.close();
    dir.remove();
  });

  it('stores beacons and keys under their own lookups, rejecting malformed values by id', () => {
    const result = cache.applySnapshot(dataset, Date.now());
    expect(result.credentials).toBe(2);
    expect(result.rejectedCredentials.map((r) => r.id)).toEqual(['bad-key', 'bad-beacon']);
    const beacon = hasher.lookup('ble_beacon', 'ibeacon:e2c56db5-dffb-48d2-b060-d0f5a71096e0:1:2');
    expect(hasher.lookupOf('ble_beacon', BEACON).equals(beacon)).toBe(true);
    expect(cache.candidates(beacon).map((c) => c.credential)).toMatchObject([{ id: 'b-1', kind: 'ble_beacon' }]);
    const keyLookup = hasher.lookup('ble_key', '0a1b2c3d');
    expect(cache.bleKeys(keyLookup)).toEqual([{ personId: 'm-1', key: tapKey }]);
    // Namespaces: the same text as a card or a code matches nothing.
    expect(hasher.lookup('card', '0a1b2c3d').equals(keyLookup)).toBe(false);
    expect(cache.bleKeys(beacon)).toEqual([]);
  });

  it('never writes the tap key in plaintext to the database files', () => {
    cache.applySnapshot(dataset, Date.now());
    db.close();
    const files = readdirSync(dir.path).map((f) => readFileSync(join(dir.path, f)));
    const all = Buffer.concat(files);
    for (const needle of [tapKey, Buffer.from(tapKey.toString('base64')), Buffer.from(tapKey.toString('hex')), Buffer.from(KEY_VALUE)]) {
      expect(all.includes(needle)).toBe(false);
    }
    expect(all.includes(Buffer.from('0a1b2c3d'))).toBe(false); // key ids are hashed too
  });

  it('a sealed key opens only under its own lookup and the same site key', () => {
    const vault = new BleKeyVault(hasher);
    const lookup = hasher.lookup('ble_key', '0a1b2c3d');
    const sealed = vault.seal(tapKey, lookup);
    expect(sealed.length).toBe(12 + 32 + 16);
    expect(vault.open(sealed, lookup)).toEqual(tapKey);
    expect(() => vault.open(sealed, hasher.lookup('ble_key', '0a1b2c3e'))).toThrow();
    expect(() => new BleKeyVault(new CredentialHasher(Buffer.alloc(32, 8))).open(sealed, lookup)).toThrow();
  });

  it('a delta upsert of a key replaces the sealed secret', () => {
    cache.applySnapshot(dataset, Date.now());
    const other = Buffer.alloc(32, 9);
    cache.writer.applyDelta([{ op: 'credential.upsert', personId: 'm-1', credential: { id: 'k-1', kind: 'ble_key', value: `0a1b2c3d:${other.toString('base64')}`, validFrom: null, validTo: null, status: 'active' } }], 2, Date.now());
    expect(cache.bleKeys(hasher.lookup('ble_key', '0a1b2c3d'))).toEqual([{ personId: 'm-1', key: other }]);
  });
});
