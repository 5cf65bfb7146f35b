/**
 * Versioned schema migrations of the main file. Each entry moves the
 * database from version index to index + 1 inside one transaction; PRAGMA
 * user_version records where a file stands. Never edit a released
 * migration: append a new one. An entry with a `before` step runs it first,
 * outside the transaction (it may create files; it must be safe to run
 * again if the process dies before the transaction commits).
 *
 * Credential values are never stored: `lookup` is HMAC-SHA-256(site key,
 * namespace + value), computed by store/credential-hash.ts.
 *
 * Since migration 10 the cache tables live in generation files of their own
 * (cache-files.ts, cache-schema.ts); migrations 2, 4 and 8 still create them
 * here first, for a file that is upgraded from an older release.
 */
import { moveCacheOutOfMain } from './cache-files.js';
import type { Db } from './database.js';

export type Migration = string | { readonly before: (db: Db) => void; readonly sql: string };

export const migrations: readonly Migration[] = [
  /* 1: the offline cache, check-in sessions and the event journal */ `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE people (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('member', 'contact', 'visitor')),
    name       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived')),
    host_id    TEXT,
    updated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE credentials (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('card', 'pin', 'visitor_code')),
    lookup     BLOB NOT NULL,
    valid_from INTEGER,
    valid_to   INTEGER,
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked'))
  ) STRICT;
  CREATE INDEX credentials_by_lookup ON credentials (lookup);
  CREATE INDEX credentials_by_person ON credentials (person_id);

  CREATE TABLE entitlements (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('plan', 'day_pass', 'time_pass', 'visitor_token')),
    name         TEXT NOT NULL,
    valid_from   INTEGER,
    valid_to     INTEGER,
    minutes_left INTEGER
  ) STRICT;
  CREATE INDEX entitlements_by_person ON entitlements (person_id);

  CREATE TABLE doors (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    mode        TEXT NOT NULL DEFAULT 'normal' CHECK (mode IN ('normal', 'locked-down', 'unlocked')),
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE readers (
    id       TEXT PRIMARY KEY,
    door_id  TEXT REFERENCES doors (id) ON DELETE SET NULL,
    mode     TEXT NOT NULL CHECK (mode IN ('entry', 'exit', 'toggle', 'access-only')),
    driver   TEXT NOT NULL
  ) STRICT;

  CREATE TABLE checkin_sessions (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL,
    opened_at       INTEGER NOT NULL,
    closed_at       INTEGER,
    source          TEXT NOT NULL,
    reader_id       TEXT,
    door_id         TEXT,
    open_event_id   TEXT NOT NULL,
    close_event_id  TEXT
  ) STRICT;
  -- A person has at most one open session; the index also serves "who is in".
  CREATE UNIQUE INDEX checkin_sessions_open ON checkin_sessions (person_id) WHERE closed_at IS NULL;

  -- The journal is the outbox: a row is written before it is published and
  -- published_at is set only on the broker's PUBACK. seq is the per-gateway
  -- sequence number (AUTOINCREMENT: never reused, even after pruning).
  CREATE TABLE journal (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    boot_id       TEXT NOT NULL,
    type          TEXT NOT NULL,
    topic         TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    published_at  INTEGER
  ) STRICT;
  CREATE INDEX journal_pending ON journal (seq) WHERE published_at IS NULL;
  `,
  /* 2: sync (owned by the cloud-sync work; unreleased, may still change) */ `
  -- The cache becomes generational so a snapshot can be staged beside the data
  -- in force and swapped in by changing one number. Every cache row carries
  -- the generation (gen) it belongs to; sync_state.gen names the generation
  -- decisions use. Rows of any other generation are a snapshot being staged or
  -- the leftovers of a swapped-out or abandoned one, and are deleted in the
  -- background. A crash before the swap therefore leaves the old data in force.
  CREATE TABLE sync_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    gen          INTEGER NOT NULL,
    -- Cloud data version of the generation in force; 0 before the first sync.
    version      INTEGER NOT NULL,
    -- Epoch ms of the last successful sync (snapshot, delta or import); NULL = never.
    synced_at    INTEGER,
    -- Epoch ms of the last change to the generation in force; NULL = never populated.
    applied_at   INTEGER,
    source       TEXT CHECK (source IN ('mqtt', 'import', 'seed', 'migration')),
    snapshot_id  TEXT,
    checksum     TEXT,
    issued_at    INTEGER
  ) STRICT;
  INSERT INTO sync_state (id, gen, version, synced_at, applied_at, source)
  SELECT 1, 1,
         coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'cache_version'), 0),
         (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'cache_synced_at'),
         (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'cache_synced_at'),
         CASE WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'cache_version') THEN 'migration' END;
  DELETE FROM meta WHERE key IN ('cache_version', 'cache_synced_at');

  CREATE TABLE cache_people (
    gen              INTEGER NOT NULL,
    id               TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('member', 'contact', 'visitor')),
    name             TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived')),
    host_id          TEXT,
    -- Members of the always-allowed group (site staff) keep access when the
    -- cache is stale and the stale policy says "always-allowed-only".
    always_allowed   INTEGER NOT NULL DEFAULT 0 CHECK (always_allowed IN (0, 1)),
    expected_arrival INTEGER,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (gen, id)
  ) STRICT;

  CREATE TABLE cache_credentials (
    gen        INTEGER NOT NULL,
    id         TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('card', 'pin', 'visitor_code')),
    lookup     BLOB NOT NULL,
    valid_from INTEGER,
    valid_to   INTEGER,
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    PRIMARY KEY (gen, id),
    FOREIGN KEY (gen, person_id) REFERENCES cache_people (gen, id) ON DELETE CASCADE
  ) STRICT;
  CREATE INDEX cache_credentials_by_lookup ON cache_credentials (gen, lookup);
  CREATE INDEX cache_credentials_by_person ON cache_credentials (gen, person_id);

  CREATE TABLE cache_entitlements (
    gen           INTEGER NOT NULL,
    id            TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('plan', 'day_pass', 'time_pass', 'visitor_token')),
    name          TEXT NOT NULL,
    valid_from    INTEGER,
    valid_to      INTEGER,
    minutes_left  INTEGER,
    monthly_hours INTEGER,
    PRIMARY KEY (gen, id),
    FOREIGN KEY (gen, person_id) REFERENCES cache_people (gen, id) ON DELETE CASCADE
  ) STRICT;
  CREATE INDEX cache_entitlements_by_person ON cache_entitlements (gen, person_id);

  CREATE TABLE cache_settings (
    gen                   INTEGER PRIMARY KEY,
    visitor_token_minutes INTEGER NOT NULL,
    visitor_token_start   TEXT NOT NULL CHECK (visitor_token_start IN ('first-checkin', 'expected-arrival')),
    device_limit          INTEGER,
    daily_cutoff          TEXT
  ) STRICT;

  -- The cloud's door and schedule records. Stored for the policies that will
  -- use them; the YAML config stays the source of truth for hardware.
  CREATE TABLE cache_doors (
    gen         INTEGER NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    schedule_id TEXT,
    PRIMARY KEY (gen, id)
  ) STRICT;

  CREATE TABLE cache_schedules (
    gen    INTEGER NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    weekly TEXT NOT NULL,
    PRIMARY KEY (gen, id)
  ) STRICT;

  INSERT INTO cache_people (gen, id, kind, name, status, host_id, updated_at)
    SELECT 1, id, kind, name, status, host_id, updated_at FROM people;
  INSERT INTO cache_credentials (gen, id, person_id, kind, lookup, valid_from, valid_to, status)
    SELECT 1, id, person_id, kind, lookup, valid_from, valid_to, status FROM credentials;
  INSERT INTO cache_entitlements (gen, id, person_id, kind, name, valid_from, valid_to, minutes_left)
    SELECT 1, id, person_id, kind, name, valid_from, valid_to, minutes_left FROM entitlements;
  INSERT INTO cache_settings (gen, visitor_token_minutes, visitor_token_start) VALUES (1, 1440, 'first-checkin');
  -- Children first: dropping people while they exist would cascade into them.
  DROP TABLE entitlements;
  DROP TABLE credentials;
  DROP TABLE people;

  -- The generation in force, under the old names, for every reader.
  CREATE VIEW people AS
    SELECT p.id, p.kind, p.name, p.status, p.host_id, p.always_allowed, p.expected_arrival, p.updated_at
    FROM cache_people p JOIN sync_state s ON s.id = 1 AND p.gen = s.gen;
  CREATE VIEW credentials AS
    SELECT c.id, c.person_id, c.kind, c.lookup, c.valid_from, c.valid_to, c.status
    FROM cache_credentials c JOIN sync_state s ON s.id = 1 AND c.gen = s.gen;
  CREATE VIEW entitlements AS
    SELECT e.id, e.person_id, e.kind, e.name, e.valid_from, e.valid_to, e.minutes_left, e.monthly_hours
    FROM cache_entitlements e JOIN sync_state s ON s.id = 1 AND e.gen = s.gen;
  CREATE VIEW site_settings AS
    SELECT t.visitor_token_minutes, t.visitor_token_start, t.device_limit, t.daily_cutoff
    FROM cache_settings t JOIN sync_state s ON s.id = 1 AND t.gen = s.gen;
  CREATE VIEW synced_doors AS
    SELECT d.id, d.name, d.schedule_id FROM cache_doors d JOIN sync_state s ON s.id = 1 AND d.gen = s.gen;
  CREATE VIEW synced_schedules AS
    SELECT h.id, h.name, h.weekly FROM cache_schedules h JOIN sync_state s ON s.id = 1 AND h.gen = s.gen;
  `,
  /* 3: cloud link: remote commands and application-level event acks (unreleased, may still change) */ `
  -- One row per verified command addressed to this gateway, written before
  -- its effect (at most once: a second command with the same cmd_id finds the
  -- row). Kept until expires_at plus the clock-skew allowance, after which a
  -- replay is rejected as expired anyway.
  CREATE TABLE cloud_commands (
    cmd_id      TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('accepted', 'done', 'rejected')),
    reason      TEXT,
    event_id    TEXT
  ) STRICT;
  CREATE INDEX cloud_commands_by_expiry ON cloud_commands (expires_at);
  -- Set when the cloud confirms it stored the event (application-level ack).
  ALTER TABLE journal ADD COLUMN acked_at INTEGER;
  -- With a cloud section, delivery completes with acked_at instead of published_at.
  CREATE INDEX journal_unacked ON journal (seq) WHERE acked_at IS NULL;
  `,
  /* 4: policy facts: Wi-Fi identity, plan limits, accessibility, local first-use and areas */ `
  -- The email a person signs in to the Wi-Fi with, as a keyed hash like every
  -- credential (namespace "email", lowercased): enough to match, never readable.
  ALTER TABLE cache_people ADD COLUMN email_lookup BLOB;
  ALTER TABLE cache_people ADD COLUMN device_limit INTEGER;
  ALTER TABLE cache_people ADD COLUMN network_checkin INTEGER NOT NULL DEFAULT 1 CHECK (network_checkin IN (0, 1));
  ALTER TABLE cache_people ADD COLUMN extended_unlock INTEGER NOT NULL DEFAULT 0 CHECK (extended_unlock IN (0, 1));
  ALTER TABLE cache_people ADD COLUMN lockdown_override INTEGER NOT NULL DEFAULT 0 CHECK (lockdown_override IN (0, 1));
  -- The cloud's usage counters for the current month, as of usage_as_of.
  ALTER TABLE cache_people ADD COLUMN usage_period_start INTEGER;
  ALTER TABLE cache_people ADD COLUMN usage_checkins INTEGER;
  ALTER TABLE cache_people ADD COLUMN usage_minutes INTEGER;
  ALTER TABLE cache_people ADD COLUMN usage_as_of INTEGER;
  CREATE INDEX cache_people_by_email ON cache_people (gen, email_lookup) WHERE email_lookup IS NOT NULL;

  ALTER TABLE cache_entitlements ADD COLUMN monthly_checkins INTEGER;
  -- JSON array of door ids the entitlement opens; NULL = every door of the site.
  ALTER TABLE cache_entitlements ADD COLUMN doors TEXT;

  ALTER TABLE cache_settings ADD COLUMN wifi_idle_minutes INTEGER NOT NULL DEFAULT 15;
  -- JSON array of {date: "YYYY-MM-DD", name}.
  ALTER TABLE cache_settings ADD COLUMN holidays TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE cache_settings ADD COLUMN kiosk_registration TEXT NOT NULL DEFAULT 'register-and-checkin'
    CHECK (kiosk_registration IN ('off', 'register', 'register-and-checkin'));

  DROP VIEW people;
  CREATE VIEW people AS
    SELECT p.id, p.kind, p.name, p.status, p.host_id, p.always_allowed, p.expected_arrival, p.updated_at,
           p.email_lookup, p.device_limit, p.network_checkin, p.extended_unlock, p.lockdown_override,
           p.usage_period_start, p.usage_checkins, p.usage_minutes, p.usage_as_of
    FROM cache_people p JOIN sync_state s ON s.id = 1 AND p.gen = s.gen;
  DROP VIEW entitlements;
  CREATE VIEW entitlements AS
    SELECT e.id, e.person_id, e.kind, e.name, e.valid_from, e.valid_to, e.minutes_left, e.monthly_hours,
           e.monthly_checkins, e.doors
    FROM cache_entitlements e JOIN sync_state s ON s.id = 1 AND e.gen = s.gen;
  DROP VIEW site_settings;
  CREATE VIEW site_settings AS
    SELECT t.visitor_token_minutes, t.visitor_token_start, t.device_limit, t.daily_cutoff,
           t.wifi_idle_minutes, t.holidays, t.kiosk_registration
    FROM cache_settings t JOIN sync_state s ON s.id = 1 AND t.gen = s.gen;

  -- Local facts that outlive any generation (the cloud learns them from events):
  -- when a visitor token started (first check-in policy) and on which day a
  -- day pass was first used. Keyed by entitlement id.
  CREATE TABLE entitlement_starts (
    entitlement_id TEXT PRIMARY KEY,
    person_id      TEXT NOT NULL,
    started_at     INTEGER NOT NULL,
    event_id       TEXT NOT NULL
  ) STRICT;

  -- Which entitlement a check-in was granted on (time passes consume minutes
  -- from it) and which area the session is in (occupancy).
  ALTER TABLE checkin_sessions ADD COLUMN entitlement_id TEXT;
  ALTER TABLE checkin_sessions ADD COLUMN area TEXT;
  ALTER TABLE checkin_sessions ADD COLUMN close_reason TEXT;
  CREATE INDEX checkin_sessions_by_person_time ON checkin_sessions (person_id, opened_at);

  -- Anti-passback: where each person was last seen going, per area.
  -- Room for phone credentials (BLE work): a static beacon id is hashed like
  -- a card; a phone's rolling-token key is the one value that must be usable,
  -- not only comparable, so it is kept encrypted under a key derived from the
  -- site key (secret), never in plaintext. SQLite cannot change a CHECK in
  -- place: the table is rebuilt.
  DROP VIEW credentials;
  CREATE TABLE cache_credentials_v4 (
    gen        INTEGER NOT NULL,
    id         TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('card', 'pin', 'visitor_code', 'ble_beacon', 'ble_key')),
    lookup     BLOB NOT NULL,
    valid_from INTEGER,
    valid_to   INTEGER,
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    secret     BLOB,
    PRIMARY KEY (gen, id),
    FOREIGN KEY (gen, person_id) REFERENCES cache_people (gen, id) ON DELETE CASCADE
  ) STRICT;
  INSERT INTO cache_credentials_v4 (gen, id, person_id, kind, lookup, valid_from, valid_to, status)
    SELECT gen, id, person_id, kind, lookup, valid_from, valid_to, status FROM cache_credentials;
  DROP TABLE cache_credentials;
  ALTER TABLE cache_credentials_v4 RENAME TO cache_credentials;
  CREATE INDEX cache_credentials_by_lookup ON cache_credentials (gen, lookup);
  CREATE INDEX cache_credentials_by_person ON cache_credentials (gen, person_id);
  CREATE VIEW credentials AS
    SELECT c.id, c.person_id, c.kind, c.lookup, c.valid_from, c.valid_to, c.status
    FROM cache_credentials c JOIN sync_state s ON s.id = 1 AND c.gen = s.gen;

  CREATE TABLE area_presence (
    person_id  TEXT NOT NULL,
    area       TEXT NOT NULL,
    inside     INTEGER NOT NULL CHECK (inside IN (0, 1)),
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (person_id, area)
  ) STRICT;
  `,
  /* BLE tap tokens: the highest time-step counter accepted per person. A
     token is valid for about 90 s; kept on disk so that a restart inside that
     window cannot make a recorded token acceptable again. */ `
  CREATE TABLE ble_tap_counters (
    person_id   TEXT PRIMARY KEY,
    counter     INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL
  ) STRICT;
  `,
  /* kiosk: paired tablets and visitors registered on the spot */ `
  -- A paired kiosk is known by the SHA-256 of its bearer token; the token
  -- itself is only ever in the tablet's storage.
  CREATE TABLE kiosks (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER,
    revoked_at   INTEGER
  ) STRICT;

  -- Visitors registered at a kiosk. Not part of any generation, so a sync
  -- never removes them; the cloud learns of them from the registration event.
  -- The email is kept only as its keyed hash (repeat visits, matching).
  CREATE TABLE kiosk_visitors (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    email_lookup  BLOB NOT NULL,
    host_id       TEXT NOT NULL,
    kiosk_id      TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    valid_to      INTEGER NOT NULL,
    event_id      TEXT NOT NULL
  ) STRICT;
  CREATE INDEX kiosk_visitors_by_email ON kiosk_visitors (email_lookup, registered_at);
  `,
  /* Wi-Fi devices: one row per device session reported by RADIUS accounting */ `
  -- A device (MAC) of a person connected through a Wi-Fi controller (nas =
  -- the RADIUS client name), from Accounting-Start to Stop. Open rows count
  -- towards the person's device limit; last_activity_at is the wall time of
  -- the last accounting packet (the inactivity check-out itself runs on the
  -- monotonic clock, in memory).
  CREATE TABLE wifi_devices (
    id               TEXT PRIMARY KEY,
    person_id        TEXT NOT NULL,
    mac              TEXT NOT NULL,
    nas              TEXT NOT NULL,
    acct_session_id  TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    stopped_at       INTEGER,
    stop_reason      TEXT
  ) STRICT;
  CREATE UNIQUE INDEX wifi_devices_open_session ON wifi_devices (nas, acct_session_id) WHERE stopped_at IS NULL;
  CREATE INDEX wifi_devices_open_by_person ON wifi_devices (person_id, mac) WHERE stopped_at IS NULL;
  `,
  /* Indexes for the decision path */ `
  -- A read looks up the credential by its keyed hash and the owner's
  -- entitlements by person. With every column the decision needs in the
  -- index itself, each is one B-tree descent instead of an index descent
  -- plus a table descent per row: fewer pages touched per read, which is
  -- what a read costs once the cache no longer fits in memory.
  DROP INDEX cache_credentials_by_lookup;
  CREATE INDEX cache_credentials_by_lookup ON cache_credentials (gen, lookup, person_id, id, kind, status, valid_from, valid_to);
  DROP INDEX cache_entitlements_by_person;
  CREATE INDEX cache_entitlements_by_person
    ON cache_entitlements (gen, person_id, id, kind, valid_from, valid_to, minutes_left, monthly_hours, monthly_checkins, doors);
  -- The open session of a person, with the columns a read needs (the unique
  -- index above it stays: it is what keeps one open session per person).
  CREATE INDEX checkin_sessions_open_cover ON checkin_sessions (person_id, id, opened_at) WHERE closed_at IS NULL;
  -- Plan usage this month and the minutes a time pass used since its last
  -- sync sum the sessions that end after an instant (open ones end "never").
  -- Keyed by that end, a read visits only those, however long the person's
  -- history; without the second, every read of a time-pass holder scanned
  -- the whole session table.
  CREATE INDEX checkin_sessions_by_person_end ON checkin_sessions (person_id, coalesce(closed_at, 9007199254740991));
  CREATE INDEX checkin_sessions_by_entitlement_end ON checkin_sessions (entitlement_id, coalesce(closed_at, 9007199254740991))
    WHERE entitlement_id IS NOT NULL;
  `,
  /* Session indexes that answer the decision path on their own */ `
  -- SQLite reads a row of the table for every session an index of migration
  -- 8 finds: the sums need opened_at and closed_at, and a partial index does
  -- not cover the closed_at of its own WHERE. That was a random page of the
  -- widest table per session summed and per open session, most of the page
  -- cache misses of a read at 100k people (2.0 -> 1.4 reads a decision).
  -- With both columns in the index the table is never read. Same names, so
  -- the statements that name them keep them.
  DROP INDEX checkin_sessions_open_cover;
  CREATE INDEX checkin_sessions_open_cover ON checkin_sessions (person_id, id, opened_at, closed_at) WHERE closed_at IS NULL;
  DROP INDEX checkin_sessions_by_person_end;
  CREATE INDEX checkin_sessions_by_person_end ON checkin_sessions (person_id, coalesce(closed_at, 9007199254740991), opened_at, closed_at);
  DROP INDEX checkin_sessions_by_entitlement_end;
  CREATE INDEX checkin_sessions_by_entitlement_end ON checkin_sessions (entitlement_id, coalesce(closed_at, 9007199254740991), opened_at, closed_at)
    WHERE entitlement_id IS NOT NULL;
  `,
  {
    /* 10: the cache moves to generation files of its own (cache-files.ts) */
    before: moveCacheOutOfMain,
    sql: `
  -- The generation in force was copied into its own file (and attached as
  -- "cache") by the step before this one; the main file names that file and
  -- drops its own copy. Staged or abandoned generations go with the tables.
  INSERT INTO main.meta (key, value) SELECT 'generation_in_force', CAST(gen AS TEXT) FROM main.sync_state WHERE id = 1
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
  DROP VIEW main.people;
  DROP VIEW main.credentials;
  DROP VIEW main.entitlements;
  DROP VIEW main.site_settings;
  DROP VIEW main.synced_doors;
  DROP VIEW main.synced_schedules;
  -- Children first: dropping a parent while they exist would cascade into them.
  DROP TABLE main.cache_entitlements;
  DROP TABLE main.cache_credentials;
  DROP TABLE main.cache_people;
  DROP TABLE main.cache_settings;
  DROP TABLE main.cache_doors;
  DROP TABLE main.cache_schedules;
  DROP TABLE main.sync_state;
  `,
  },
];
