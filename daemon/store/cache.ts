/**
 * The offline cache as the access path reads it: people, credentials and
 * entitlements of the generation in force (sync_state.gen), and the sync
 * facts (version, last successful sync) every decision is stamped with.
 *
 * Writes live in cache-writer.ts. applySnapshot here is the one-transaction
 * form for small data sets; the sync engine stages large snapshots in batches
 * and swaps them in with the same writer.
 */
import { StoreError, type Db } from './database.js';
import type { CredentialHasher } from './credential-hash.js';
import { BleKeyVault } from './ble-key-vault.js';
import { CacheWriter, newStageCounts, type CacheWriterOptions, type RejectedCredential, type SyncSource } from './cache-writer.js';
import type { Dataset, SiteSettings } from '../sync/dataset.js';
import type {
  Candidate,
  CredentialKind,
  EntitlementKind,
  PersonKind,
  PersonStatus,
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

interface CandidateRow {
  person_id: string;
  person_kind: PersonKind;
  person_status: PersonStatus;
  always_allowed: number;
  extended_unlock: number;
  lockdown_override: number;
  network_checkin: number;
  expected_arrival: number | null;
  updated_at: number;
  usage_period_start: number | null;
  usage_checkins: number | null;
  usage_minutes: number | null;
  usage_as_of: number | null;
  credential_id: string;
  credential_kind: CredentialKind;
  credential_status: 'active' | 'revoked';
  credential_valid_from: number | null;
  credential_valid_to: number | null;
  session_id: string | null;
  session_opened_at: number | null;
}

interface EntitlementRow {
  id: string;
  kind: EntitlementKind;
  valid_from: number | null;
  valid_to: number | null;
  minutes_left: number | null;
  monthly_hours: number | null;
  monthly_checkins: number | null;
  doors: string | null;
  started_at: number | null;
}

interface UsageRow {
  checkins: number | null;
  ms: number | null;
}

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

export class CredentialCache {
  readonly writer: CacheWriter;
  readonly #db: Db;
  readonly #stmts;
  readonly #vault: BleKeyVault;

  constructor(db: Db, hasher: CredentialHasher, writerOptions: CacheWriterOptions = {}) {
    this.#db = db;
    this.#vault = new BleKeyVault(hasher);
    if (db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sync_state'`).get() === undefined) {
      // Only a file written by a development build, before migration 2 took its released form, looks like this.
      throw new StoreError(`${db.name} has no sync_state table: it was created by a development build of Gatehouse. Move it away; the seed file or the next sync fills a new one.`);
    }
    this.writer = new CacheWriter(db, hasher, writerOptions);
    // Every query names the generation through sync_state, so a swap (one
    // UPDATE of sync_state.gen) switches them all at once.
    this.#stmts = {
      candidates: db.prepare<[Buffer], CandidateRow>(`
        SELECT p.id AS person_id, p.kind AS person_kind, p.status AS person_status, p.always_allowed,
               p.extended_unlock, p.lockdown_override, p.network_checkin, p.expected_arrival, p.updated_at,
               p.usage_period_start, p.usage_checkins, p.usage_minutes, p.usage_as_of,
               c.id AS credential_id, c.kind AS credential_kind, c.status AS credential_status,
               c.valid_from AS credential_valid_from, c.valid_to AS credential_valid_to,
               s.id AS session_id, s.opened_at AS session_opened_at
        FROM sync_state st
        JOIN cache_credentials c ON c.gen = st.gen AND c.lookup = ?
        JOIN cache_people p ON p.gen = st.gen AND p.id = c.person_id
        LEFT JOIN checkin_sessions s ON s.person_id = p.id AND s.closed_at IS NULL
        WHERE st.id = 1`),
      entitlements: db.prepare<[string], EntitlementRow>(`
        SELECT e.id, e.kind, e.valid_from, e.valid_to, e.minutes_left, e.monthly_hours, e.monthly_checkins, e.doors,
               x.started_at
        FROM sync_state st JOIN cache_entitlements e ON e.gen = st.gen AND e.person_id = ?
        LEFT JOIN entitlement_starts x ON x.entitlement_id = e.id
        WHERE st.id = 1`),
      // Check-ins opened since \`since\`, and checked-in time inside [since, at): open sessions count up to now.
      usage: db.prepare<{ person: string; since: number; at: number }, UsageRow>(`
        SELECT sum(opened_at >= $since) AS checkins,
               sum(max(0, min(coalesce(closed_at, $at), $at) - max(opened_at, $since))) AS ms
        FROM checkin_sessions
        WHERE person_id = $person AND coalesce(closed_at, $at) > $since AND opened_at < $at`),
      consumed: db.prepare<{ entitlement: string; since: number; at: number }, UsageRow>(`
        SELECT 0 AS checkins, sum(max(0, min(coalesce(closed_at, $at), $at) - max(opened_at, $since))) AS ms
        FROM checkin_sessions
        WHERE entitlement_id = $entitlement AND coalesce(closed_at, $at) > $since AND opened_at < $at`),
      presence: db.prepare<[string, string], { inside: number; changed_at: number }>(
        `SELECT inside, changed_at FROM area_presence WHERE person_id = ? AND area = ?`,
      ),
      byEmail: db.prepare<[Buffer], { id: string }>(`
        SELECT p.id FROM sync_state st JOIN cache_people p ON p.gen = st.gen AND p.email_lookup = ? WHERE st.id = 1`),
      conflicts: db.prepare<[], { lookup: Buffer; kinds: string; people: string; credentials: string }>(`
        SELECT c.lookup, group_concat(DISTINCT c.kind) AS kinds, group_concat(DISTINCT c.person_id) AS people,
               group_concat(c.id) AS credentials
        FROM sync_state st JOIN cache_credentials c ON c.gen = st.gen
        WHERE st.id = 1 AND c.status = 'active' AND c.kind IN ('card', 'pin', 'visitor_code')
        GROUP BY c.lookup HAVING count(DISTINCT c.person_id) > 1
        ORDER BY c.lookup`),
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
      counts: db.prepare<[], { people: number; credentials: number; entitlements: number }>(
        `SELECT (SELECT count(*) FROM people) AS people, (SELECT count(*) FROM credentials) AS credentials, (SELECT count(*) FROM entitlements) AS entitlements`,
      ),
    };
  }

  /**
   * Everything the engine needs about each cached credential matching a lookup
   * key. The namespace is part of the keyed hash, so a card can never match a PIN.
   */
  candidates(lookup: Buffer, context: CandidateContext = { at: Date.now(), monthStart: 0, area: null }): Candidate[] {
    const rows = this.#stmts.candidates.all(lookup);
    return rows.map((r) => this.#candidate(r, context));
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
    return this.#stmts.conflicts.all().map((r) => ({
      namespace: r.kinds.split(',').includes('card') ? 'card' : 'code',
      fingerprint: r.lookup.subarray(0, 4).toString('hex'),
      personIds: r.people.split(',').sort(),
      credentialIds: r.credentials.split(',').sort(),
    }));
  }

  #candidate(r: CandidateRow, context: CandidateContext): Candidate {
    const { at, monthStart } = context;
    // A time pass's minutesLeft is as of the last sync of the person; time
    // checked in on it since then is consumed locally.
    const minutesAsOf = r.usage_as_of ?? r.updated_at;
    const entitlements = this.#stmts.entitlements.all(r.person_id).map((e) => ({
      id: e.id,
      kind: e.kind,
      validFrom: e.valid_from,
      validTo: e.valid_to,
      minutesLeft:
        e.minutes_left === null
          ? null
          : e.minutes_left - Math.ceil((this.#stmts.consumed.get({ entitlement: e.id, since: minutesAsOf, at })?.ms ?? 0) / 60_000),
      monthlyHours: e.monthly_hours,
      monthlyCheckins: e.monthly_checkins,
      doors: parseDoors(e.doors),
      startedAt: e.started_at,
    }));
    // Usage is only looked up for people whose plan has a limit: the common
    // case (no limits) costs no query on the path from card to door.
    let usage = { checkins: 0, minutes: 0 };
    if (entitlements.some((e) => e.monthlyHours !== null || e.monthlyCheckins !== null)) {
      // The cloud's counters count while they are for this month; local
      // check-ins after the instant they were computed are added to them.
      const cloudCounts = r.usage_period_start !== null && r.usage_period_start >= monthStart && r.usage_as_of !== null;
      const since = cloudCounts ? Math.max(monthStart, r.usage_as_of ?? monthStart) : monthStart;
      const local = this.#stmts.usage.get({ person: r.person_id, since, at });
      usage = {
        checkins: (cloudCounts ? (r.usage_checkins ?? 0) : 0) + (local?.checkins ?? 0),
        minutes: (cloudCounts ? (r.usage_minutes ?? 0) : 0) + Math.floor((local?.ms ?? 0) / 60_000),
      };
    }
    const presence = context.area === null ? undefined : this.#stmts.presence.get(r.person_id, context.area);
    return {
      person: {
        id: r.person_id,
        kind: r.person_kind,
        status: r.person_status,
        alwaysAllowed: r.always_allowed === 1,
        extendedUnlock: r.extended_unlock === 1,
        lockdownOverride: r.lockdown_override === 1,
        networkCheckin: r.network_checkin === 1,
        expectedArrival: r.expected_arrival,
      },
      credential: {
        id: r.credential_id,
        kind: r.credential_kind,
        status: r.credential_status,
        validFrom: r.credential_valid_from,
        validTo: r.credential_valid_to,
      },
      entitlements,
      openSession: r.session_id === null ? null : { id: r.session_id, openedAt: r.session_opened_at ?? 0 },
      usage,
      areaPresence: presence === undefined ? null : { inside: presence.inside === 1, changedAt: presence.changed_at },
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

  counts(): { people: number; credentials: number; entitlements: number } {
    return this.#stmts.counts.get() ?? { people: 0, credentials: 0, entitlements: 0 };
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
