/**
 * One generation file being built by the staging worker (cache-files.ts
 * says why a generation has a file of its own): a fresh SQLite file, its
 * tables without their secondary indexes, one transaction from the first
 * row to the seal.
 *
 * Nobody else opens the file until it is put in force, so none of what a
 * shared file needs applies: no lock to give way on, no WAL, no fsync per
 * commit, no checkpoints. A rollback journal in memory keeps a statement
 * that fails (a duplicate id) from leaving half a row, and costs almost
 * nothing: the file is empty when the transaction begins, and SQLite
 * journals only pages that existed then.
 *
 * seal() adds the sync state and the indexes (one sort each instead of a
 * random page per row), commits, switches the file to WAL (the daemon's
 * connection reads it beside its own writes), and fsyncs it and its
 * directory: only then may the main file name it. A build that is
 * abandoned, or interrupted by a crash, is garbage for the collector.
 */
import Database from 'better-sqlite3';
import type { Activation } from '../store/cache-writer.js';
import { CacheWriter } from '../store/cache-writer.js';
import { CACHE_COUNTS_SQL, CACHE_SCHEMA_VERSION, cacheIndexSql, cacheSchemaSql, type CacheCounts } from '../store/cache-schema.js';
import { removeGenerationFileSync, syncFileAndDirectory } from '../store/cache-files.js';
import type { CredentialHasher } from '../store/credential-hash.js';
import type { SiteSettings } from './dataset.js';

/** Page cache of a build: the tables' B-trees being appended to stay in memory (the default is 16 MiB). */
const BUILD_CACHE_KIB = 32 * 1024;

export class GenerationBuild {
  readonly gen: number;
  readonly path: string;
  readonly writer: CacheWriter;
  readonly #db: Database.Database;

  constructor(path: string, gen: number, hasher: CredentialHasher) {
    this.gen = gen;
    this.path = path;
    // A leftover of an earlier attempt under this number is garbage.
    removeGenerationFileSync(path);
    const db = new Database(path);
    try {
      db.pragma('journal_mode = MEMORY');
      db.pragma('synchronous = OFF');
      db.pragma(`cache_size = ${-BUILD_CACHE_KIB}`);
      // Every credential and entitlement is staged right after its person
      // (CacheWriter.preparePerson): checking each against the people table
      // would be a B-tree descent per row for nothing. The daemon's
      // connection checks them for deltas.
      db.pragma('foreign_keys = OFF');
      db.exec(cacheSchemaSql('main', false));
      db.exec('BEGIN');
      this.#db = db;
      this.writer = new CacheWriter(db, hasher);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Finish the file: settings (the defaults when the data set had none),
   * the sync state it will be in force with, the indexes; commit, WAL,
   * fsync. The connection is closed afterwards.
   */
  /** Returns the rows the file holds, counted here rather than on the event loop. */
  seal(activation: Activation, defaultSettings: SiteSettings): CacheCounts {
    const db = this.#db;
    const { gen, writer } = this;
    if (!writer.hasSettings(gen)) writer.stageSettings(gen, defaultSettings);
    db.prepare(
      `INSERT INTO sync_state (id, gen, version, synced_at, applied_at, source, snapshot_id, checksum, issued_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(gen, activation.version, activation.syncedAt, activation.syncedAt, activation.source, activation.snapshotId, activation.checksum, activation.issuedAt);
    db.exec(cacheIndexSql('main'));
    const counts = db.prepare<[], CacheCounts>(CACHE_COUNTS_SQL).get() ?? { people: 0, credentials: 0, entitlements: 0 };
    db.pragma(`user_version = ${CACHE_SCHEMA_VERSION}`);
    db.exec('COMMIT');
    db.pragma('journal_mode = WAL');
    db.close();
    syncFileAndDirectory(this.path);
    return counts;
  }

  /** Give the build up: its file is garbage (removed by the daemon's collector). */
  discard(): void {
    if (this.#db.open) this.#db.close();
  }

  get open(): boolean {
    return this.#db.open;
  }
}
