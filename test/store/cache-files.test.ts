/**
 * The cache in generation files of its own (store/cache-files.ts): where a
 * store keeps it, what happens when its file is missing, damaged or newer
 * than the code, and the swap from one file to the next as the daemon's
 * connection sees it.
 */
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generationPath, generationsOnDisk, pointedGeneration, swapTo } from '../../daemon/store/cache-files.js';
import { CACHE_SCHEMA_VERSION } from '../../daemon/store/cache-schema.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, StoreError, type Db } from '../../daemon/store/database.js';
import { GenerationBuild } from '../../daemon/sync/generation-build.js';
import { defaultSiteSettings } from '../../daemon/sync/dataset.js';
import { newStageCounts } from '../../daemon/store/cache-writer.js';
import { generateDataset } from '../../scripts/lib/dataset-generator.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const hasher = new CredentialHasher(Buffer.alloc(32, 3));
const AT = Date.parse('2026-03-04T05:06:07.089Z');

const firstCard = (dataset: ReturnType<typeof generateDataset>): string => {
  const card = dataset.people.flatMap((p) => p.credentials).find((c) => c.kind === 'card');
  if (card === undefined) throw new Error('no card in the data set');
  return card.value;
};

/** Build generation `gen` of the store at `mainPath` from a data set, as the staging worker does. */
function build(mainPath: string, gen: number, dataset: ReturnType<typeof generateDataset>): void {
  const b = new GenerationBuild(generationPath(mainPath, gen), gen, hasher);
  const counts = newStageCounts();
  for (const person of dataset.people) b.writer.stagePerson(gen, person, AT, counts);
  b.seal({ version: dataset.version, syncedAt: AT, source: 'mqtt', snapshotId: 's', checksum: 'c', issuedAt: AT }, defaultSiteSettings);
}

describe('cache generation files', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  let db: Db | undefined;
  beforeEach(() => {
    dir = tempDir();
    path = join(dir.path, 'gatehouse.db');
  });
  afterEach(() => {
    if (db?.open === true) db.close();
    dir.remove();
  });

  it('a new store keeps its cache in a file of its own, named by the main file', () => {
    db = openDatabase(path);
    expect(pointedGeneration(db)).toBe(1);
    expect(generationsOnDisk(path)).toEqual([1]);
    expect(db.prepare(`SELECT count(*) AS n FROM main.sqlite_schema WHERE name LIKE 'cache_%' OR name = 'sync_state'`).get()).toEqual({ n: 0 });
    expect(db.pragma('cache.user_version', { simple: true })).toBe(CACHE_SCHEMA_VERSION);
    expect(db.pragma('cache.journal_mode', { simple: true })).toBe('wal');
    expect(new CredentialCache(db, hasher).state()).toMatchObject({ gen: 1, version: 0, appliedAt: null });
  });

  it('swaps to a built file: statements prepared before see the new data, the pointer survives a reopen', () => {
    db = openDatabase(path);
    const cache = new CredentialCache(db, hasher);
    const old = generateDataset({ people: 30, seed: 1, version: 4 });
    cache.applySnapshot(old, AT);
    const next = generateDataset({ people: 20, seed: 2, version: 5 });
    build(path, 7, next);
    const oldCard = hasher.lookupOf('card', firstCard(old));
    const newCard = hasher.lookupOf('card', firstCard(next));
    expect(cache.candidates(oldCard)).toHaveLength(1);
    swapTo(db, 7);
    expect(cache.state()).toMatchObject({ gen: 7, version: 5, source: 'mqtt', snapshotId: 's' });
    expect(cache.candidates(oldCard)).toEqual([]);
    expect(cache.candidates(newCard)).toHaveLength(1);
    expect(cache.counts().people).toBe(20);
    db.close();
    db = openDatabase(path);
    expect(pointedGeneration(db)).toBe(7);
    expect(new CredentialCache(db, hasher).version()).toBe(5);
  });

  it('a file that cannot be attached leaves the old one in force and the pointer where it was', () => {
    db = openDatabase(path);
    const cache = new CredentialCache(db, hasher);
    cache.applySnapshot(generateDataset({ people: 10, seed: 1, version: 4 }), AT);
    writeFileSync(generationPath(path, 9), Buffer.alloc(8192, 0x5a));
    expect(() => swapTo(db as Db, 9)).toThrow();
    expect(pointedGeneration(db)).toBe(1);
    expect(cache.state()).toMatchObject({ version: 4 });
    expect(cache.counts().people).toBe(10);
  });

  it('a missing file: an empty cache in a new file, never synced, and an error logged', () => {
    db = openDatabase(path);
    new CredentialCache(db, hasher).applySnapshot(generateDataset({ people: 10, seed: 1, version: 4 }), AT);
    db.close();
    // Deleted by hand (a technician "cleaning up").
    for (const name of readdirSync(dir.path).filter((n) => n.includes('.gen-'))) rmSync(join(dir.path, name));
    const { logger, lines } = memoryLogger();
    db = openDatabase(path, { logger });
    const cache = new CredentialCache(db, hasher);
    expect(cache.state()).toMatchObject({ version: 0, syncedAt: null, appliedAt: null });
    expect(pointedGeneration(db)).toBe(2);
    expect(existsSync(generationPath(path, 2))).toBe(true);
    expect(lines.join('')).toContain('the cache file is missing');
  });

  it('a damaged file is moved aside, kept, and replaced by an empty cache', () => {
    db = openDatabase(path);
    new CredentialCache(db, hasher).applySnapshot(generateDataset({ people: 2000, seed: 1, version: 4 }), AT);
    db.pragma('cache.wal_checkpoint(TRUNCATE)');
    db.close();
    const file = generationPath(path, 1);
    const pages = statSync(file).size / 4096;
    expect(pages).toBeGreaterThan(20);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, Math.floor(pages / 2) * 4096);
    closeSync(fd);
    const { logger, lines } = memoryLogger();
    db = openDatabase(path, { logger, now: () => AT });
    expect(new CredentialCache(db, hasher).state()).toMatchObject({ version: 0, appliedAt: null });
    expect(existsSync(`${file}.corrupt-2026-03-04T05-06-07-089Z`)).toBe(true);
    expect(pointedGeneration(db)).toBe(2);
    expect(lines.join('')).toContain('the cache file is damaged');
    // The main file (journal, sessions) was not touched.
    expect(db.prepare('SELECT count(*) AS n FROM journal').get()).toEqual({ n: 0 });
  });

  it('an empty file where the cache should be is treated as damaged: moved aside, an empty cache in its place', () => {
    db = openDatabase(path);
    new CredentialCache(db, hasher).applySnapshot(generateDataset({ people: 10, seed: 1, version: 4 }), AT);
    db.close();
    // Truncated to nothing (a disk that lost it, a technician's mistake): SQLite opens it as an empty database.
    writeFileSync(generationPath(path, 1), Buffer.alloc(0));
    const { logger, lines } = memoryLogger();
    db = openDatabase(path, { logger, now: () => AT });
    expect(new CredentialCache(db, hasher).state()).toMatchObject({ version: 0, appliedAt: null });
    expect(existsSync(`${generationPath(path, 1)}.corrupt-2026-03-04T05-06-07-089Z`)).toBe(true);
    expect(lines.join('')).toContain('the cache file is damaged');
  });

  it('refuses a cache file newer than this code, as it refuses a newer main file', () => {
    db = openDatabase(path);
    db.close();
    const raw = new Database(generationPath(path, 1));
    raw.pragma(`user_version = ${CACHE_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDatabase(path)).toThrow(StoreError);
  });
});
