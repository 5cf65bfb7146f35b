/**
 * Checkpoints off the event loop (store/checkpointer.ts), on real files: the
 * daemon's connection no longer checkpoints, the thread does (main file and
 * cache file in force), the WAL then starts over instead of growing, and a
 * failed thread hands checkpoints back to the connection.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentGenerationPath } from '../../daemon/store/cache-files.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { Checkpointer, startBackgroundCheckpoints, type BackgroundCheckpoints } from '../../daemon/store/checkpointer.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { generateDataset } from '../../scripts/lib/dataset-generator.js';
import { waitFor } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const PAGE = 4096;
/** SQLite's default autocheckpoint threshold, in bytes of WAL. */
const AUTOCHECKPOINT_BYTES = 1000 * PAGE;

describe('background checkpoints', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let checkpoints: BackgroundCheckpoints | null;
  const path = () => join(dir.path, 'g.db');
  const walBytes = () => statSync(`${path()}-wal`).size;

  /** Commits `rows` rows of 2 KiB, one transaction each, without giving the event loop a turn. */
  const write = (rows: number): void => {
    const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
    for (let i = 0; i < rows; i++) insert.run('x'.repeat(2048));
  };

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(path());
    db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  });
  afterEach(async () => {
    await checkpoints?.stop();
    checkpoints = null;
    db.close();
    dir.remove();
  });

  it('the connection does not checkpoint; the thread does, and the WAL starts over instead of growing', async () => {
    const log = memoryLogger('warn');
    checkpoints = startBackgroundCheckpoints(db, log.logger, 20);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    write(3000);
    // ~6 MiB committed in one turn: SQLite alone would have checkpointed and restarted the WAL at ~4 MiB.
    const grown = walBytes();
    expect(grown).toBeGreaterThan(AUTOCHECKPOINT_BYTES * 1.4);
    const before = checkpoints?.checkpointer.completed ?? 0;
    await waitFor(() => (checkpoints?.checkpointer.completed ?? 0) > before, 'a checkpoint on the thread', 10_000);
    // Backfilled: the rows are in the database file now.
    expect(statSync(path()).size).toBeGreaterThan(3000 * 2048);
    // The next commits start the WAL over from its beginning: it does not grow past what it was.
    write(1000);
    expect(walBytes()).toBe(grown);
    expect(db.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: 4000 });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(log.lines).toEqual([]);
  });

  it('checkpoints the cache file in force as well as the main file', async () => {
    const cache = new CredentialCache(db, new CredentialHasher(Buffer.alloc(32, 7)));
    checkpoints = startBackgroundCheckpoints(db, memoryLogger('warn').logger, 60_000);
    // A data set written into the cache file in force: its rows are in the file's WAL only.
    cache.applySnapshot(generateDataset({ people: 3000, seed: 3, version: 2 }), Date.now());
    const cacheFile = currentGenerationPath(db);
    if (cacheFile === null) throw new Error('a file store has a cache file');
    const before = statSync(cacheFile).size;
    expect(statSync(`${cacheFile}-wal`).size).toBeGreaterThan(1024 * 1024);
    checkpoints?.checkpointer.request();
    await waitFor(() => (checkpoints?.checkpointer.completed ?? 0) > 0, 'a checkpoint on the thread', 10_000);
    expect(statSync(cacheFile).size).toBeGreaterThan(before + 1024 * 1024);
    expect(db.pragma('cache.integrity_check', { simple: true })).toBe('ok');
    expect(cache.counts().people).toBe(3000);
  });

  it('a thread that fails hands checkpoints back to the connection, and says so', async () => {
    const log = memoryLogger('warn');
    checkpoints = startBackgroundCheckpoints(db, log.logger, 20);
    await checkpoints?.checkpointer.terminate();
    await waitFor(() => checkpoints?.checkpointer.working === false, 'the failure noticed', 5_000);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(log.lines.join('')).toContain('checkpoints are back on the event loop');
    // SQLite checkpoints by itself again: the WAL stops growing at about its threshold.
    write(3000);
    expect(walBytes()).toBeLessThan(AUTOCHECKPOINT_BYTES * 1.4);
  });

  it('a checkpoint that fails is reported and tried again; the thread keeps working', async () => {
    const errors: string[] = [];
    let paths = [join(dir.path, 'missing.db')];
    const checkpointer = new Checkpointer({ paths: () => paths, onFailure: (m) => errors.push(`failure: ${m}`), onCheckpointError: (m) => errors.push(m) });
    try {
      checkpointer.request();
      await waitFor(() => checkpointer.failed === 1, 'the failed checkpoint reported', 5_000);
      expect(errors).toEqual([expect.stringContaining('unable to open database file')]);
      expect(checkpointer.working).toBe(true);
      paths = [path()];
      checkpointer.request();
      await waitFor(() => checkpointer.completed === 1, 'the next checkpoint', 5_000);
      expect(errors).toHaveLength(1);
    } finally {
      await checkpointer.close();
    }
  });

  it('an in-memory database has no WAL and gets none', () => {
    const memory = openDatabase(':memory:');
    try {
      expect(startBackgroundCheckpoints(memory, memoryLogger('warn').logger)).toBeNull();
    } finally {
      memory.close();
    }
  });
});
