/**
 * Opening the SQLite file: pragmas for a daemon that must not lose a decided
 * event, and the migration runner.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from './migrations.js';

export type Db = Database.Database;

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a committed journal row survives a power cut, not only a crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
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
    const sql = migrations[version] as string;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
