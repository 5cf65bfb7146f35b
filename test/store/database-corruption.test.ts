/**
 * A corrupt database file at start: detected, moved aside with a timestamp
 * (kept, never deleted), and a fresh, migrated store opened in its place.
 */
import { existsSync, openSync, readdirSync, writeFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, schemaVersion, StoreError } from '../../daemon/store/database.js';
import { migrations } from '../../daemon/store/migrations.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const AT = Date.parse('2026-03-04T05:06:07.089Z');

/** A real store with some journal rows, closed cleanly (WAL checkpointed into the main file). */
function writeStore(path: string, rows: number): void {
  const db = openDatabase(path);
  const insert = db.prepare(`INSERT INTO journal (id, boot_id, type, topic, payload, created_at) VALUES (?, 'b', 't', 'x', ?, 0)`);
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`e-${i}`, 'p'.repeat(200));
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

describe('opening a corrupt database', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(() => {
    dir = tempDir();
    path = join(dir.path, 'gatehouse.db');
  });
  afterEach(() => dir.remove());

  const movedAsideFiles = () => readdirSync(dir.path).filter((name) => name.includes('.corrupt-'));

  it('a file that is not a database is moved aside with a timestamp and a fresh store opens', () => {
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const { logger, lines } = memoryLogger();
    const moved: string[] = [];
    const db = openDatabase(path, { logger, now: () => AT, onMovedAside: (to) => moved.push(to) });
    expect(schemaVersion(db)).toBe(migrations.length);
    expect(db.prepare('SELECT count(*) AS n FROM journal').get()).toEqual({ n: 0 });
    db.close();
    expect(moved).toEqual([`${path}.corrupt-2026-03-04T05-06-07-089Z`]);
    expect(statSync(moved[0] ?? '').size).toBe(8192); // kept as it was, for forensics
    const errors = lines.map((l) => JSON.parse(l) as { level: number; msg: string; movedTo?: string }).filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/corrupt: moved aside/);
    expect(errors[0]?.movedTo).toBe(moved[0]);
  });

  it('a damaged page inside a real store is found by the check at open', () => {
    writeStore(path, 2000);
    const pageSize = 4096;
    const pages = statSync(path).size / pageSize;
    expect(pages).toBeGreaterThan(20);
    // Overwrite a page in the middle of the journal table's b-tree.
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xff), 0, pageSize, Math.floor(pages / 2) * pageSize);
    closeSync(fd);
    const db = openDatabase(path, { now: () => AT });
    expect(db.prepare('SELECT count(*) AS n FROM journal').get()).toEqual({ n: 0 });
    expect(db.pragma('quick_check', { simple: true })).toBe('ok');
    db.close();
    const aside = 'gatehouse.db.corrupt-2026-03-04T05-06-07-089Z';
    expect(movedAsideFiles()).toContain(aside);
    // What was moved aside is still the damaged file: SQLite says so.
    const old = new Database(join(dir.path, aside), { readonly: true });
    expect(old.pragma('quick_check', { simple: true })).not.toBe('ok');
    old.close();
  });

  it('moves the WAL and shared-memory files along with the main file', () => {
    writeFileSync(path, Buffer.alloc(4096, 0x11));
    writeFileSync(`${path}-wal`, Buffer.alloc(100, 0x22));
    writeFileSync(`${path}-shm`, Buffer.alloc(100, 0x33));
    openDatabase(path, { now: () => AT }).close();
    expect(movedAsideFiles().sort()).toEqual([
      'gatehouse.db.corrupt-2026-03-04T05-06-07-089Z',
      'gatehouse.db.corrupt-2026-03-04T05-06-07-089Z-shm',
      'gatehouse.db.corrupt-2026-03-04T05-06-07-089Z-wal',
    ]);
  });

  it('a healthy store opens as it is, with its rows', () => {
    writeStore(path, 50);
    const db = openDatabase(path);
    expect(db.prepare('SELECT count(*) AS n FROM journal').get()).toEqual({ n: 50 });
    db.close();
    expect(movedAsideFiles()).toEqual([]);
    expect(existsSync(path)).toBe(true);
  });

  it('a store from a newer Gatehouse is refused, not moved aside: it is not damaged', () => {
    writeStore(path, 1);
    const raw = new Database(path);
    raw.pragma(`user_version = ${migrations.length + 1}`);
    raw.close();
    expect(() => openDatabase(path)).toThrow(StoreError);
    expect(movedAsideFiles()).toEqual([]);
  });
});
