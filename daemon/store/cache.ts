/**
 * The offline cache as the access path reads it: people, credentials and
 * entitlements of the generation in force (the attached generation file,
 * cache-files.ts, and within it sync_state.gen), and the sync facts
 * (version, last successful sync) every decision is stamped with.
 *
 * Writes live in cache-writer.ts. applySnapshot here is the one-transaction
 * form for small data sets; the sync engine has large snapshots built in a
 * file of their own by the staging worker and swaps the file in.
 */
import { isCacheAttached } from './cache-files.js';
import { CACHE_COUNTS_SQL, type CacheCounts } from './cache-schema.js';
import { StoreError, type Db } from './database.js';
import type { CredentialHasher } from './credential-hash.js';
import { BleKeyVault } from './ble-key-vault.js';
import { CacheWriter, newStageCounts, type RejectedCredential, type SyncSource } from './cache-writer.js';
import type { DeltaOp } from '../sync/messages.js';
import type { Dataset, SiteSettings } from '../sync/dataset.js';
import type {
  Candidate,
  CredentialKind,
  EntitlementFacts,
  EntitlementKind,
  PersonKind,
  PersonStatus,
  UsageFacts,
} from '../engine/types.js';

export interface SnapshotResult {
  readonly version: number;
  readonly people: number;
  readonly credentials: number;
  readonly entitlements: number;
  /** Credentials skipped because their value is malformed (by id; never the value). */
  readonly rejectedCredentials: readonly RejectedCredential[];
}

/** sync_state: what is in force and since when. */
export interface CacheState {
  readonly gen: number;
  /** Cloud data version; 0 before the first sync. */
  readonly version: number;
  /** Epoch ms of the last successful sync, or null. */
  readonly syncedAt: number | null;
  /** Epoch ms of the last change to the data in force, or null when never populated. */
  readonly appliedAt: number | null;
  readonly source: SyncSource | 'migration' | null;
  readonly snapshotId: string | null;
  readonly checksum: string | null;
  /** The cloud's issuedAt of the last snapshot, epoch ms. */
  readonly issuedAt: number | null;
}

/**
 * The sync facts a decision is stamped with (version and last sync in the
 * event, staleness for the engine) and those the site rules are keyed by
 * (generation, last change): read by the statement that reads the
 * candidates, so they are those of the data decided on.
 */
export type CacheStamp = Pick<CacheState, 'gen' | 'version' | 'syncedAt' | 'appliedAt'>;

/** One read of the cache for a credential: what matched, and the state of the data it matched in. */
export interface CandidateRead {
  readonly candidates: Candidate[];
  /** Null when nothing matched (no row to carry it): read state() in the same turn. */
  readonly state: CacheStamp | null;
}

/** What the facts of a candidate depend on besides the credential: the instant, the month and the reader's area. */
export interface CandidateContext {
  readonly at: number;
  /** Epoch ms of the start of the current calendar month at the site. */
  readonly monthStart: number;
  /** Anti-passback area of the reader, or null. */
  readonly area: string | null;
}

/** Two or more people share one keypad code or card (ids only, never the value). */
export interface CredentialConflict {
  readonly namespace: 'card' | 'code';
  /** First 8 hex digits of the keyed hash, as in events. */
  readonly fingerprint: string;
  readonly personIds: readonly string[];
  readonly credentialIds: readonly string[];
}

/**
 * One row of the candidates statement, as a raw array (no object per row:
 * this is the path from card to door). One row per credential matching the
 * lookup and per entitlement of its owner (entitlement columns null when the
 * person has none). The order is the SELECT's, named by Col below.
 *
 * Every column costs the read about 0.13 µs whatever it holds (better-sqlite3
 * sets each value on the row array through the V8 API), as much as an index
 * descent on a cached page: so the statement returns what the engine needs
 * and no more. The person's four flags come as one bit set, and the local
 * usage sums come already added to the cloud's counters and turned into
 * minutes, instead of the columns they are computed from.
 */
type CandidateRow = [
  personId: string,
  personKind: PersonKind,
  personStatus: PersonStatus,
  /** PersonFlag bits. */
  personFlags: number,
  expectedArrival: number | null,
  credentialId: string,
  credentialKind: CredentialKind,
  credentialStatus: 'active' | 'revoked',
  credentialValidFrom: number | null,
  credentialValidTo: number | null,
  sessionId: string | null,
  sessionOpenedAt: number | null,
  entitlementId: string | null,
  entitlementKind: EntitlementKind | null,
  entitlementValidFrom: number | null,
  entitlementValidTo: number | null,
  /** A time pass's minutes left as of its last sync, less the minutes checked in on it since; null unless it is one. */
  minutesLeft: number | null,
  monthlyHours: number | null,
  monthlyCheckins: number | null,
  doors: string | null,
  /** Null unless a day pass or visitor token that was started. */
  startedAt: number | null,
  /** Check-ins and checked-in minutes this month (cloud counters plus local sessions); null unless the entitlement has a monthly limit. */
  usedCheckins: number | null,
  usedMinutes: number | null,
  /** The person's presence in the reader's area: changed_at * 2 + inside; null without an area or a row. */
  presence: number | null,
  /** sync_state of the generation read (the same on every row). */
  gen: number,
  version: number,
  syncedAt: number | null,
  appliedAt: number | null,
];

/** Column positions in CandidateRow. */
const Col = {
  PersonId: 0,
  PersonKind: 1,
  PersonStatus: 2,
  PersonFlags: 3,
  ExpectedArrival: 4,
  CredentialId: 5,
  CredentialKind: 6,
  CredentialStatus: 7,
  CredentialValidFrom: 8,
  CredentialValidTo: 9,
  SessionId: 10,
  SessionOpenedAt: 11,
  EntitlementId: 12,
  EntitlementKind: 13,
  EntitlementValidFrom: 14,
  EntitlementValidTo: 15,
  MinutesLeft: 16,
  MonthlyHours: 17,
  MonthlyCheckins: 18,
  Doors: 19,
  StartedAt: 20,
  UsedCheckins: 21,
  UsedMinutes: 22,
  Presence: 23,
  Gen: 24,
  Version: 25,
  SyncedAt: 26,
  AppliedAt: 27,
} as const;

/** Bits of CandidateRow.personFlags (the columns are 0 or 1, by CHECK). */
const PersonFlag = { AlwaysAllowed: 1, ExtendedUnlock: 2, LockdownOverride: 4, NetworkCheckin: 8 } as const;
const PERSON_FLAGS = 'p.always_allowed + 2 * p.extended_unlock + 4 * p.lockdown_override + 8 * p.network_checkin';

/*
 * Local usage, in SQL, for the candidates statement. A plan's monthly
 * limits count the cloud's counters while they are for this month, plus
 * check-ins opened since the instant they were computed; without current
 * counters, everything since the start of the month. A time pass's
 * minutesLeft is as of the last sync of its holder; time checked in on it
 * since is consumed locally, in started minutes. Open sessions count up to
 * now. The sums are whole ms and never negative, so integer division is
 * floor and (ms + 59999) / 60000 is ceil.
 */
const LIMITED = '(e.monthly_hours IS NOT NULL OR e.monthly_checkins IS NOT NULL)';
const CLOUD_COUNTS = 'p.usage_period_start >= k.month_start AND p.usage_as_of IS NOT NULL';
const USAGE_SINCE = `CASE WHEN ${CLOUD_COUNTS} THEN max(k.month_start, p.usage_as_of) ELSE k.month_start END`;
const PASS_SINCE = 'coalesce(p.usage_as_of, p.updated_at)';
/**
 * Sessions of `owner` that overlap [since, at). The end of an open session
 * is written exactly as in the indexes of migrations 8 and 9, so SQLite visits only
 * the sessions ending after `since`.
 */
const SESSIONS_SINCE = (owner: string, since: string): string =>
  `checkin_sessions WHERE ${owner} AND coalesce(closed_at, 9007199254740991) > (${since}) AND opened_at < k.at`;
// CAST: better-sqlite3 binds a JavaScript number as a REAL, so the sum is one
// too, and the divisions into minutes below must be integer divisions.
const CHECKED_IN_MS = (since: string): string => `CAST(coalesce(sum(max(0, min(coalesce(closed_at, k.at), k.at) - max(opened_at, (${since})))), 0) AS INTEGER)`;

/**
 * When a pass was first used here: only day passes and visitor tokens have
 * a first use (engine/entitlements.ts reads startedAt for nothing else), so
 * plans and time passes, most rows, skip the lookup. A subquery under CASE
 * rather than a LEFT JOIN: SQLite seeks a joined table's index before it
 * tests an ON term on the outer row, so a kind test there saves nothing.
 */
const STARTED_AT = `CASE WHEN e.kind IN ('day_pass', 'visitor_token') THEN (SELECT started_at FROM entitlement_starts WHERE entitlement_id = e.id) END`;

const parseHolidays = (json: string): SiteSettings['holidays'] => {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) return [];
  return value.flatMap((h: unknown) =>
    typeof h === 'object' && h !== null && 'date' in h && typeof h.date === 'string'
      ? [{ date: h.date, name: 'name' in h && typeof h.name === 'string' ? h.name : '' }]
      : [],
  );
};

const parseDoors = (json: string | null): readonly string[] | null => {
  if (json === null) return null;
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((d): d is string => typeof d === 'string') : null;
};

/** A person without a monthly limit: nothing counted (shared, never mutated). */
const NO_USAGE: UsageFacts = { checkins: 0, minutes: 0 };

interface StateRow {
  gen: number;
  version: number;
  synced_at: number | null;
  applied_at: number | null;
  source: CacheState['source'];
  snapshot_id: string | null;
  checksum: string | null;
  issued_at: number | null;
}

interface SettingsRow {
  visitor_token_minutes: number;
  visitor_token_start: SiteSettings['visitorTokenStart'];
  device_limit: number | null;
  daily_cutoff: string | null;
  wifi_idle_minutes: number;
  holidays: string;
  kiosk_registration: SiteSettings['kioskRegistration'];
}

/**
 * One statement per read: each statement costs a few µs of its own (a
 * WAL read transaction begun and ended, ≈ 4.5 µs here, then bind, step,
 * crossing into JavaScript), so the sync state the decision is stamped
 * with and the presence in the reader's area come with the candidates, and
 * the plan-usage and time-pass sums are subqueries, run only for the rows
 * that need them. Without an area (k.area NULL) the presence join seeks
 * nothing. The parameters come in by position as the one row of k, which
 * the rest names: binding by name looks each name up on an object, 0.6-1
 * µs of a read for three names.
 * The credential and entitlement indexes cover their columns
 * (migration 8), and so do the session indexes (migration 9), so the
 * read touches as few pages as it can and never a session row. The
 * planner would take the unique open-session index (one row for sure)
 * and then read the table for two columns; the covering one answers
 * from the index alone.
 */
export const CANDIDATES_SQL = `
        SELECT p.id, p.kind, p.status, ${PERSON_FLAGS}, p.expected_arrival,
               c.id, c.kind, c.status, c.valid_from, c.valid_to,
               s.id, s.opened_at,
               e.id, e.kind, e.valid_from, e.valid_to,
               CASE WHEN e.minutes_left IS NOT NULL
                 THEN e.minutes_left - ((SELECT ${CHECKED_IN_MS(PASS_SINCE)} FROM ${SESSIONS_SINCE('entitlement_id = e.id', PASS_SINCE)}) + 59999) / 60000 END,
               e.monthly_hours, e.monthly_checkins, e.doors,
               ${STARTED_AT},
               CASE WHEN ${LIMITED} THEN (CASE WHEN ${CLOUD_COUNTS} THEN coalesce(p.usage_checkins, 0) ELSE 0 END)
                 + (SELECT count(*) FROM ${SESSIONS_SINCE('person_id = p.id', USAGE_SINCE)} AND opened_at >= ${USAGE_SINCE}) END,
               CASE WHEN ${LIMITED} THEN (CASE WHEN ${CLOUD_COUNTS} THEN coalesce(p.usage_minutes, 0) ELSE 0 END)
                 + (SELECT ${CHECKED_IN_MS(USAGE_SINCE)} FROM ${SESSIONS_SINCE('person_id = p.id', USAGE_SINCE)}) / 60000 END,
               a.changed_at * 2 + a.inside,
               st.gen, st.version, st.synced_at, st.applied_at
        FROM (SELECT ? AS lookup, ? AS at, ? AS month_start, ? AS area) k
        JOIN sync_state st
        JOIN cache_credentials c ON c.gen = st.gen AND c.lookup = k.lookup
        JOIN cache_people p ON p.gen = st.gen AND p.id = c.person_id
        LEFT JOIN checkin_sessions s INDEXED BY checkin_sessions_open_cover ON s.person_id = p.id AND s.closed_at IS NULL
        LEFT JOIN area_presence a ON a.person_id = p.id AND a.area = k.area
        LEFT JOIN cache_entitlements e ON e.gen = st.gen AND e.person_id = p.id
        WHERE st.id = 1`;

/**
 * Active cards and keypad codes of the generation in force that belong to
 * more than one person, through any connection that sees the cache tables
 * unqualified (the daemon's, or the staging worker's to the file in force).
 */
export function credentialConflicts(db: Db): CredentialConflict[] {
  const rows = db
    .prepare<[], { lookup: Buffer; kinds: string; people: string; credentials: string }>(
      `SELECT c.lookup, group_concat(DISTINCT c.kind) AS kinds, group_concat(DISTINCT c.person_id) AS people,
              group_concat(c.id) AS credentials
       FROM sync_state st JOIN cache_credentials c ON c.gen = st.gen
       WHERE st.id = 1 AND c.status = 'active' AND c.kind IN ('card', 'pin', 'visitor_code')
       GROUP BY c.lookup HAVING count(DISTINCT c.person_id) > 1
       ORDER BY c.lookup`,
    )
    .all();
  return rows.map((r) => ({
    namespace: r.kinds.split(',').includes('card') ? 'card' : 'code',
    fingerprint: r.lookup.subarray(0, 4).toString('hex'),
    personIds: r.people.split(',').sort(),
    credentialIds: r.credentials.split(',').sort(),
  }));
}

export class CredentialCache {
  readonly writer: CacheWriter;
  /** The daemon's connection, with the cache attached. */
  readonly db: Db;
  readonly #db: Db;
  readonly #stmts;
  readonly #vault: BleKeyVault;
  #counted: { readonly key: string; readonly counts: CacheCounts } | null = null;

  constructor(db: Db, hasher: CredentialHasher) {
    this.db = db;
    this.#db = db;
    this.#vault = new BleKeyVault(hasher);
    if (!isCacheAttached(db)) throw new StoreError(`${db.name} has no cache attached: open it with openDatabase()`);
    this.writer = new CacheWriter(db, hasher);
    // Every query names the generation through sync_state, so a swap (one
    // UPDATE of sync_state.gen) switches them all at once.
    this.#stmts = {
      candidates: db.prepare<[lookup: Buffer, at: number, monthStart: number, area: string | null], CandidateRow>(CANDIDATES_SQL).raw(true),
      byEmail: db.prepare<[Buffer], { id: string }>(`
        SELECT p.id FROM sync_state st JOIN cache_people p ON p.gen = st.gen AND p.email_lookup = ? WHERE st.id = 1`),
      bleKeys: db.prepare<[Buffer], { person_id: string; secret: Buffer | null }>(`
        SELECT c.person_id, c.secret FROM sync_state st
        JOIN cache_credentials c ON c.gen = st.gen AND c.lookup = ? AND c.kind = 'ble_key'
        WHERE st.id = 1`),
      state: db.prepare<[], StateRow>(
        `SELECT gen, version, synced_at, applied_at, source, snapshot_id, checksum, issued_at FROM sync_state WHERE id = 1`,
      ),
      settings: db.prepare<[], SettingsRow>(
        `SELECT visitor_token_minutes, visitor_token_start, device_limit, daily_cutoff, wifi_idle_minutes, holidays, kiosk_registration FROM site_settings`,
      ),
      counts: db.prepare<[], CacheCounts>(CACHE_COUNTS_SQL),
    };
  }

  /**
   * Everything the engine needs about each cached credential matching a lookup
   * key. The namespace is part of the keyed hash, so a card can never match a PIN.
   */
  candidates(lookup: Buffer, context: CandidateContext = { at: Date.now(), monthStart: 0, area: null }): Candidate[] {
    return this.#candidatesOf(this.#stmts.candidates.all(lookup, context.at, context.monthStart, context.area));
  }

  /**
   * The candidates and the sync state they were read in, from one
   * statement: a statement on this file costs ≈ 4 µs before it reads a
   * page (beginning and ending a WAL read transaction), so reading
   * sync_state on its own for every decision cost as much again.
   */
  read(lookup: Buffer, context: CandidateContext): CandidateRead {
    const rows = this.#stmts.candidates.all(lookup, context.at, context.monthStart, context.area);
    const first = rows[0];
    const state =
      first === undefined
        ? null
        : { gen: first[Col.Gen], version: first[Col.Version], syncedAt: first[Col.SyncedAt], appliedAt: first[Col.AppliedAt] };
    return { candidates: this.#candidatesOf(rows), state };
  }

  #candidatesOf(rows: readonly CandidateRow[]): Candidate[] {
    const found: Candidate[] = [];
    // The join is nested loops with the credential outermost, so the rows of
    // one credential (one per entitlement) are adjacent; sorting them would
    // cost a sorter per read.
    for (let i = 0; i < rows.length; ) {
      let end = i + 1;
      while (end < rows.length && rows[end]![Col.CredentialId] === rows[i]![Col.CredentialId]) end++;
      found.push(this.#candidate(rows, i, end));
      i = end;
    }
    return found;
  }

  /**
   * The tap keys filed under a key id's lookup, decrypted, with their owner.
   * Validity and status are the engine's business: the decision on the
   * same lookup refuses a revoked or expired key.
   */
  bleKeys(lookup: Buffer): { personId: string; key: Buffer }[] {
    return this.#stmts.bleKeys.all(lookup).flatMap((r) => (r.secret === null ? [] : [{ personId: r.person_id, key: this.#vault.open(r.secret, lookup) }]));
  }

  /** People whose email hashes to this lookup (Wi-Fi and kiosk sign-in). */
  peopleByEmail(emailLookup: Buffer): string[] {
    return this.#stmts.byEmail.all(emailLookup).map((r) => r.id);
  }

  /**
   * Active cards and keypad codes that belong to more than one person: the
   * engine refuses them to everyone (ambiguous_credential); this says which.
   */
  conflicts(): CredentialConflict[] {
    return credentialConflicts(this.#db);
  }

  /** The candidate of rows [from, to), which share one credential (and so one person). */
  #candidate(rows: readonly CandidateRow[], from: number, to: number): Candidate {
    const r = rows[from]!;
    const entitlements: EntitlementFacts[] = [];
    // Counted by the statement on the rows of limited plans only (the same
    // figures on each: they are the person's): the common case (no limits)
    // costs no sum on the path from card to door.
    let usage = NO_USAGE;
    for (let i = from; i < to; i++) {
      const e = rows[i]!;
      const id = e[Col.EntitlementId];
      const kind = e[Col.EntitlementKind];
      if (id === null || kind === null) continue;
      const usedCheckins = e[Col.UsedCheckins];
      if (usage === NO_USAGE && usedCheckins !== null) usage = { checkins: usedCheckins, minutes: e[Col.UsedMinutes] ?? 0 };
      entitlements.push({
        id,
        kind,
        validFrom: e[Col.EntitlementValidFrom],
        validTo: e[Col.EntitlementValidTo],
        minutesLeft: e[Col.MinutesLeft],
        monthlyHours: e[Col.MonthlyHours],
        monthlyCheckins: e[Col.MonthlyCheckins],
        doors: parseDoors(e[Col.Doors]),
        startedAt: e[Col.StartedAt],
      });
    }
    const presence = r[Col.Presence];
    const sessionId = r[Col.SessionId];
    const flags = r[Col.PersonFlags];
    return {
      person: {
        id: r[Col.PersonId],
        kind: r[Col.PersonKind],
        status: r[Col.PersonStatus],
        alwaysAllowed: (flags & PersonFlag.AlwaysAllowed) !== 0,
        extendedUnlock: (flags & PersonFlag.ExtendedUnlock) !== 0,
        lockdownOverride: (flags & PersonFlag.LockdownOverride) !== 0,
        networkCheckin: (flags & PersonFlag.NetworkCheckin) !== 0,
        expectedArrival: r[Col.ExpectedArrival],
      },
      credential: {
        id: r[Col.CredentialId],
        kind: r[Col.CredentialKind],
        status: r[Col.CredentialStatus],
        validFrom: r[Col.CredentialValidFrom],
        validTo: r[Col.CredentialValidTo],
      },
      entitlements,
      openSession: sessionId === null ? null : { id: sessionId, openedAt: r[Col.SessionOpenedAt] ?? 0 },
      usage,
      // changed_at * 2 + inside (0 or 1, by CHECK): one column instead of two.
      areaPresence: presence === null ? null : { inside: presence % 2 !== 0, changedAt: Math.floor(presence / 2) },
    };
  }

  state(): CacheState {
    const r = this.#stmts.state.get();
    if (r === undefined) throw new Error('sync_state is missing (database not migrated)');
    return {
      gen: r.gen,
      version: r.version,
      syncedAt: r.synced_at,
      appliedAt: r.applied_at,
      source: r.source,
      snapshotId: r.snapshot_id,
      checksum: r.checksum,
      issuedAt: r.issued_at,
    };
  }

  version(): number {
    return this.state().version;
  }

  /** True until the first data set (seed, import or sync) was applied. */
  isEmpty(): boolean {
    return this.state().appliedAt === null;
  }

  /**
   * How many people, credentials and entitlements are in force. Counting
   * 100,000 rows holds the event loop for milliseconds, and status, the
   * status page and every metrics scrape ask: the figures are kept until
   * the data in force changes (a swap or a delta moves gen, version or
   * applied_at).
   */
  counts(): CacheCounts {
    const key = this.#countsKey();
    if (this.#counted?.key !== key) this.#counted = { key, counts: this.#stmts.counts.get() ?? { people: 0, credentials: 0, entitlements: 0 } };
    return this.#counted.counts;
  }

  /**
   * The rows of the generation just put in force, counted where it was built
   * (the staging worker, at its seal): counts() then need not count them on
   * the event loop, where the first status or metrics scrape after a 100k
   * swap spent 14 ms. Valid until the data changes (a delta recounts).
   */
  primeCounts(counts: CacheCounts): void {
    this.#counted = { key: this.#countsKey(), counts };
  }

  /**
   * Apply a delta (CacheWriter.applyDelta) and carry the counts across it:
   * the writer counts what the delta changed over the people it touched, so
   * the next status does not count the whole cache on the event loop (14 ms
   * at 100,000 people). Returns the credentials skipped as malformed.
   */
  applyDelta(ops: readonly DeltaOp[], toVersion: number, at: number): RejectedCredential[] {
    const before = this.#counted;
    const keyBefore = this.#countsKey();
    const { rejected, change } = this.writer.applyDeltaCounted(ops, toVersion, at);
    if (before !== null && before.key === keyBefore && change !== null) {
      const c = before.counts;
      this.#counted = {
        key: this.#countsKey(),
        counts: { people: c.people + change.people, credentials: c.credentials + change.credentials, entitlements: c.entitlements + change.entitlements },
      };
    }
    return rejected;
  }

  /** What the counts depend on: the generation in force and its version. */
  #countsKey(): string {
    const s = this.state();
    return `${s.gen}:${s.version}:${s.appliedAt ?? ''}`;
  }

  /** Site settings in force; null before the first data set. */
  settings(): SiteSettings | null {
    const r = this.#stmts.settings.get();
    if (r === undefined) return null;
    return {
      visitorTokenMinutes: r.visitor_token_minutes,
      visitorTokenStart: r.visitor_token_start,
      deviceLimit: r.device_limit,
      dailyCutoff: r.daily_cutoff,
      wifiIdleMinutes: r.wifi_idle_minutes,
      holidays: parseHolidays(r.holidays),
      kioskRegistration: r.kiosk_registration,
    };
  }

  /**
   * Replace the cache with a full data set in one transaction: staged in a
   * fresh generation and swapped in, or, on any error, nothing at all. For
   * small sets (tests, tools); the sync engine stages large ones in batches.
   */
  applySnapshot(dataset: Dataset, at: number, source: SyncSource = 'seed'): SnapshotResult {
    const w = this.writer;
    const counts = newStageCounts();
    this.#db.transaction(() => {
      const gen = w.allocateGeneration();
      for (const person of dataset.people) w.stagePerson(gen, person, at, counts);
      for (const door of dataset.doors) w.stageDoor(gen, door, counts);
      for (const schedule of dataset.schedules) w.stageSchedule(gen, schedule, counts);
      w.stageSettings(gen, dataset.settings);
      w.activate(gen, { version: dataset.version, syncedAt: at, source, snapshotId: null, checksum: null, issuedAt: null }, dataset.settings);
    })();
    return {
      version: dataset.version,
      people: counts.people,
      credentials: counts.credentials,
      entitlements: counts.entitlements,
      rejectedCredentials: counts.rejectedCredentials,
    };
  }
}
