/**
 * The daemon's connection with a second writer on the same file (the staging
 * worker's): its transactions wait for the lock instead of failing, its
 * writes show on the shared gate while they run, and a gate left held by a
 * dead worker does not stop them.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { writeGateOf, WriteGate } from '../../daemon/store/write-priority.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Another thread takes the write lock, says so, and lets go a while later on
 * its own (the test's thread is blocked in SQLite meanwhile and can send
 * nothing).
 */
const LOCK_HOLDER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.exec('BEGIN IMMEDIATE');
db.prepare('INSERT INTO t (v) VALUES (?)').run('other');
parentPort.postMessage('holding');
setTimeout(() => {
  db.exec('COMMIT');
  db.close();
}, workerData.holdMs);
`;

describe('write priority of the daemon connection', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  const path = () => join(dir.path, 'g.db');

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(path());
    db.pragma('busy_timeout = 3000');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });
  afterEach(() => {
    db.close();
    dir.remove();
  });

  /** Runs `write` while another thread holds the write lock (for half a second, far longer than `write` takes to try). */
  async function whileLocked<T>(write: () => T): Promise<T> {
    const holder = new Worker(LOCK_HOLDER, { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path: path(), holdMs: 500 } });
    const exited = once(holder, 'exit');
    await once(holder, 'message');
    try {
      return write();
    } finally {
      await exited;
    }
  }

  it('a transaction that reads before it writes waits for the other writer instead of failing (IMMEDIATE)', async () => {
    const inserted = await whileLocked(() =>
      db.transaction(() => {
        const n = (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
        db.prepare('INSERT INTO t (v) VALUES (?)').run(`after ${n}`);
        return n;
      })(),
    );
    // It began after the other writer committed: it saw that row.
    expect(inserted).toBe(1);
    expect(db.prepare('SELECT v FROM t ORDER BY id').all()).toEqual([{ v: 'other' }, { v: 'after 1' }]);
  });

  it('a plain deferred transaction on a connection that does not announce its writes fails instead (why the daemon connection does)', async () => {
    const plain = new Database(path());
    try {
      plain.pragma('busy_timeout = 3000');
      const attempt = await whileLocked(() => {
        try {
          plain.transaction(() => {
            plain.prepare('SELECT count(*) FROM t').get();
            plain.prepare('INSERT INTO t (v) VALUES (?)').run('plain');
          })();
          return 'written';
        } catch (error) {
          return (error as { code?: string }).code ?? 'error';
        }
      });
      expect(attempt).toBe('SQLITE_BUSY');
    } finally {
      plain.close();
    }
  });

  it('raises WANT for the length of each write, and only then', () => {
    const buffer = writeGateOf(db);
    if (buffer === null) throw new Error('openDatabase announces writes');
    const gate = new WriteGate(buffer);
    const seen: boolean[] = [];
    db.function('wanted_now', () => (gate.wanted ? 1 : 0));
    expect(gate.wanted).toBe(false);
    db.transaction(() => {
      seen.push(gate.wanted);
      db.prepare('INSERT INTO t (v) VALUES (?)').run('in a transaction');
    })();
    // A single write statement outside a transaction is announced too.
    db.prepare('INSERT INTO t (v) SELECT CASE wanted_now() WHEN 1 THEN ? ELSE ? END').run('announced', 'silent');
    expect(seen).toEqual([true]);
    expect(gate.wanted).toBe(false);
    expect(db.prepare('SELECT v FROM t ORDER BY id DESC LIMIT 1').get()).toEqual({ v: 'announced' });
    expect(writeGateOf(new Database(':memory:'))).toBeNull();
  });

  it('a gate left held (a worker that died in a transaction) delays a write, never stops it', () => {
    const buffer = writeGateOf(db);
    if (buffer === null) throw new Error('openDatabase announces writes');
    const dead = new WriteGate(buffer);
    dead.enter();
    db.prepare('INSERT INTO t (v) VALUES (?)').run('still written');
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
    dead.leave();
  });
});
