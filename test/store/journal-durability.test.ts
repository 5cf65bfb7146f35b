/**
 * Commits without an fsync on the event loop, events published only once
 * durable: the WAL flusher on real files (a real fdatasync, a real failure
 * from the kernel) and the journal's gate in front of the uplink.
 */
import { randomUUID } from 'node:crypto';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { durableTransaction, openDatabase, type Db } from '../../daemon/store/database.js';
import { Journal } from '../../daemon/store/journal.js';
import { WalFlusher } from '../../daemon/store/wal-flusher.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function store(): { db: Db; path: string; dir: string } {
  const dir = tempDir('gatehouse-durable-');
  const path = join(dir.path, 'g.db');
  const db = openDatabase(path);
  cleanups.push(() => {
    if (db.open) db.close();
    dir.remove();
  });
  return { db, path, dir: dir.path };
}

function flusherFor(path: string | (() => string | null)): WalFlusher {
  const flusher = new WalFlusher(path);
  cleanups.push(() => flusher.close());
  return flusher;
}

const append = (journal: Journal) => journal.append('access', 'gatehouse/v1/gw1/events/access', 1_000, (s) => ({ eventId: s.eventId, seq: s.seq }));
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WalFlusher', () => {
  it('syncs the WAL, and requests made while a sync runs share the next one', async () => {
    const { db, path } = store();
    db.exec('CREATE TABLE t (x INTEGER)');
    const flusher = flusherFor(path);
    await flusher.flush();
    expect(flusher.syncs).toBe(1);
    // One starts; the nine asked for while it runs began after it, so they need a sync of their own: one, shared.
    const requests = Array.from({ length: 10 }, () => flusher.flush());
    await Promise.all(requests);
    expect(flusher.syncs).toBe(3);
  });

  it('follows the WAL when the file is replaced, and resolves when there is none', async () => {
    const { db, path } = store();
    db.exec('CREATE TABLE t (x INTEGER)');
    const flusher = flusherFor(path);
    await flusher.flush();
    // Closing the last connection checkpoints and deletes the WAL: nothing left to sync.
    db.close();
    await flusher.flush();
    expect(flusher.syncs).toBe(1);
    flusher.flushSync();
    expect(flusher.syncs).toBe(1);
    // A new connection makes a new WAL file (another inode): the flusher syncs that one.
    const again = openDatabase(path);
    cleanups.push(() => {
      again.close();
    });
    again.exec('INSERT INTO t VALUES (1)');
    await flusher.flush();
    expect(flusher.syncs).toBe(2);
  });

  it('syncs the file a function names at each flush (the cache file in force changes with every snapshot)', async () => {
    const { dir } = store();
    const files = ['gen-1.db', 'gen-2.db'].map((name) => {
      const db = openDatabase(join(dir, name));
      cleanups.push(() => {
        db.close();
      });
      db.exec('CREATE TABLE t (x INTEGER)');
      return join(dir, name);
    });
    let inForce: string | null = null;
    const asked: (string | null)[] = [];
    const flusher = flusherFor(() => {
      asked.push(inForce);
      return inForce;
    });
    // No file in force (an in-memory store): nothing to sync.
    await flusher.flush();
    expect(flusher.syncs).toBe(0);
    flusher.flushSync();
    expect(flusher.syncs).toBe(0);
    inForce = files[0] ?? null;
    await flusher.flush();
    inForce = files[1] ?? null;
    await flusher.flush();
    expect(flusher.syncs).toBe(2);
    expect(asked.slice(-2)).toEqual(files);
  });

  it('rejects with the kernel error when the file cannot be synced', async () => {
    const { dir } = store();
    // fdatasync on a character device without sync support fails with EINVAL.
    symlinkSync('/dev/null', join(dir, 'broken.db-wal'));
    const flusher = flusherFor(join(dir, 'broken.db'));
    await expect(flusher.flush()).rejects.toMatchObject({ code: 'EINVAL' });
    expect(() => flusher.flushSync()).toThrow(/EINVAL/);
  });
});

describe('journal behind a WAL flusher', () => {
  it('hands a row to the uplink only after the flush that followed its commit', async () => {
    const { db, path } = store();
    const flusher = flusherFor(path);
    const journal = new Journal(db, randomUUID(), { durability: flusher });
    const heard: number[] = [];
    journal.onAppend((entry) => heard.push(entry.seq));
    const synced = flusher.syncs;
    const rows = Array.from({ length: 20 }, () => append(journal));
    // Committed: in the table and counted, but not yet deliverable.
    expect(journal.pending().map((e) => e.seq)).toEqual(rows.map((r) => r.seq));
    expect(journal.deliverable()).toEqual([]);
    expect(heard).toEqual([]);
    await vi.waitFor(() => expect(heard).toEqual(rows.map((r) => r.seq)));
    expect(journal.deliverable().map((e) => e.seq)).toEqual(rows.map((r) => r.seq));
    expect(journal.durableSeq).toBe(rows.at(-1)?.seq);
    // Twenty appends in one turn of the loop: one flush.
    expect(flusher.syncs - synced).toBe(1);
  });

  it('appends inside a caller transaction become deliverable after it commits, and a rolled-back seq is not counted durable', async () => {
    const { db, path } = store();
    const flusher = flusherFor(path);
    const journal = new Journal(db, randomUUID(), { durability: flusher });
    const kept = db.transaction(() => append(journal))();
    expect(() =>
      db.transaction(() => {
        append(journal);
        throw new Error('caller fails');
      })(),
    ).toThrow('caller fails');
    await vi.waitFor(() => expect(journal.deliverable().map((e) => e.seq)).toEqual([kept.seq]));
    expect(journal.durableSeq).toBe(kept.seq);
  });

  it('keeps rows unpublished while the disk refuses the flush, and hands them over once it works', async () => {
    const { db, dir } = store();
    const brokenWal = join(dir, 'broken.db-wal');
    symlinkSync('/dev/null', brokenWal);
    const flusher = flusherFor(join(dir, 'broken.db'));
    const errors: number[] = [];
    // Built on a working WAL (flushSync at start); the flusher breaks afterwards.
    const journal = new Journal(db, randomUUID(), { durability: { flush: () => flusher.flush(), flushSync: () => undefined }, onDurabilityError: (_e, retryInMs) => errors.push(retryInMs) });
    const heard: number[] = [];
    journal.onAppend((entry) => heard.push(entry.seq));
    const row = append(journal);
    await vi.waitFor(() => expect(errors).toEqual([250]));
    expect(journal.deliverable()).toEqual([]);
    expect(heard).toEqual([]);
    // Appends while it fails wait too; only the newest notices are kept (they are wake-ups), every row stays.
    const more = Array.from({ length: 300 }, () => append(journal));
    await turn();
    // The retry comes with the rows still waiting; once the file syncs, they are handed over.
    rmSync(brokenWal);
    await vi.waitFor(() => expect(heard.at(-1)).toBe(more.at(-1)?.seq), { timeout: 5_000 });
    expect(heard.length).toBe(256);
    expect(journal.deliverable(0, 1000).map((e) => e.seq)).toEqual([row, ...more].map((e) => e.seq));
  });

  it('counts what an earlier run committed as durable at start (it flushes once, blocking, first)', () => {
    const { db, path } = store();
    const earlier = new Journal(db, randomUUID());
    const rows = [append(earlier), append(earlier)];
    const flusher = flusherFor(path);
    const journal = new Journal(db, randomUUID(), { durability: flusher });
    expect(flusher.syncs).toBe(1);
    expect(journal.deliverable().map((e) => e.seq)).toEqual(rows.map((r) => r.seq));
  });

  it('stops flushing once closed', async () => {
    const { db, path } = store();
    const flusher = flusherFor(path);
    const journal = new Journal(db, randomUUID(), { durability: flusher });
    const synced = flusher.syncs;
    journal.close();
    append(journal);
    await turn();
    await turn();
    expect(flusher.syncs).toBe(synced);
    expect(journal.deliverable()).toEqual([]);
  });
});

describe('durableTransaction', () => {
  it('commits at synchronous=FULL and puts the connection back at its level, nested or not', () => {
    const { db } = store();
    db.exec('CREATE TABLE t (x INTEGER)');
    const levels: number[] = [];
    const write = durableTransaction(db, (x: number) => {
      db.prepare('INSERT INTO t VALUES (?)').run(x);
      levels.push(db.pragma('synchronous', { simple: true }) as number);
    });
    write(1);
    db.transaction(() => write(2))();
    expect(levels).toEqual([2, 1]);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2 });
  });
});
