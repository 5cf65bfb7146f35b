/**
 * Whatever arrives on the sync topics, the engine answers with a reason and
 * never throws; whatever it rejects leaves the data in force as it was.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudKeyring, SIGNED_SCHEMA, signPayload } from '../../daemon/cloud/signed-message.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { SyncEngine } from '../../daemon/sync/sync-engine.js';
import { deltaPayload, snapshotChunks } from '../../scripts/cloud-sim/protocol.js';
import { cloudKey } from '../support/cloud-keys.js';
import { fcOptions } from '../support/fast-check.js';
import { memoryLogger } from '../support/site.js';
import { activeDump, demoDataset } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';

const key = cloudKey('k1');
const stranger = cloudKey('k1');
const to = { gatewayId: 'gw1', siteId: 'test' };

/** Valid messages the mutations start from, none of which applies as is (a gap, an old snapshot). */
const baseDelta = deltaPayload(to, 3, 4, [{ op: 'person.delete', id: 'm-1001' }]) as unknown as Record<string, unknown>;
const baseChunk = snapshotChunks(demoDataset(1), to)[0] as unknown as Record<string, unknown>;

const anyValue = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.constant(null), fc.constantFrom('gw1', 'test', 'sync.delta', 'sync.snapshot', 1, 2, 0));
const mutated = (base: Record<string, unknown>) =>
  fc.tuple(fc.constantFrom(...Object.keys(base), 'extra'), anyValue, fc.boolean()).map(([field, value, drop]) => {
    const copy: Record<string, unknown> = { ...base };
    if (drop) delete copy[field];
    else copy[field] = value;
    return copy;
  });
const signedBy = (k: typeof key, keyId: string) => (payload: unknown) => signPayload(k.privateKey, keyId, payload);

const input = fc.oneof(
  fc.string().map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
  fc.record({ schema: fc.constant(SIGNED_SCHEMA), keyId: fc.constantFrom('k1', 'k2'), payload: fc.base64String({ minLength: 1 }), sig: fc.base64String({ minLength: 1, maxLength: 100 }) }).map((o) => Buffer.from(JSON.stringify(o))),
  fc.jsonValue().map((v) => Buffer.from(signedBy(key, 'k1')(v))),
  mutated(baseDelta).map((p) => Buffer.from(signedBy(key, 'k1')(p))),
  mutated(baseChunk).map((p) => Buffer.from(signedBy(key, 'k1')(p))),
  mutated(baseDelta).map((p) => Buffer.from(signedBy(stranger, 'k1')(p))),
);

describe('sync message handling (property)', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let cache: CredentialCache;
  let engine: SyncEngine;

  beforeAll(async () => {
    dir = tempDir();
    db = openDatabase(join(dir.path, 'g.db'));
    const hasher = new CredentialHasher(Buffer.alloc(32, 5));
    cache = new CredentialCache(db, hasher);
    cache.applySnapshot(demoDataset(2), Date.now());
    engine = new SyncEngine({
      cache,
      keyring: new CloudKeyring([{ id: 'k1', key: key.publicPem }]),
      maxMessageBytes: 64 * 1024,
      ...to,
      staleness: null,
      logger: memoryLogger('silent').logger,
      sliceMs: 2,
    });
    engine.start();
    await engine.whenIdle();
  });
  afterAll(async () => {
    await engine.stop();
    db.close();
    dir.remove();
  });

  it('never throws, always names a reason, and a rejection changes nothing in force', async () => {
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(input, fc.boolean(), async (raw, asDelta) => {
        const before = activeDump(db);
        const outcome = asDelta ? await engine.handleDeltaMessage(raw) : await engine.handleSnapshotMessage(raw);
        if (outcome.kind === 'applied') return; // a mutation that happens to be a valid, current message
        if (outcome.kind === 'rejected') {
          rejected++;
          expect(outcome.reason.length).toBeGreaterThan(0);
          expect(outcome.detail.length).toBeLessThanOrEqual(300);
        }
        expect(activeDump(db)).toBe(before);
      }),
      fcOptions(300),
    );
    expect(rejected).toBeGreaterThan(200);
    await engine.whenIdle();
  });
});
