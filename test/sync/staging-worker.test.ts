/**
 * The staging worker on a real SQLite file: it stages what the engine hands
 * it, dies without harming the data in force (the snapshot is abandoned, the
 * next one gets a new thread), ends with stop(), scans for shared
 * credentials, and starts from the compiled daemon too. An in-memory
 * database, which no other thread can open, stages on the event loop.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudKeyring } from '../../daemon/cloud/signed-message.js';
import { generationPath, generationsOnDisk, pointedGeneration } from '../../daemon/store/cache-files.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CACHE_COUNTS_SQL } from '../../daemon/store/cache-schema.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import type { Dataset } from '../../daemon/sync/dataset.js';
import type { SnapshotRequestReason } from '../../daemon/sync/messages.js';
import { SyncEngine, type SyncEngineOptions } from '../../daemon/sync/sync-engine.js';
import { signAll, snapshotChunks, writeSnapshotFile } from '../../scripts/cloud-sim/protocol.js';
import { generateDataset } from '../../scripts/lib/dataset-generator.js';
import { cloudKey } from '../support/cloud-keys.js';
import { waitFor } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { cacheDump, dataset, demoDataset, signerOf, strayRows, writeSyncSite } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';

const key = cloudKey('k1');
const signer = signerOf(key);
const to = { gatewayId: 'gw1', siteId: 'test' };
const hasher = new CredentialHasher(Buffer.alloc(32, 3));
const card = (value: string) => hasher.lookupOf('card', value);
const root = join(import.meta.dirname, '../..');

const snapshot = (ds: Dataset, chunkBytes = 16 * 1024) => signAll(signer, snapshotChunks(ds, { ...to, chunkBytes })).map((e) => Buffer.from(e));

describe('staging worker', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let cache: CredentialCache;
  let engine: SyncEngine;
  let requests: SnapshotRequestReason[];
  let log: ReturnType<typeof memoryLogger>;
  const path = () => join(dir.path, 'g.db');

  const makeEngine = (dbPath: string, options: Partial<SyncEngineOptions> = {}) => {
    db = openDatabase(dbPath);
    cache = new CredentialCache(db, hasher);
    cache.applySnapshot(demoDataset(1), Date.now());
    requests = [];
    log = memoryLogger('warn');
    engine = new SyncEngine({
      cache,
      keyring: new CloudKeyring([{ id: key.id, key: key.publicPem }]),
      maxMessageBytes: 1024 * 1024,
      ...to,
      staleness: null,
      logger: log.logger,
      sliceMs: 1,
      ...options,
    });
    engine.onSnapshotNeeded((reason) => requests.push(reason));
    engine.start();
  };

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await engine.stop();
    db.close();
    dir.remove();
  });

  it('stages on its own thread, and stop() ends the thread', async () => {
    makeEngine(path());
    await engine.whenIdle();
    const worker = engine.stagingWorker;
    if (worker === null) throw new Error('a file database stages on the worker');
    const next = generateDataset({ people: 400, seed: 5, version: 7 });
    const outcomes = await Promise.all(snapshot(next).map((chunk) => engine.handleSnapshotMessage(chunk)));
    expect(outcomes.at(-1)).toMatchObject({ kind: 'applied', snapshot: { version: 7, people: 400 } });
    expect(outcomes.slice(0, -1).every((o) => o.kind === 'taken')).toBe(true);
    expect(worker.started).toBe(1);
    expect(worker.running).toBe(true);
    await engine.whenIdle();
    expect(strayRows(path())).toBe(0);
    await engine.stop();
    expect(worker.running).toBe(false);
    expect(worker.failures).toBe(0);
    // Nothing of the worker's connection is left: the file checks out, and closes cleanly.
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('builds the new generation in a file of its own: the main file is not written, the old file goes', async () => {
    makeEngine(path());
    await engine.whenIdle();
    const before = pointedGeneration(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const mainBytes = statSync(path()).size;
    const next = generateDataset({ people: 3000, seed: 5, version: 7 });
    const outcomes = await Promise.all(snapshot(next, 64 * 1024).map((chunk) => engine.handleSnapshotMessage(chunk)));
    expect(outcomes.at(-1)).toMatchObject({ kind: 'applied', snapshot: { version: 7, people: 3000 } });
    const after = pointedGeneration(db);
    expect(after).not.toBe(before);
    // The swap itself wrote one pointer row to the main file: a page or two in its WAL, not the cache's megabytes.
    expect(statSync(path()).size).toBe(mainBytes);
    expect(statSync(`${path()}-wal`).size).toBeLessThan(64 * 1024);
    expect(statSync(generationPath(path(), after ?? 0)).size).toBeGreaterThan(1024 * 1024);
    await engine.whenIdle();
    expect(generationsOnDisk(path())).toEqual([after]);
    expect(db.pragma('cache.integrity_check', { simple: true })).toBe('ok');
  });

  it('keeps its thread while a snapshot waits for its next chunk, however long the pause', async () => {
    makeEngine(path(), { stagingLingerMs: 20 });
    const worker = engine.stagingWorker;
    if (worker === null) throw new Error('a file database stages on the worker');
    const chunks = snapshot(generateDataset({ people: 200, seed: 6, version: 3 }), 8 * 1024);
    expect(await engine.handleSnapshotMessage(chunks[0] ?? Buffer.alloc(0))).toEqual({ kind: 'taken' });
    // Idle ten times its linger time: the generation being built lives on the thread.
    await new Promise((r) => setTimeout(r, 200));
    expect(worker.running).toBe(true);
    const rest = await Promise.all(chunks.slice(1).map((chunk) => engine.handleSnapshotMessage(chunk)));
    expect(rest.at(-1)).toMatchObject({ kind: 'applied', snapshot: { version: 3, people: 200 } });
    expect(worker.started).toBe(1);
  });

  it('starts its thread when a snapshot is asked for, and the answer is staged on that thread', async () => {
    makeEngine(path(), { stagingLingerMs: 60_000 });
    const worker = engine.stagingWorker;
    if (worker === null) throw new Error('a file database stages on the worker');
    expect(worker.running).toBe(false);
    engine.noteRequest('req-1', 'boot');
    expect(worker.running).toBe(true);
    // Asked again while it runs: the same thread.
    engine.noteRequest('req-2', 'gap');
    const outcomes = await Promise.all(snapshot(generateDataset({ people: 300, seed: 8, version: 4 })).map((chunk) => engine.handleSnapshotMessage(chunk)));
    expect(outcomes.at(-1)).toMatchObject({ kind: 'applied', snapshot: { version: 4, people: 300 } });
    expect(worker.started).toBe(1);
  });

  it('a warmed thread that gets no snapshot ends like an idle one', async () => {
    makeEngine(path(), { stagingLingerMs: 20 });
    const worker = engine.stagingWorker;
    if (worker === null) throw new Error('a file database stages on the worker');
    engine.noteRequest('req-1', 'boot');
    expect(worker.running).toBe(true);
    await waitFor(() => !worker.running, 'the idle thread ended', 5_000);
    expect(worker.failures).toBe(0);
  });

  it('a store filled offline leaves a few rows of an old generation: deleted at start without a thread', async () => {
    // applySnapshot (as \`sync import\` without a daemon does) leaves the
    // migration's first generation behind: its settings row.
    makeEngine(path());
    await engine.whenIdle();
    expect(strayRows(path())).toBe(0);
    expect(engine.stagingWorker?.started).toBe(0);
    expect(engine.stagingWorker?.running).toBe(false);
  });

  it('a worker that dies mid-snapshot: the snapshot is abandoned, the old data stays in force, and the next snapshot gets a new thread', async () => {
    makeEngine(path());
    await engine.whenIdle();
    const worker = engine.stagingWorker;
    if (worker === null) throw new Error('a file database stages on the worker');
    const before = cacheDump(path());
    const inForce = cache.candidates(card('0004614867'));
    // Big chunks: the thread is busy with one when it dies.
    const doomed = snapshot(generateDataset({ people: 3000, seed: 8, version: 5 }), 512 * 1024);
    expect(doomed.length).toBeGreaterThan(1);
    const first = engine.handleSnapshotMessage(doomed[0] ?? Buffer.alloc(0));
    while (worker.inFlight === 0) await new Promise((r) => setImmediate(r));
    await worker.terminate();
    expect(await first).toMatchObject({ kind: 'rejected', reason: 'busy', detail: expect.stringContaining('the staging worker failed') as unknown });
    expect(worker.failures).toBe(1);
    expect(requests).toEqual(['incomplete']);
    // Its later chunks are refused: that snapshot ended.
    expect(await engine.handleSnapshotMessage(doomed[1] ?? Buffer.alloc(0))).toMatchObject({ kind: 'rejected', reason: 'missing_chunk' });
    expect(cache.version()).toBe(1);
    expect(cache.candidates(card('0004614867'))).toEqual(inForce);
    // A new thread removes what the dead one staged, and stages the next snapshot.
    await engine.whenIdle();
    expect(cacheDump(path())).toBe(before);
    const next = await Promise.all(snapshot(generateDataset({ people: 200, seed: 9, version: 6 })).map((chunk) => engine.handleSnapshotMessage(chunk)));
    expect(next.at(-1)).toMatchObject({ kind: 'applied', snapshot: { version: 6, people: 200 } });
    expect(worker.started).toBe(2);
    expect(log.lines.join('')).toContain('the staging worker failed');
  });

  it('runs the conflict scan on its connection, with the same answer as the daemon thread', async () => {
    makeEngine(path());
    const shared = dataset({
      version: 2,
      people: [
        { id: 'a', kind: 'member', name: 'A', status: 'active', credentials: [{ id: 'a-pin', kind: 'pin', value: '55555' }] },
        { id: 'b', kind: 'visitor', name: 'B', status: 'active', credentials: [{ id: 'b-code', kind: 'visitor_code', value: '55555' }] },
      ],
    });
    await engine.applyDataset(shared, 'seed');
    const conflicts = await engine.conflicts();
    expect(conflicts).toEqual(cache.conflicts());
    expect(conflicts).toMatchObject([{ namespace: 'code', personIds: ['a', 'b'], credentialIds: ['a-pin', 'b-code'] }]);
    expect(engine.stagingWorker?.started).toBe(1);
  });

  it('applies a data set (a seed file) through the worker in parts', async () => {
    makeEngine(path());
    const big = generateDataset({ people: 1200, seed: 4, version: 3 });
    const applied = await engine.applyDataset(big, 'seed');
    expect(applied).toMatchObject({ version: 3, people: 1200, snapshotId: null });
    // Counted by the worker at the seal, and the same as a count of the file in force.
    const counted = db.prepare<[], { people: number; credentials: number; entitlements: number }>(CACHE_COUNTS_SQL).get();
    expect(cache.counts()).toEqual(counted);
    expect(cache.counts().people).toBe(1200);
    expect(cache.settings()).toEqual(big.settings);
    expect(cache.state()).toMatchObject({ version: 3, source: 'seed' });
    await engine.whenIdle();
    expect(strayRows(path())).toBe(0);
  });

  it('an in-memory database stages on the event loop, with the same checks', async () => {
    makeEngine(':memory:');
    expect(engine.stagingWorker).toBeNull();
    const next = generateDataset({ people: 300, seed: 5, version: 7 });
    const chunks = snapshot(next, 8 * 1024);
    expect(chunks.length).toBeGreaterThan(3);
    for (const [i, chunk] of chunks.entries()) {
      const outcome = await engine.handleSnapshotMessage(chunk);
      if (i < chunks.length - 1) {
        expect(outcome).toEqual({ kind: 'taken' });
        expect(cache.version()).toBe(1);
      } else {
        expect(outcome).toMatchObject({ kind: 'applied', snapshot: { version: 7, people: 300 } });
      }
    }
    expect(cache.counts().people).toBe(300);
    const twins = snapshotChunks(next, to).map((c, i) => (i === 0 ? { ...c, version: 8, data: JSON.stringify({ people: [next.people[0], next.people[0]] }) } : c));
    const refused = await engine.handleSnapshotMessage(Buffer.from(signAll(signer, twins.slice(0, 1))[0] ?? ''));
    expect(refused).toMatchObject({ kind: 'rejected', reason: 'invalid_payload' });
    expect(cache.version()).toBe(7);
    expect(await engine.conflicts()).toEqual(cache.conflicts());
  });
});

describe('the compiled daemon', () => {
  it('starts the staging worker from dist/ (gatehouse sync import, no daemon running)', { timeout: 60_000 }, async () => {
    const cli = join(root, 'dist/daemon/cli/main.js');
    expect(existsSync(cli), 'run npm run build first').toBe(true);
    expect(existsSync(join(root, 'dist/daemon/sync/staging-worker-main.js')), 'run npm run build first').toBe(true);
    const dir = tempDir();
    try {
      const config = writeSyncSite(dir.path, key);
      const file = join(dir.path, 'v4.jsonl');
      writeSnapshotFile(file, signAll(signer, snapshotChunks(generateDataset({ people: 500, seed: 4, version: 4 }), { ...to, chunkBytes: 16 * 1024 })));
      const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, 'sync', 'import', file, '--config', config]);
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
      expect(result.out).not.toContain('Error');
      expect(result.code).toBe(0);
      const check = openDatabase(join(dir.path, 'gatehouse.db'));
      try {
        expect(new CredentialCache(check, hasher).state()).toMatchObject({ version: 4, source: 'import' });
        expect(strayRows(join(dir.path, 'gatehouse.db'))).toBe(0);
      } finally {
        check.close();
      }
    } finally {
      dir.remove();
    }
  });
});
