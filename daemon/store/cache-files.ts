/**
 * Where the offline cache lives: one SQLite file per generation, next to
 * the daemon's database (`gatehouse.db.gen-12`), attached to the daemon's
 * connection as schema `cache` (schema in cache-schema.ts). The main file
 * keeps what is the gateway's own: the journal, sessions, first uses,
 * commands; and, in meta, the number of the generation file in force.
 *
 * Why a file per generation: a snapshot of 100,000 people staged beside the
 * data in force, in the daemon's own file, had to go in short transactions
 * that gave way to the daemon's writes, each row landing on a random index
 * page written to the WAL and again by every checkpoint, and the old
 * generation cost as much again to delete: ≈ 2.6 GB written for a 120 MB
 * cache, and event-loop stalls of 15-180 ms while the disk was saturated
 * (docs/benchmark-analysis.md). A file of its own is built by the staging
 * worker in one transaction, its indexes made in one sort at the end, with
 * no lock shared with the daemon; it is put in force by swapTo() below and
 * the old one goes with an unlink.
 *
 * Old or new, never a mix, and a crash at any moment leaves one of them in
 * force: the new file is complete and fsynced before the pointer names it;
 * the pointer changes in one durable transaction of the main file; the
 * connection then detaches the old file and attaches the new one. A crash
 * before that commit leaves the old pointer (and the new file as garbage,
 * removed at the next start); after it, the next start attaches the new
 * file.
 *
 * An in-memory store attaches an in-memory database instead, and stages
 * generations inside it (sync_state.gen), as the single-file store did.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../runtime/logger.js';
import { CACHE_SCHEMA_VERSION, GENERATION_TABLES, cacheMigrationsFrom, cacheSchemaSql } from './cache-schema.js';
import { checkIntact, DatabaseCorruptError, durableTransaction, isCorruption, moveAside, StoreError, type Db } from './database.js';

/** The schema name the cache is attached under. */
export const CACHE_SCHEMA = 'cache';
/** The meta key of the generation file in force. */
const POINTER_KEY = 'generation_in_force';
/** Suffixes SQLite may leave next to a database file. */
const SIDE_FILES = ['-wal', '-shm', '-journal'];
/** Visitor tokens last a day unless the cloud says otherwise (the settings row of an empty cache). */
const EMPTY_SETTINGS_SQL = (s: string, gen: number): string =>
  `INSERT INTO ${s}.cache_settings (gen, visitor_token_minutes, visitor_token_start) VALUES (${gen}, 1440, 'first-checkin')`;

export const isMemory = (mainPath: string): boolean => mainPath === ':memory:' || mainPath === '';

/** The file of generation `gen` of the store whose main file is `mainPath`. */
export function generationPath(mainPath: string, gen: number): string {
  return `${mainPath}.gen-${gen}`;
}

/** Generation numbers that have a file (or what is left of one) next to `mainPath`, ascending. */
export function generationsOnDisk(mainPath: string): number[] {
  if (isMemory(mainPath)) return [];
  const prefix = `${basename(mainPath)}.gen-`;
  const found = new Set<number>();
  let names: string[];
  try {
    names = readdirSync(dirname(mainPath));
  } catch {
    return [];
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)(-wal|-shm|-journal)?$/.exec(name.slice(prefix.length));
    if (match !== null) found.add(Number(match[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/** Remove a generation's file and its side files (off the event loop: a large file's unlink frees its extents). */
export async function removeGenerationFile(mainPath: string, gen: number): Promise<void> {
  const path = generationPath(mainPath, gen);
  await Promise.all(['', ...SIDE_FILES].map((suffix) => unlink(path + suffix).catch(ignoreMissing)));
}

/** The same, blocking (start-up, a file about to be created again). */
export function removeGenerationFileSync(path: string): void {
  for (const suffix of ['', ...SIDE_FILES]) rmSync(path + suffix, { force: true });
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

/** fsync a file and the directory that names it: a new file survives a power cut only with both. */
export function syncFileAndDirectory(path: string): void {
  for (const target of [path, dirname(path)]) {
    const fd = openSync(target, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** The generation file number the main file names, or null (before migration 10 or in an in-memory store). */
export function pointedGeneration(db: Db): number | null {
  const row = db.prepare<[string], { value: string }>(`SELECT value FROM main.meta WHERE key = ?`).get(POINTER_KEY);
  return row === undefined ? null : Number(row.value);
}

function setPointer(db: Db, gen: number): void {
  db.prepare(`INSERT INTO main.meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(POINTER_KEY, String(gen));
}

export function isCacheAttached(db: Db): boolean {
  return (db.pragma('database_list') as { name: string }[]).some((d) => d.name === CACHE_SCHEMA);
}

/** Per-schema settings of an attached generation file. */
function configureAttached(db: Db): void {
  // The same reasoning as the main file (database.ts): a commit is a write
  // into the WAL, synced off the event loop after each delta (the sync
  // service's WAL flusher for the file in force); a delta a power cut takes
  // back before that is asked for again at boot (the version goes back).
  db.pragma(`${CACHE_SCHEMA}.synchronous = NORMAL`);
}

/**
 * Attach `path` as the cache and check it: SQLite can read it, it is a
 * generation file, not newer than this code (brought up to date if older),
 * and, with `readEveryPage` (at start, not at a swap: it reads the whole
 * file), no page is damaged. Throws, leaving nothing attached, when it is
 * none of that.
 */
function attachChecked(db: Db, path: string, { readEveryPage = false } = {}): void {
  db.prepare(`ATTACH DATABASE ? AS ${CACHE_SCHEMA}`).run(path);
  try {
    if (readEveryPage) checkIntact(db, CACHE_SCHEMA);
    const version = db.pragma(`${CACHE_SCHEMA}.user_version`, { simple: true }) as number;
    if (version > CACHE_SCHEMA_VERSION) {
      throw new StoreError(`cache file ${path} has schema version ${version}, newer than this Gatehouse (${CACHE_SCHEMA_VERSION}); refusing to use it`);
    }
    // An empty or foreign file where the pointer says the cache is: as good as damaged.
    if (version < 1) throw new DatabaseCorruptError(`${path} is not a cache generation file (schema version ${version})`);
    const upgrades = cacheMigrationsFrom(version, CACHE_SCHEMA);
    if (upgrades.length > 0) {
      db.transaction(() => {
        for (const sql of upgrades) db.exec(sql);
        db.pragma(`${CACHE_SCHEMA}.user_version = ${CACHE_SCHEMA_VERSION}`);
      })();
    }
    configureAttached(db);
  } catch (error) {
    db.exec(`DETACH DATABASE ${CACHE_SCHEMA}`);
    throw error;
  }
}

/** Create the cache schema, empty, in the attached schema `s` (in force: generation `gen`, never synced). */
export function createEmptyCache(db: Db, s: string, gen: number): void {
  db.transaction(() => {
    db.exec(cacheSchemaSql(s, true));
    db.prepare(`INSERT INTO ${s}.sync_state (id, gen, version) VALUES (1, ?, 0)`).run(gen);
    db.exec(EMPTY_SETTINGS_SQL(s, gen));
    db.pragma(`${s}.user_version = ${CACHE_SCHEMA_VERSION}`);
  })();
}

/**
 * Attach an empty cache of a new generation file and point the main file
 * at it: for a store whose file is missing or unreadable. Decisions then
 * run on no data (never synced: the stale policy applies) until the seed
 * file or the next snapshot fills it.
 */
function attachEmpty(db: Db, mainPath: string): number {
  const gen = Math.max(pointedGeneration(db) ?? 0, ...generationsOnDisk(mainPath)) + 1;
  const path = generationPath(mainPath, gen);
  removeGenerationFileSync(path);
  db.prepare(`ATTACH DATABASE ? AS ${CACHE_SCHEMA}`).run(path);
  db.pragma(`${CACHE_SCHEMA}.journal_mode = WAL`);
  createEmptyCache(db, CACHE_SCHEMA, gen);
  configureAttached(db);
  syncFileAndDirectory(path);
  durableTransaction(db, () => setPointer(db, gen))();
  return gen;
}

export interface AttachOptions {
  readonly logger?: Logger;
  readonly now?: () => number;
}

/**
 * At open, after the main file's migrations: attach the generation file
 * the main file names. A missing one (deleted by hand) or a damaged one
 * (moved aside) is replaced by an empty cache, with an error logged.
 */
export function attachCache(db: Db, options: AttachOptions = {}): void {
  if (isCacheAttached(db)) return;
  const mainPath = db.name;
  if (isMemory(mainPath)) throw new StoreError('an in-memory store gets its cache from migration 10');
  const gen = pointedGeneration(db);
  if (gen === null) throw new StoreError(`${mainPath} names no cache generation file`);
  const path = generationPath(mainPath, gen);
  if (!existsSync(path)) {
    const created = attachEmpty(db, mainPath);
    options.logger?.error({ missing: path, created: generationPath(mainPath, created) }, 'the cache file is missing: starting on an empty cache (filled from the seed file or the next snapshot)');
    return;
  }
  try {
    attachChecked(db, path, { readEveryPage: true });
  } catch (error) {
    if (!isCorruption(error)) throw error;
    // Kept for a look, never deleted, as a damaged main file is.
    const movedTo = moveAside(path, (options.now ?? Date.now)());
    const created = attachEmpty(db, mainPath);
    options.logger?.error(
      { err: error, movedTo, created: generationPath(mainPath, created) },
      'the cache file is damaged: moved aside, starting on an empty cache (filled from the seed file or the next snapshot)',
    );
  }
}

/**
 * Put generation file `gen` in force (built, sealed and fsynced by the
 * staging worker). The pointer commits durably first; then the old file is
 * detached and the new one attached, which also makes every prepared
 * statement that names the cache prepare itself again on its next run (a
 * few µs each, once). If the new file cannot be attached, the old one is
 * put back and the pointer with it, and the error is thrown.
 * Not inside a transaction, and not while a statement is being iterated.
 */
export function swapTo(db: Db, gen: number): void {
  const mainPath = db.name;
  const previous = pointedGeneration(db);
  durableTransaction(db, () => setPointer(db, gen))();
  // Closing the last connection to a WAL file checkpoints it: for a file that
  // is garbage from now on, without the fsync (on the event loop) it would
  // cost. If the swap fails below, it is attached again at NORMAL.
  db.pragma(`${CACHE_SCHEMA}.synchronous = OFF`);
  db.exec(`DETACH DATABASE ${CACHE_SCHEMA}`);
  try {
    attachChecked(db, generationPath(mainPath, gen));
  } catch (error) {
    if (previous !== null) {
      durableTransaction(db, () => setPointer(db, previous))();
      attachChecked(db, generationPath(mainPath, previous));
    }
    throw error;
  }
}

/** The generation file in force, or null in an in-memory store. */
export function currentGenerationPath(db: Db): string | null {
  const gen = isMemory(db.name) ? null : pointedGeneration(db);
  return gen === null ? null : generationPath(db.name, gen);
}

/**
 * Migration 10's first step: copy the generation in force out of the main
 * file into a file of its own (an in-memory database for an in-memory
 * store), attached as the cache, synced before the migration's transaction
 * drops the main file's copy. Run again from the start if the process dies
 * before that transaction commits: the half-made file is replaced.
 */
export function moveCacheOutOfMain(db: Db): void {
  const state = db.prepare<[], { gen: number }>(`SELECT gen FROM main.sync_state WHERE id = 1`).get();
  if (state === undefined) throw new StoreError('sync_state is missing: cannot move the cache out of the main file');
  const memory = isMemory(db.name);
  const path = memory ? ':memory:' : generationPath(db.name, state.gen);
  if (!memory) removeGenerationFileSync(path);
  db.prepare(`ATTACH DATABASE ? AS ${CACHE_SCHEMA}`).run(path);
  try {
    if (!memory) db.pragma(`${CACHE_SCHEMA}.journal_mode = WAL`);
    db.pragma(`${CACHE_SCHEMA}.synchronous = FULL`);
    db.transaction(() => {
      db.exec(cacheSchemaSql(CACHE_SCHEMA, true));
      // Parents first: foreign keys are checked as each row goes in.
      for (const table of [...GENERATION_TABLES].reverse()) {
        const columns = (db.pragma(`${CACHE_SCHEMA}.table_info(${table})`) as { name: string }[]).map((c) => c.name).join(', ');
        db.prepare(`INSERT INTO ${CACHE_SCHEMA}.${table} (${columns}) SELECT ${columns} FROM main.${table} WHERE gen = ?`).run(state.gen);
      }
      db.exec(`INSERT INTO ${CACHE_SCHEMA}.sync_state SELECT * FROM main.sync_state`);
      db.pragma(`${CACHE_SCHEMA}.user_version = ${CACHE_SCHEMA_VERSION}`);
    })();
    configureAttached(db);
    if (!memory) syncFileAndDirectory(path);
  } catch (error) {
    db.exec(`DETACH DATABASE ${CACHE_SCHEMA}`);
    throw error;
  }
}
