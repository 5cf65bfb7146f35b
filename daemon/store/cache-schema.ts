/**
 * The schema of a cache generation file (see cache-files.ts): the cloud's
 * people, credentials, entitlements, doors, schedules and site settings,
 * the sync state of the data they hold, and the views every reader uses.
 *
 * A generation file is attached to the daemon's connection as schema
 * `cache`, and SQL names its tables unqualified: SQLite finds them there
 * once the main file has none of that name (migration 10 moved them out).
 * Views live in the file with their tables (a view cannot name another
 * schema's tables).
 *
 * The columns are the ones migrations 2, 4 and 8 gave the tables when they
 * still lived in the main file, in the same order; `gen` stays on every
 * row: an in-memory store, and CredentialCache.applySnapshot, still stage a
 * generation beside the one in force inside one file (sync_state.gen
 * names the one in force). The staging worker builds a new file per
 * generation instead.
 *
 * A generation file is rebuilt from every snapshot, so it is rarely older
 * than the code that reads it; when the schema changes anyway, append a
 * migration to CACHE_MIGRATIONS (never edit one): a file is brought up to
 * date when it is attached. `${s}` is the schema the statements create in.
 */

/** Secondary indexes: created after the rows when a file is built, with the tables otherwise. */
const indexes = (s: string): string => `
  -- A read looks up the credential by its keyed hash and the owner's
  -- entitlements by person; with every column the decision needs in the
  -- index, each is one B-tree descent and the table is never read.
  CREATE INDEX ${s}.cache_credentials_by_lookup ON cache_credentials (gen, lookup, person_id, id, kind, status, valid_from, valid_to);
  CREATE INDEX ${s}.cache_credentials_by_person ON cache_credentials (gen, person_id);
  CREATE INDEX ${s}.cache_entitlements_by_person
    ON cache_entitlements (gen, person_id, id, kind, valid_from, valid_to, minutes_left, monthly_hours, monthly_checkins, doors);
  CREATE INDEX ${s}.cache_people_by_email ON cache_people (gen, email_lookup) WHERE email_lookup IS NOT NULL;
`;

const tables = (s: string): string => `
  CREATE TABLE ${s}.sync_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    -- The generation in force within this file.
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

  CREATE TABLE ${s}.cache_people (
    gen                INTEGER NOT NULL,
    id                 TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('member', 'contact', 'visitor')),
    name               TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'archived')),
    host_id            TEXT,
    -- Site staff: keep access on stale data when the stale policy says "always-allowed-only".
    always_allowed     INTEGER NOT NULL DEFAULT 0 CHECK (always_allowed IN (0, 1)),
    expected_arrival   INTEGER,
    updated_at         INTEGER NOT NULL,
    -- The Wi-Fi sign-in email as a keyed hash (namespace "email", lowercased).
    email_lookup       BLOB,
    device_limit       INTEGER,
    network_checkin    INTEGER NOT NULL DEFAULT 1 CHECK (network_checkin IN (0, 1)),
    extended_unlock    INTEGER NOT NULL DEFAULT 0 CHECK (extended_unlock IN (0, 1)),
    lockdown_override  INTEGER NOT NULL DEFAULT 0 CHECK (lockdown_override IN (0, 1)),
    -- The cloud's usage counters for the current month, as of usage_as_of.
    usage_period_start INTEGER,
    usage_checkins     INTEGER,
    usage_minutes      INTEGER,
    usage_as_of        INTEGER,
    PRIMARY KEY (gen, id)
  ) STRICT;

  -- lookup: HMAC-SHA-256(site key, namespace + value); the value is never
  -- stored. secret: a phone's tap key, sealed under a key derived from the
  -- site key (store/ble-key-vault.ts).
  CREATE TABLE ${s}.cache_credentials (
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

  CREATE TABLE ${s}.cache_entitlements (
    gen              INTEGER NOT NULL,
    id               TEXT NOT NULL,
    person_id        TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('plan', 'day_pass', 'time_pass', 'visitor_token')),
    name             TEXT NOT NULL,
    valid_from       INTEGER,
    valid_to         INTEGER,
    minutes_left     INTEGER,
    monthly_hours    INTEGER,
    monthly_checkins INTEGER,
    -- JSON array of door ids the entitlement opens; NULL = every door of the site.
    doors            TEXT,
    PRIMARY KEY (gen, id),
    FOREIGN KEY (gen, person_id) REFERENCES cache_people (gen, id) ON DELETE CASCADE
  ) STRICT;

  CREATE TABLE ${s}.cache_settings (
    gen                   INTEGER PRIMARY KEY,
    visitor_token_minutes INTEGER NOT NULL,
    visitor_token_start   TEXT NOT NULL CHECK (visitor_token_start IN ('first-checkin', 'expected-arrival')),
    device_limit          INTEGER,
    daily_cutoff          TEXT,
    wifi_idle_minutes     INTEGER NOT NULL DEFAULT 15,
    -- JSON array of {date: "YYYY-MM-DD", name}.
    holidays              TEXT NOT NULL DEFAULT '[]',
    kiosk_registration    TEXT NOT NULL DEFAULT 'register-and-checkin'
      CHECK (kiosk_registration IN ('off', 'register', 'register-and-checkin'))
  ) STRICT;

  -- The cloud's door and schedule records; the YAML config stays the source of truth for hardware.
  CREATE TABLE ${s}.cache_doors (
    gen         INTEGER NOT NULL,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    schedule_id TEXT,
    PRIMARY KEY (gen, id)
  ) STRICT;

  CREATE TABLE ${s}.cache_schedules (
    gen    INTEGER NOT NULL,
    id     TEXT NOT NULL,
    name   TEXT NOT NULL,
    weekly TEXT NOT NULL,
    PRIMARY KEY (gen, id)
  ) STRICT;

  -- The generation in force, for every reader.
  CREATE VIEW ${s}.people AS
    SELECT p.id, p.kind, p.name, p.status, p.host_id, p.always_allowed, p.expected_arrival, p.updated_at,
           p.email_lookup, p.device_limit, p.network_checkin, p.extended_unlock, p.lockdown_override,
           p.usage_period_start, p.usage_checkins, p.usage_minutes, p.usage_as_of
    FROM cache_people p JOIN sync_state s ON s.id = 1 AND p.gen = s.gen;
  CREATE VIEW ${s}.credentials AS
    SELECT c.id, c.person_id, c.kind, c.lookup, c.valid_from, c.valid_to, c.status
    FROM cache_credentials c JOIN sync_state s ON s.id = 1 AND c.gen = s.gen;
  CREATE VIEW ${s}.entitlements AS
    SELECT e.id, e.person_id, e.kind, e.name, e.valid_from, e.valid_to, e.minutes_left, e.monthly_hours,
           e.monthly_checkins, e.doors
    FROM cache_entitlements e JOIN sync_state s ON s.id = 1 AND e.gen = s.gen;
  CREATE VIEW ${s}.site_settings AS
    SELECT t.visitor_token_minutes, t.visitor_token_start, t.device_limit, t.daily_cutoff,
           t.wifi_idle_minutes, t.holidays, t.kiosk_registration
    FROM cache_settings t JOIN sync_state s ON s.id = 1 AND t.gen = s.gen;
  CREATE VIEW ${s}.synced_doors AS
    SELECT d.id, d.name, d.schedule_id FROM cache_doors d JOIN sync_state s ON s.id = 1 AND d.gen = s.gen;
  CREATE VIEW ${s}.synced_schedules AS
    SELECT h.id, h.name, h.weekly FROM cache_schedules h JOIN sync_state s ON s.id = 1 AND h.gen = s.gen;
`;

/** Appended schema changes of a generation file, each run on files below its version. None yet. */
const CACHE_MIGRATIONS: readonly ((s: string) => string)[] = [];

/** The generation file schema version this code reads and writes (its PRAGMA user_version). */
export const CACHE_SCHEMA_VERSION = 1 + CACHE_MIGRATIONS.length;

/** The tables a generation's rows are in, children before parents (the order its rows can be deleted in). */
export const GENERATION_TABLES = ['cache_entitlements', 'cache_credentials', 'cache_people', 'cache_settings', 'cache_doors', 'cache_schedules'] as const;

/**
 * Tables and views of a fresh generation file in schema `s`, at the current
 * version; its secondary indexes too unless `withIndexes` is false (a file
 * being built gets them once its rows are in: one sort instead of a random
 * page per row). The caller sets user_version.
 */
export function cacheSchemaSql(s: string, withIndexes: boolean): string {
  let sql = tables(s) + (withIndexes ? indexes(s) : '');
  for (const migration of CACHE_MIGRATIONS) sql += migration(s);
  return sql;
}

/** The secondary indexes of schema `s`, for a file built without them. */
export function cacheIndexSql(s: string): string {
  return indexes(s);
}

/** The migrations that bring a file at `version` up to CACHE_SCHEMA_VERSION, in schema `s`. */
export function cacheMigrationsFrom(version: number, s: string): string[] {
  return CACHE_MIGRATIONS.slice(Math.max(0, version - 1)).map((m) => m(s));
}

/** Rows of the generation in force, as status and metrics report them. */
export interface CacheCounts {
  readonly people: number;
  readonly credentials: number;
  readonly entitlements: number;
}

/**
 * Counts the generation in force's rows, through the smallest index of each
 * table that starts with gen: on the daemon's connection (tables of the
 * attached cache) and on the connection building a generation file alike.
 * About 14 ms at 100,000 people.
 */
export const CACHE_COUNTS_SQL = `SELECT (SELECT count(*) FROM cache_people WHERE gen = st.gen) AS people,
       (SELECT count(*) FROM cache_credentials WHERE gen = st.gen) AS credentials,
       (SELECT count(*) FROM cache_entitlements WHERE gen = st.gen) AS entitlements
  FROM sync_state st WHERE st.id = 1`;
