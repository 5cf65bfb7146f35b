/**
 * The sync engine on a real SQLite file, fed signed messages directly (the
 * MQTT path is covered by sync-e2e.test.ts): snapshots staged and swapped,
 * deltas, version rules, and what happens when a snapshot goes wrong.
 */
import { join } from 'node:path';
import { symlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloudKeyring } from '../../daemon/cloud/signed-message.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { newStageCounts } from '../../daemon/store/cache-writer.js';
import { currentGenerationPath } from '../../daemon/store/cache-files.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { WalFlusher, type Durability } from '../../daemon/store/wal-flusher.js';
import type { DeltaOp, SnapshotRequestReason } from '../../daemon/sync/messages.js';
import { SyncEngine } from '../../daemon/sync/sync-engine.js';
import { deltaPayload, signAll, snapshotChunks } from '../../scripts/cloud-sim/protocol.js';
import { generateDataset } from '../../scripts/lib/dataset-generator.js';
import { cloudKey } from '../support/cloud-keys.js';
import type { Logger } from '../../daemon/runtime/logger.js';
import { memoryLogger } from '../support/site.js';
import { cacheDump, dataset, demoDataset, signerOf, strayRows } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';

const key = cloudKey('k1');
const signer = signerOf(key);
const to = { gatewayId: 'gw1', siteId: 'test' };
const hasher = new CredentialHasher(Buffer.alloc(32, 3));
const card = (value: string) => hasher.lookupOf('card', value);
const keypad = (value: string) => hasher.lookupOf('keypad', value);

const snapshot = (ds: Parameters<typeof snapshotChunks>[0], options: Partial<Parameters<typeof snapshotChunks>[1]> = {}) =>
  signAll(signer, snapshotChunks(ds, { ...to, ...options })).map((e) => Buffer.from(e));
const delta = (from: number, toVersion: number, ops: DeltaOp[]) => Buffer.from(signAll(signer, [deltaPayload(to, from, toVersion, ops)])[0] ?? '');

describe('sync engine', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let cache: CredentialCache;
  let engine: SyncEngine;
  let requests: SnapshotRequestReason[];
  const path = () => join(dir.path, 'g.db');

  const makeEngine = (options: { chunkTimeoutMs?: number; maxQueued?: number; logger?: Logger; cacheDurability?: Durability } = {}) => {
    const e = new SyncEngine({
      cache,
      keyring: new CloudKeyring([{ id: key.id, key: key.publicPem }]),
      maxMessageBytes: 1024 * 1024,
      ...to,
      staleness: { staleAfterMs: 3_600_000, policy: 'keep-deciding' },
      logger: memoryLogger('warn').logger,
      sliceMs: 1,
      ...options,
    });
    e.onSnapshotNeeded((reason) => requests.push(reason));
    e.start();
    return e;
  };

  beforeEach(async () => {
    dir = tempDir();
    db = openDatabase(path());
    cache = new CredentialCache(db, hasher);
    cache.applySnapshot(demoDataset(1), Date.now());
    requests = [];
    engine = makeEngine();
    // The generation the migration started with is collected first.
    await engine.whenIdle();
  });
  afterEach(async () => {
    await engine.stop();
    db.close();
    dir.remove();
  });

  it('stages a multi-chunk snapshot beside the data in force and swaps it in with the last chunk', async () => {
    const next = generateDataset({ people: 300, seed: 5, version: 7 });
    const chunks = snapshot(next, { chunkBytes: 8 * 1024 });
    expect(chunks.length).toBeGreaterThan(3);
    const newcomer = next.people.find((p) => p.credentials.some((c) => c.kind === 'card' && c.status === 'active'));
    const newCard = newcomer?.credentials.find((c) => c.kind === 'card')?.value ?? '';

    for (const [i, chunk] of chunks.entries()) {
      const outcome = await engine.handleSnapshotMessage(chunk);
      if (i < chunks.length - 1) {
        expect(outcome).toEqual({ kind: 'taken' });
        // Decisions still see the old data, and only it.
        expect(cache.version()).toBe(1);
        expect(cache.candidates(card('0004614867')).map((c) => c.person.id)).toEqual(['m-1001']);
        expect(cache.candidates(card(newCard))).toEqual([]);
        expect(engine.status().receiving).toMatchObject({ chunksReceived: i + 1, chunks: chunks.length, version: 7 });
      } else {
        expect(outcome).toMatchObject({ kind: 'applied', snapshot: { version: 7, people: 300 } });
      }
    }
    // The statements prepared before the swap answer after it: a swap changes a number, not the schema.
    expect(cache.version()).toBe(7);
    expect(cache.candidates(card('0004614867'))).toEqual([]);
    expect(cache.candidates(card(newCard)).map((c) => c.person.id)).toEqual([newcomer?.id]);
    expect(cache.counts().people).toBe(300);
    expect(cache.settings()).toEqual(next.settings);
    await engine.whenIdle();
    expect(strayRows(path())).toBe(0);
    expect(engine.status()).toMatchObject({ state: 'idle', receiving: null, applied: { snapshots: 1 }, source: 'mqtt' });
  });

  it('stores settings, doors, schedules, staff and expected arrivals, and the lookup uses the index', async () => {
    const ds = dataset({
      version: 2,
      settings: { visitorTokenMinutes: 90, visitorTokenStart: 'expected-arrival', deviceLimit: 3, dailyCutoff: '22:30' },
      doors: [{ id: 'front', name: 'Front', schedule: 'hours' }],
      schedules: [{ id: 'hours', weekly: { mon: ['08:00-18:00'] } }],
      people: [
        { id: 'staff', kind: 'member', name: 'S', status: 'active', alwaysAllowed: true, credentials: [{ id: 's1', kind: 'card', value: '42' }], entitlements: [{ id: 'p', kind: 'plan', monthlyHours: 80 }] },
        { id: 'v', kind: 'visitor', name: 'V', status: 'active', hostId: 'staff', expectedArrival: '2026-11-23T09:00:00Z', credentials: [{ id: 'v1', kind: 'visitor_code', value: '123456' }] },
      ],
    });
    expect(await engine.handleSnapshotMessage(snapshot(ds)[0] ?? Buffer.alloc(0))).toMatchObject({ kind: 'applied' });
    expect(cache.settings()).toMatchObject({ visitorTokenMinutes: 90, visitorTokenStart: 'expected-arrival', deviceLimit: 3, dailyCutoff: '22:30' });
    expect(cache.candidates(card('42'))[0]?.person).toMatchObject({ id: 'staff', kind: 'member', status: 'active', alwaysAllowed: true });
    expect(db.prepare('SELECT expected_arrival FROM people WHERE id = ?').get('v')).toEqual({ expected_arrival: Date.parse('2026-11-23T09:00:00Z') });
    expect(db.prepare('SELECT monthly_hours FROM entitlements WHERE id = ?').get('p')).toEqual({ monthly_hours: 80 });
    expect(db.prepare('SELECT id, name, schedule_id FROM synced_doors').all()).toEqual([{ id: 'front', name: 'Front', schedule_id: 'hours' }]);
    expect(JSON.parse((db.prepare('SELECT weekly FROM synced_schedules').get() as { weekly: string }).weekly)).toMatchObject({ mon: ['08:00-18:00'], tue: [] });
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT c.id FROM sync_state st JOIN cache_credentials c ON c.gen = st.gen AND c.lookup = ? WHERE st.id = 1`).all(card('42')) as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('cache_credentials_by_lookup');
  });

  it('applies deltas in order: upserts, deletes, moves, settings; versions move on', async () => {
    const ops: DeltaOp[] = [
      { op: 'credential.upsert', personId: 'm-1002', credential: { id: 'new-card', kind: 'card', value: '777', validFrom: null, validTo: null, status: 'active' } },
      { op: 'person.delete', id: 'm-1004' },
      { op: 'settings.set', settings: { visitorTokenMinutes: 60, visitorTokenStart: 'first-checkin', deviceLimit: null, dailyCutoff: null, wifiIdleMinutes: 15, holidays: [], kioskRegistration: 'register-and-checkin' } },
      { op: 'door.upsert', door: { id: 'front', name: 'Front', schedule: null } },
    ];
    expect(await engine.handleDeltaMessage(delta(1, 2, ops))).toEqual({ kind: 'applied', version: 2, ops: 4 });
    expect(cache.candidates(card('777')).map((c) => c.person.id)).toEqual(['m-1002']);
    expect(cache.candidates(card('0001217496'))).toEqual([]); // Katherine's card went with her
    expect(cache.settings()?.visitorTokenMinutes).toBe(60);

    // A person upsert is the person's whole state: Ada's PIN is gone, a new card arrives.
    const ada = demoDataset(1).people[0];
    if (ada === undefined) throw new Error('demo data set changed');
    const upsert: DeltaOp = { op: 'person.upsert', person: { ...ada, credentials: [{ id: 'ada-2', kind: 'card', value: '888', validFrom: null, validTo: null, status: 'active' }] } };
    expect(await engine.handleDeltaMessage(delta(2, 5, [upsert]))).toMatchObject({ kind: 'applied', version: 5 });
    expect(cache.candidates(keypad('24680'))).toEqual([]);
    expect(cache.candidates(card('888')).map((c) => c.person.id)).toEqual(['m-1001']);
    // A credential moves when upserted for another person.
    await engine.handleDeltaMessage(delta(5, 6, [{ op: 'credential.upsert', personId: 'm-1003', credential: { id: 'ada-2', kind: 'card', value: '888', validFrom: null, validTo: null, status: 'active' } }]));
    expect(cache.candidates(card('888')).map((c) => c.person.id)).toEqual(['m-1003']);
    expect(cache.state()).toMatchObject({ version: 6, source: 'mqtt' });
    expect(engine.status().applied.deltas).toBe(3);
  });

  it('a gap, a replay or a conflict changes nothing; a gap or conflict asks for a snapshot', async () => {
    const before = cacheDump(path());
    const conflict: DeltaOp[] = [
      { op: 'credential.upsert', personId: 'm-1001', credential: { id: 'ok', kind: 'card', value: '999', validFrom: null, validTo: null, status: 'active' } },
      { op: 'entitlement.upsert', personId: 'nobody', entitlement: { id: 'e', kind: 'plan', name: '', validFrom: null, validTo: null, minutesLeft: null, monthlyHours: null, monthlyCheckins: null, doors: null } },
    ];
    expect(await engine.handleDeltaMessage(delta(3, 4, []))).toMatchObject({ kind: 'rejected', reason: 'version_gap' });
    expect(await engine.handleDeltaMessage(delta(0, 1, []))).toMatchObject({ kind: 'rejected', reason: 'replayed' });
    expect(await engine.handleDeltaMessage(delta(1, 2, conflict))).toMatchObject({ kind: 'rejected', reason: 'delta_conflict', detail: expect.stringContaining('ops[1] entitlement.upsert: no person "nobody"') as unknown });
    expect(await engine.handleDeltaMessage(delta(1, 2, [{ op: 'person.delete', id: 'ghost' }]))).toMatchObject({ reason: 'delta_conflict' });
    expect(cacheDump(path())).toBe(before);
    expect(requests).toEqual(['gap', 'conflict', 'conflict']);
    expect(engine.status().rejected).toEqual({ version_gap: 1, replayed: 1, delta_conflict: 2 });
  });

  it('syncs the cache file in force after an applied delta, never after a refused one, and logs a sync the disk refuses', async () => {
    await engine.stop();
    const flusher = new WalFlusher(() => currentGenerationPath(db));
    const synced: string[] = [];
    const durability = {
      flush: async () => {
        const before = flusher.syncs;
        await flusher.flush();
        if (flusher.syncs > before) synced.push(currentGenerationPath(db) ?? 'none');
      },
      flushSync: () => flusher.flushSync(),
    };
    engine = makeEngine({ cacheDurability: durability });
    await engine.whenIdle();
    expect(await engine.handleDeltaMessage(delta(3, 4, []))).toMatchObject({ reason: 'version_gap' });
    expect(await engine.handleDeltaMessage(delta(0, 1, []))).toMatchObject({ reason: 'replayed' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(synced).toEqual([]);
    const revoke: DeltaOp = { op: 'credential.upsert', personId: 'm-1001', credential: { id: 'm-1001-card', kind: 'card', value: '0004614867', validFrom: null, validTo: null, status: 'revoked' } };
    expect(await engine.handleDeltaMessage(delta(1, 2, [revoke]))).toMatchObject({ kind: 'applied', version: 2 });
    expect(cache.candidates(card('0004614867')).map((c) => c.credential.status)).toEqual(['revoked']);
    await vi.waitFor(() => expect(synced).toHaveLength(1));
    // The generation file, not the main file: the delta's rows are in its WAL.
    expect(synced[0]).toMatch(/g\.db\.gen-\d+$/);
    await flusher.close();

    // A disk that refuses the sync: the delta stays applied (the data is right until a power cut), and the error is logged.
    await engine.stop();
    symlinkSync('/dev/null', join(dir.path, 'broken.db-wal'));
    const broken = new WalFlusher(join(dir.path, 'broken.db'));
    const log = memoryLogger('warn');
    engine = makeEngine({ cacheDurability: broken, logger: log.logger });
    await engine.whenIdle();
    expect(await engine.handleDeltaMessage(delta(2, 3, []))).toMatchObject({ kind: 'applied', version: 3 });
    await vi.waitFor(() => expect(log.lines.join('')).toContain('delta applied but not synced to disk'));
    expect(log.lines.join('')).toContain('"toVersion":3');
    await broken.close();
  });

  it('accepts a snapshot at the version it has only as the answer to one of its own requests', async () => {
    const same = demoDataset(1);
    expect(await engine.handleSnapshotMessage(snapshot(same)[0] ?? Buffer.alloc(0))).toMatchObject({ kind: 'rejected', reason: 'replayed' });
    expect(await engine.handleSnapshotMessage(snapshot(same, { requestId: 'not-ours' })[0] ?? Buffer.alloc(0))).toMatchObject({ reason: 'replayed' });
    engine.noteRequest('ours', 'command');
    expect(await engine.handleSnapshotMessage(snapshot(same, { requestId: 'ours' })[0] ?? Buffer.alloc(0))).toMatchObject({ kind: 'applied' });
  });

  it('asking for a snapshot runs the checks once on throwaway input: nothing counted, logged or changed', async () => {
    const log = memoryLogger('debug');
    await engine.stop();
    engine = makeEngine({ logger: log.logger });
    const before = cacheDump(path());
    engine.noteRequest('warm', 'boot');
    await engine.whenIdle();
    expect(engine.status()).toMatchObject({ rejected: {}, lastRejection: null, lastRequest: { requestId: 'warm', reason: 'boot' } });
    expect(log.lines.filter((line) => line.includes('reject'))).toEqual([]);
    expect(cacheDump(path())).toBe(before);
  });

  it('a checksum mismatch asks again and leaves no trace once the staged rows are collected', async () => {
    const before = cacheDump(path());
    const chunks = snapshotChunks(generateDataset({ people: 50, seed: 2, version: 3 }), { ...to, chunkBytes: 4 * 1024 });
    const wrong = chunks.map((c) => ({ ...c, checksum: `sha256:${'0'.repeat(64)}` }));
    const outcomes = [];
    for (const envelope of signAll(signer, wrong)) outcomes.push(await engine.handleSnapshotMessage(Buffer.from(envelope)));
    expect(outcomes.at(-1)).toMatchObject({ kind: 'rejected', reason: 'checksum_mismatch' });
    expect(requests).toEqual(['checksum']);
    await engine.whenIdle();
    expect(cacheDump(path())).toBe(before);
  });

  it('gives up a snapshot whose chunks stop coming, and asks again', async () => {
    await engine.stop();
    engine = makeEngine({ chunkTimeoutMs: 150 });
    await engine.whenIdle();
    const before = cacheDump(path());
    const chunks = snapshot(generateDataset({ people: 40, seed: 3, version: 4 }), { chunkBytes: 2 * 1024 });
    await engine.handleSnapshotMessage(chunks[0] ?? Buffer.alloc(0));
    const deadline = Date.now() + 10_000;
    while (engine.status().rejected.snapshot_timeout === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(engine.status().rejected).toEqual({ snapshot_timeout: 1 });
    expect(requests).toEqual(['incomplete']);
    // Its late chunks are refused without asking again.
    expect(await engine.handleSnapshotMessage(chunks[1] ?? Buffer.alloc(0))).toMatchObject({ reason: 'snapshot_timeout' });
    await engine.whenIdle();
    expect(cacheDump(path())).toBe(before);
  });

  it('a newer snapshot replaces one in progress; an older one is refused', async () => {
    const v5 = snapshot(generateDataset({ people: 30, seed: 4, version: 5 }), { chunkBytes: 2 * 1024 });
    const v6 = snapshot(generateDataset({ people: 20, seed: 6, version: 6 }), { chunkBytes: 2 * 1024 });
    await engine.handleSnapshotMessage(v5[0] ?? Buffer.alloc(0));
    expect(await engine.handleSnapshotMessage(v6[0] ?? Buffer.alloc(0))).toEqual({ kind: 'taken' });
    expect(await engine.handleSnapshotMessage(v5[1] ?? Buffer.alloc(0))).toMatchObject({ reason: 'superseded' });
    for (const chunk of v6.slice(1)) await engine.handleSnapshotMessage(chunk);
    expect(cache.version()).toBe(6);
    const v4 = snapshot(generateDataset({ people: 5, seed: 7, version: 4 }));
    expect(await engine.handleSnapshotMessage(v4[0] ?? Buffer.alloc(0))).toMatchObject({ reason: 'replayed' });
    await engine.whenIdle();
    expect(strayRows(path())).toBe(0);
  });

  it('refuses messages beyond its queue (busy) instead of holding unbounded memory', async () => {
    await engine.stop();
    engine = makeEngine({ maxQueued: 2 });
    await engine.whenIdle();
    const before = cacheDump(path());
    const flood = Array.from({ length: 6 }, (_, i) => engine.handleDeltaMessage(delta(5 + i, 6 + i, [])));
    const outcomes = await Promise.all(flood);
    expect(outcomes.filter((o) => o.kind === 'rejected' && o.reason === 'busy')).toHaveLength(4);
    expect(engine.status().rejected).toEqual({ busy: 4, version_gap: 2 });
    expect(cacheDump(path())).toBe(before);
  });

  it('ignores an identical copy of a chunk (a QoS 1 redelivery)', async () => {
    const chunks = snapshot(generateDataset({ people: 20, seed: 8, version: 9 }), { chunkBytes: 2 * 1024 });
    await engine.handleSnapshotMessage(chunks[0] ?? Buffer.alloc(0));
    expect(await engine.handleSnapshotMessage(chunks[0] ?? Buffer.alloc(0))).toEqual({ kind: 'duplicate' });
    for (const chunk of chunks.slice(1)) await engine.handleSnapshotMessage(chunk);
    expect(cache.version()).toBe(9);
    expect(engine.status().applied.duplicateChunks).toBe(1);
  });

  it('imports a file-like stream of chunks and refuses one that ends early', async () => {
    const chunks = snapshotChunks(generateDataset({ people: 60, seed: 9, version: 12 }), { ...to, chunkBytes: 4 * 1024 });
    const lines = signAll(signer, chunks);
    async function* of(items: string[]) {
      for (const item of items) yield item;
    }
    await expect(engine.importSnapshot(of(lines.slice(0, -1)), { file: 'short.jsonl' })).rejects.toMatchObject({ reason: 'missing_chunk' });
    expect(cache.version()).toBe(1);
    expect(engine.importJob).toMatchObject({ state: 'failed', error: { reason: 'missing_chunk' } });
    const result = await engine.importSnapshot(of(lines), { file: 'full.jsonl' });
    expect(result).toMatchObject({ version: 12, people: 60 });
    expect(cache.state()).toMatchObject({ version: 12, source: 'import' });
    await expect(engine.importSnapshot(of(lines), { file: 'again.jsonl' })).rejects.toMatchObject({ reason: 'replayed' });
    await expect(engine.importSnapshot(of(lines), { file: 'forced.jsonl', force: true })).resolves.toMatchObject({ version: 12 });
  });

  it('removes what a crashed apply left behind, and never touches the data in force', async () => {
    await engine.stop();
    // A crash mid-apply: rows staged in a generation that was never swapped in.
    const w = cache.writer;
    const gen = w.allocateGeneration();
    const counts = newStageCounts();
    w.batch(() => {
      for (const p of generateDataset({ people: 25, seed: 10 }).people) w.stagePerson(gen, p, 1, counts);
    });
    expect(strayRows(path())).toBeGreaterThan(25);
    const inForce = cache.candidates(card('0004614867'));
    engine = makeEngine();
    await engine.whenIdle();
    expect(strayRows(path())).toBe(0);
    expect(cache.candidates(card('0004614867'))).toEqual(inForce);
    expect(cache.version()).toBe(1);
  });
});
