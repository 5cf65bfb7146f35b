import { existsSync } from 'node:fs';
/**
 * Migration 2 rebuilds the cache tables as generations. A database written by
 * the released schema (migration 1) keeps its data, its version and every
 * reader of the old table names.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, schemaVersion } from '../../daemon/store/database.js';
import { migrations } from '../../daemon/store/migrations.js';
import { generationPath } from '../../daemon/store/cache-files.js';
import { CheckinSessions } from '../../daemon/store/sessions.js';
import { tempDir } from '../support/temp-dir.js';

const hasher = new CredentialHasher(Buffer.alloc(32, 1));

describe('migration 2 (generational cache)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('carries a version-1 cache over: people, credentials, entitlements, version, last sync, open sessions', () => {
    const path = join(dir.path, 'old.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(migrations[0] as string);
    old.pragma('user_version = 1');
    old.prepare(`INSERT INTO people (id, kind, name, status, host_id, updated_at) VALUES ('m-1', 'member', 'Ada', 'active', NULL, 1)`).run();
    old.prepare(`INSERT INTO credentials (id, person_id, kind, lookup, valid_from, valid_to, status) VALUES ('c-1', 'm-1', 'card', ?, NULL, NULL, 'active')`).run(hasher.lookupOf('card', '4614867'));
    old.prepare(`INSERT INTO entitlements (id, person_id, kind, name, valid_from, valid_to, minutes_left) VALUES ('e-1', 'm-1', 'plan', 'Desk', 0, NULL, NULL)`).run();
    old.prepare(`INSERT INTO meta (key, value) VALUES ('cache_version', '41'), ('cache_synced_at', '1700000000000')`).run();
    old.prepare(`INSERT INTO checkin_sessions (id, person_id, opened_at, source, open_event_id) VALUES ('s-1', 'm-1', 5, 'sim', 'ev-1')`).run();
    old.close();

    const db = openDatabase(path);
    try {
      expect(schemaVersion(db)).toBe(migrations.length);
      const cache = new CredentialCache(db, hasher);
      expect(cache.state()).toMatchObject({ version: 41, syncedAt: 1_700_000_000_000, source: 'migration' });
      expect(cache.isEmpty()).toBe(false);
      const [ada] = cache.candidates(hasher.lookupOf('card', '0004614867'));
      expect(ada).toMatchObject({ person: { id: 'm-1', alwaysAllowed: false }, entitlements: [{ id: 'e-1', kind: 'plan' }], openSession: { id: 's-1' } });
      expect(new CheckinSessions(db).openSessions().map((s) => s.personName)).toEqual(['Ada']);
      expect(db.prepare(`SELECT count(*) AS n FROM meta WHERE key LIKE 'cache_%'`).get()).toEqual({ n: 0 });
      expect(cache.settings()).toMatchObject({ visitorTokenMinutes: 1440, visitorTokenStart: 'first-checkin', deviceLimit: null, dailyCutoff: null });
      // Migration 10: the cache is in a generation file of its own, the main file keeps none of it.
      expect(existsSync(generationPath(path, 1))).toBe(true);
      expect(db.prepare(`SELECT name FROM main.sqlite_schema WHERE name LIKE 'cache_%' OR name IN ('sync_state', 'people', 'credentials')`).all()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('a new database starts empty, at version 0, never synced', () => {
    const db = openDatabase(join(dir.path, 'new.db'));
    try {
      const cache = new CredentialCache(db, hasher);
      expect(cache.state()).toMatchObject({ version: 0, syncedAt: null, appliedAt: null, source: null });
      expect(cache.isEmpty()).toBe(true);
      expect(cache.counts()).toEqual({ people: 0, credentials: 0, entitlements: 0 });
    } finally {
      db.close();
    }
  });
});
