/**
 * Versioned schema migrations. Each entry moves the database from version
 * index to index + 1 inside one transaction; PRAGMA user_version records where
 * a file stands. Never edit a released migration: append a new one.
 *
 * Credential values are never stored: `lookup` is HMAC-SHA-256(site key,
 * namespace + value), computed by store/credential-hash.ts.
 */
export const migrations: readonly string[] = [
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
  -- Members of the always-allowed group (site staff) keep access when the
  -- cache is stale and the stale policy says "always-allowed-only".
  ALTER TABLE people ADD COLUMN always_allowed INTEGER NOT NULL DEFAULT 0;
  `,
  /* 3: cloud link: remote commands and application-level event acks (unreleased, may still change) */ `
  CREATE TABLE cloud_commands (
    cmd_id      TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT
  ) STRICT;
  -- Set when the cloud confirms it stored the event (application-level ack).
  ALTER TABLE journal ADD COLUMN acked_at INTEGER;
  `,
];
