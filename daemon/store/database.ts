/**
 * Opening the SQLite file: pragmas for a daemon that must not lose a decided
 * event, the migration runner, and what happens to a file that is corrupt.
 *
 * A corrupt file (SQLITE_CORRUPT / SQLITE_NOTADB on open, or a quick_check
 * that finds damage) is moved aside with a timestamp, never deleted: events it
 * still held may be recovered from it by hand. The gateway then starts on a
 * fresh store, which the seed file or the next snapshot fills; until then the
 * configured stale policy applies (a fresh store has never synced).
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../runtime/logger.js';
import { attachCache } from './cache-files.js';
import { migrations, type Migration } from './migrations.js';

export type Db = Database.Database;

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** The file is damaged: SQLite refused it or its own check found damage. */
export class DatabaseCorruptError extends Error {
  override readonly name = 'DatabaseCorruptError';
}

export interface OpenDatabaseOptions {
  /** Told (at error level) when a corrupt file was moved aside. */
  readonly logger?: Logger;
  /** For the timestamp in the moved-aside name. */
  readonly now?: () => number;
  /** Called with the new name of a corrupt file that was moved aside. */
  readonly onMovedAside?: (movedTo: string) => void;
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  if (path === ':memory:') return openChecked(path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  let movedTo: string | null = null;
  try {
    return openChecked(
      path,
      () => {
        movedTo = moveAside(path, (options.now ?? Date.now)());
      },
      options,
    );
  } catch (error) {
    if (movedTo === null) throw error;
    options.logger?.error(
      { err: error, path, movedTo },
      'the database file is corrupt: moved aside, starting on a fresh store (filled from the seed file or the next snapshot)',
    );
    options.onMovedAside?.(movedTo);
    return openChecked(path, undefined, options);
  }
}

/** Opens, checks and migrates; on damage calls `onCorrupt` while the file is still open (closing would delete its WAL). */
function openChecked(path: string, onCorrupt?: () => void, options: OpenDatabaseOptions = {}): Db {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL: a commit is a write into the WAL, with no fsync on the event
    // loop; it survives the process being killed. What must survive a power
    // cut as well is made durable off the loop before anyone relies on it
    // (wal-flusher.ts: the journal publishes an event only then), or
    // committed with durableTransaction() where an action follows at once.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    checkIntact(db, 'main');
    migrate(db);
    // The cache: the generation file the main file names (an in-memory store got its own in migration 10).
    attachCache(db, options);
  } catch (error) {
    if (onCorrupt !== undefined && isCorruption(error)) onCorrupt();
    db.close();
    throw error;
  }
  return db;
}

const SQLITE_FULL_SYNC = 2;

/**
 * db.transaction(fn), committed with synchronous=FULL (the WAL fsynced
 * before COMMIT returns) when it is not nested in another transaction: for
 * the rare write that something irrevocable follows at once (a remote
 * command's at-most-once claim before the door moves), where "durable
 * shortly after" is not enough. It stalls the loop for one fsync; never use
 * it on the card-read path.
 */
export function durableTransaction<A extends unknown[], R>(db: Db, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A): R => {
    const level = db.pragma('synchronous', { simple: true }) as number;
    if (db.inTransaction || level >= SQLITE_FULL_SYNC) return tx(...args);
    db.pragma(`synchronous = ${SQLITE_FULL_SYNC}`);
    try {
      return tx(...args);
    } finally {
      db.pragma(`synchronous = ${level}`);
    }
  };
}

/**
 * Throws DatabaseCorruptError when SQLite's quick_check finds damage in
 * `schema`. It reads every page once (it skips the index-vs-table
 * comparison of integrity_check): damage is found at start, not in the
 * middle of a decision.
 */
export function checkIntact(db: Db, schema: string): void {
  const problems = db.pragma(`${schema}.quick_check(5)`, { simple: false }) as { quick_check: string }[];
  if (problems.length !== 1 || problems[0]?.quick_check !== 'ok') {
    throw new DatabaseCorruptError(`quick_check found damage: ${problems.map((p) => p.quick_check).join('; ')}`);
  }
}

/** Whether an error says the file is damaged (SQLite's own codes, or checkIntact). */
export function isCorruption(error: unknown): boolean {
  if (error instanceof DatabaseCorruptError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** Renames the file and its WAL and shared-memory files to `<path>.corrupt-<timestamp>`; returns the new name. */
export function moveAside(path: string, at: number): string {
  const movedTo = `${path}.corrupt-${new Date(at).toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, movedTo);
  // An old WAL next to a fresh file would be replayed into it; it may also
  // hold the newest events, so it goes along.
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, movedTo + suffix);
  }
  return movedTo;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new StoreError(
      `database schema version ${current} is newer than this Gatehouse (${migrations.length}); refusing to open it`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    const migration = migrations[version] as Migration;
    const sql = typeof migration === 'string' ? migration : migration.sql;
    if (typeof migration !== 'string') migration.before(db);
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
