/**
 * Every write to the cache tables of one connection: staging a generation,
 * putting a staged generation in force within its file, applying a delta
 * to the generation in force, deleting generations nobody uses any more.
 *
 * Two connections use it. The daemon's, whose cache is the attached
 * generation file (cache-files.ts): deltas, and for an in-memory store (or
 * a small data set, applySnapshot) generations staged beside the one in
 * force and put in force by one UPDATE of sync_state.gen, so a decision
 * sees the old data or the new, never a mix. And the staging worker's
 * connection to a generation file it builds (sync/generation-build.ts),
 * which stages the one generation of that file.
 *
 * Methods here are synchronous and bounded by what the caller hands them.
 * Staging is split in two: prepare (validate, hash, encode: CPU only) and
 * insert (rows ready to go), so the in-thread stager can slice the inserts
 * between turns of the event loop.
 */
import { existsSync } from 'node:fs';
import { GENERATION_TABLES, type CacheCounts } from './cache-schema.js';
import { generationsOnDisk, isMemory, pointedGeneration } from './cache-files.js';
import type { Db } from './database.js';
import { BleKeyVault } from './ble-key-vault.js';
import { CredentialFormatError, parseBleKey, type CredentialHasher } from './credential-hash.js';
import type { CredentialRecord, DoorRecord, EntitlementRecord, PersonRecord, ScheduleRecord, SiteSettings } from '../sync/dataset.js';
import type { DeltaOp } from '../sync/messages.js';

export type SyncSource = 'mqtt' | 'import' | 'seed';

export interface RejectedCredential {
  readonly id: string;
  readonly reason: string;
}

export interface StageCounts {
  people: number;
  credentials: number;
  entitlements: number;
  doors: number;
  schedules: number;
  readonly rejectedCredentials: RejectedCredential[];
}

export interface Activation {
  readonly version: number;
  readonly syncedAt: number;
  readonly source: SyncSource;
  readonly snapshotId: string | null;
  readonly checksum: string | null;
  readonly issuedAt: number | null;
}

/** A delta that does not fit the cache in force: the copies have diverged. */
export class DeltaConflictError extends Error {
  override readonly name = 'DeltaConflictError';
}

/** The table a prepared row goes into. */
export type StageTable = 'person' | 'credential' | 'entitlement' | 'door' | 'schedule' | 'settings';
export type SqlValue = string | number | bigint | Buffer | null;
/** One row, ready to insert: values hashed, sealed and encoded, nothing left to compute. */
export type StageRow = readonly [StageTable, readonly SqlValue[]];

export const newStageCounts = (): StageCounts => ({ people: 0, credentials: 0, entitlements: 0, doors: 0, schedules: 0, rejectedCredentials: [] });

const instant = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** Rows one DELETE statement removes while a generation is collected. */
const DELETE_BATCH_ROWS = 64;
/**
 * Most people a delta may touch for its effect on the cache's counts to be
 * counted person by person (three index lookups each, twice); beyond it the
 * counts are taken again over the whole cache when next asked.
 */
const COUNTED_DELTA_PEOPLE = 200;
export class CacheWriter {
  readonly #db: Db;
  readonly #hasher: CredentialHasher;
  readonly #vault: BleKeyVault;
  readonly #s;

  constructor(db: Db, hasher: CredentialHasher) {
    this.#db = db;
    this.#hasher = hasher;
    this.#vault = new BleKeyVault(hasher);
    // Settings are one row per generation: staging and deltas both replace it.
    const settings = db.prepare(
      `INSERT OR REPLACE INTO cache_settings (gen, visitor_token_minutes, visitor_token_start, device_limit, daily_cutoff, wifi_idle_minutes, holidays, kiosk_registration)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#s = {
      state: db.prepare<[], { gen: number; version: number }>(`SELECT gen, version FROM sync_state WHERE id = 1`),
      // Index seeks, one per table: the highest generation holding any row.
      highestGen: db.prepare<[], { gen: number | null }>(
        `SELECT max(coalesce((SELECT gen FROM sync_state WHERE id = 1), 0), ${GENERATION_TABLES.map((t) => `coalesce((SELECT max(gen) FROM ${t}), 0)`).join(', ')}) AS gen`,
      ),
      activate: db.prepare(
        `UPDATE sync_state SET gen = ?, version = ?, synced_at = ?, applied_at = ?, source = ?, snapshot_id = ?, checksum = ?, issued_at = ? WHERE id = 1`,
      ),
      advance: db.prepare(`UPDATE sync_state SET version = ?, synced_at = ?, applied_at = ?, source = ? WHERE id = 1`),
      // Staging inserts plainly: a duplicate id within one data set is an error, not an update.
      insert: {
        person: db.prepare(
          `INSERT INTO cache_people (gen, id, kind, name, status, host_id, always_allowed, expected_arrival, updated_at, email_lookup, device_limit, network_checkin, extended_unlock, lockdown_override, usage_period_start, usage_checkins, usage_minutes, usage_as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        credential: db.prepare(
          `INSERT INTO cache_credentials (gen, id, person_id, kind, lookup, valid_from, valid_to, status, secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        entitlement: db.prepare(
          `INSERT INTO cache_entitlements (gen, id, person_id, kind, name, valid_from, valid_to, minutes_left, monthly_hours, monthly_checkins, doors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        door: db.prepare(`INSERT INTO cache_doors (gen, id, name, schedule_id) VALUES (?, ?, ?, ?)`),
        schedule: db.prepare(`INSERT INTO cache_schedules (gen, id, name, weekly) VALUES (?, ?, ?, ?)`),
        settings,
      },
      // Deltas upsert: the record replaces whatever the cache had under its id.
      upsert: {
        person: db.prepare(
          `INSERT INTO cache_people (gen, id, kind, name, status, host_id, always_allowed, expected_arrival, updated_at, email_lookup, device_limit, network_checkin, extended_unlock, lockdown_override, usage_period_start, usage_checkins, usage_minutes, usage_as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (gen, id) DO UPDATE SET kind = excluded.kind, name = excluded.name, status = excluded.status, host_id = excluded.host_id,
             always_allowed = excluded.always_allowed, expected_arrival = excluded.expected_arrival, updated_at = excluded.updated_at,
             email_lookup = excluded.email_lookup, device_limit = excluded.device_limit, network_checkin = excluded.network_checkin,
             extended_unlock = excluded.extended_unlock, lockdown_override = excluded.lockdown_override,
             usage_period_start = excluded.usage_period_start, usage_checkins = excluded.usage_checkins,
             usage_minutes = excluded.usage_minutes, usage_as_of = excluded.usage_as_of`,
        ),
        credential: db.prepare(
          `INSERT INTO cache_credentials (gen, id, person_id, kind, lookup, valid_from, valid_to, status, secret) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (gen, id) DO UPDATE SET person_id = excluded.person_id, kind = excluded.kind, lookup = excluded.lookup,
             valid_from = excluded.valid_from, valid_to = excluded.valid_to, status = excluded.status, secret = excluded.secret`,
        ),
        entitlement: db.prepare(
          `INSERT INTO cache_entitlements (gen, id, person_id, kind, name, valid_from, valid_to, minutes_left, monthly_hours, monthly_checkins, doors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (gen, id) DO UPDATE SET person_id = excluded.person_id, kind = excluded.kind, name = excluded.name,
             valid_from = excluded.valid_from, valid_to = excluded.valid_to, minutes_left = excluded.minutes_left, monthly_hours = excluded.monthly_hours,
             monthly_checkins = excluded.monthly_checkins, doors = excluded.doors`,
        ),
        door: db.prepare(
          `INSERT INTO cache_doors (gen, id, name, schedule_id) VALUES (?, ?, ?, ?)
           ON CONFLICT (gen, id) DO UPDATE SET name = excluded.name, schedule_id = excluded.schedule_id`,
        ),
        schedule: db.prepare(
          `INSERT INTO cache_schedules (gen, id, name, weekly) VALUES (?, ?, ?, ?)
           ON CONFLICT (gen, id) DO UPDATE SET name = excluded.name, weekly = excluded.weekly`,
        ),
        settings,
      },
      hasSettings: db.prepare<[number], { n: number }>(`SELECT count(*) AS n FROM cache_settings WHERE gen = ?`),
      clearCredentialsOf: db.prepare(`DELETE FROM cache_credentials WHERE gen = ? AND person_id = ?`),
      clearEntitlementsOf: db.prepare(`DELETE FROM cache_entitlements WHERE gen = ? AND person_id = ?`),
      deletePerson: db.prepare(`DELETE FROM cache_people WHERE gen = ? AND id = ?`),
      deleteCredential: db.prepare(`DELETE FROM cache_credentials WHERE gen = ? AND id = ?`),
      deleteEntitlement: db.prepare(`DELETE FROM cache_entitlements WHERE gen = ? AND id = ?`),
      deleteDoor: db.prepare(`DELETE FROM cache_doors WHERE gen = ? AND id = ?`),
      deleteSchedule: db.prepare(`DELETE FROM cache_schedules WHERE gen = ? AND id = ?`),
      personExists: db.prepare<[number, string], { n: number }>(`SELECT count(*) AS n FROM cache_people WHERE gen = ? AND id = ?`),
      credentialOwner: db.prepare<[number, string], { person_id: string }>(`SELECT person_id FROM cache_credentials WHERE gen = ? AND id = ?`),
      entitlementOwner: db.prepare<[number, string], { person_id: string }>(`SELECT person_id FROM cache_entitlements WHERE gen = ? AND id = ?`),
      rowsOfPerson: db.prepare<[number, string, number, string, number, string], CacheCounts>(
        `SELECT (SELECT count(*) FROM cache_people WHERE gen = ? AND id = ?) AS people,
                (SELECT count(*) FROM cache_credentials WHERE gen = ? AND person_id = ?) AS credentials,
                (SELECT count(*) FROM cache_entitlements WHERE gen = ? AND person_id = ?) AS entitlements`,
      ),
      // Generations are found by seeking the (gen, id) index, never by a scan.
      nextGenOf: GENERATION_TABLES.map((t) => db.prepare<[number], { gen: number }>(`SELECT gen FROM ${t} WHERE gen > ? ORDER BY gen LIMIT 1`)),
      deleteRowsOf: GENERATION_TABLES.map((t) => db.prepare<[number, number]>(`DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE gen = ? LIMIT ?)`)),
    };
  }

  /** The generation decisions use now. */
  activeGeneration(): number {
    return this.#state().gen;
  }

  /**
   * A fresh generation number for staging: above every generation that holds
   * a row or has a file (the one in force included), so what a crashed or
   * abandoned apply left behind never mixes with a new one, and above every
   * generation `reserved` (being staged, perhaps still without rows). Nothing
   * is written: a snapshot that is rejected leaves the store as it found it
   * once its garbage is collected.
   */
  allocateGeneration(reserved: Iterable<number> = []): number {
    const files = isMemory(this.#db.name) ? [] : [pointedGeneration(this.#db) ?? 0, ...generationsOnDisk(this.#db.name)];
    return Math.max(this.#s.highestGen.get()?.gen ?? 0, ...files, ...reserved) + 1;
  }

  /**
   * Run `fn` in one transaction (IMMEDIATE: the write lock is taken at
   * BEGIN, so a transaction that reads before it writes never meets
   * SQLITE_BUSY half-way). Staging rows are invisible until their generation
   * is put in force, and garbage deletion touches none in force, so neither
   * needs its commit fsynced: the connection's NORMAL is enough.
   */
  batch<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /**
   * What a staging worker needs to build generation files for this store:
   * the main file (their names derive from it) and the site key for its own
   * hasher. Null for an in-memory store (no other thread can reach it).
   */
  workerSetup(): { readonly mainPath: string; readonly siteKey: Buffer } | null {
    if (isMemory(this.#db.name) || !existsSync(this.#db.name)) return null;
    return { mainPath: this.#db.name, siteKey: this.#hasher.exportKey() };
  }

  /** Insert one person with credentials and entitlements into a generation (inside batch()). */
  stagePerson(gen: number, person: PersonRecord, at: number, counts: StageCounts): void {
    const rows: StageRow[] = [];
    this.preparePerson(gen, person, at, counts, rows);
    for (const row of rows) this.insert(row);
  }

  stageSettings(gen: number, settings: SiteSettings): void {
    this.insert(this.prepareSettings(gen, settings));
  }

  stageDoor(gen: number, door: DoorRecord, counts: StageCounts): void {
    this.insert(this.prepareDoor(gen, door, counts));
  }

  stageSchedule(gen: number, schedule: ScheduleRecord, counts: StageCounts): void {
    this.insert(this.prepareSchedule(gen, schedule, counts));
  }

  /**
   * The rows of one person (the person, then credentials, then
   * entitlements: parents first), appended to `out`. Hashes and seals
   * credential values; a malformed one is skipped and named in `counts`.
   * Writes nothing.
   */
  preparePerson(gen: number, p: PersonRecord, at: number, counts: StageCounts, out: StageRow[]): void {
    const u = p.usage;
    out.push([
      'person',
      [
        gen,
        p.id,
        p.kind,
        p.name,
        p.status,
        p.hostId,
        p.alwaysAllowed ? 1 : 0,
        instant(p.expectedArrival),
        at,
        p.email === null ? null : this.#hasher.emailLookup(p.email),
        p.deviceLimit,
        p.networkCheckin ? 1 : 0,
        p.extendedUnlock ? 1 : 0,
        p.lockdownOverride ? 1 : 0,
        u === null ? null : instant(u.periodStart),
        u?.checkins ?? null,
        u?.minutes ?? null,
        u === null ? null : instant(u.asOf),
      ],
    ]);
    counts.people++;
    for (const c of p.credentials) {
      const row = this.#credentialRow(gen, p.id, c, counts);
      if (row !== null) out.push(row);
    }
    for (const e of p.entitlements) out.push(this.#entitlementRow(gen, p.id, e, counts));
  }

  prepareSettings(gen: number, settings: SiteSettings): StageRow {
    return [
      'settings',
      [
        gen,
        settings.visitorTokenMinutes,
        settings.visitorTokenStart,
        settings.deviceLimit,
        settings.dailyCutoff,
        settings.wifiIdleMinutes,
        JSON.stringify(settings.holidays),
        settings.kioskRegistration,
      ],
    ];
  }

  prepareDoor(gen: number, door: DoorRecord, counts: StageCounts): StageRow {
    counts.doors++;
    return ['door', [gen, door.id, door.name, door.schedule]];
  }

  prepareSchedule(gen: number, schedule: ScheduleRecord, counts: StageCounts): StageRow {
    counts.schedules++;
    return ['schedule', [gen, schedule.id, schedule.name, JSON.stringify(schedule.weekly)]];
  }

  /** Whether a generation has its settings row (staged, or in force). */
  hasSettings(gen: number): boolean {
    return (this.#s.hasSettings.get(gen)?.n ?? 0) > 0;
  }

  /** Insert a prepared row (inside batch()). A duplicate id throws SQLite's constraint error. */
  insert(row: StageRow): void {
    this.#s.insert[row[0]].run(...row[1]);
  }

  /**
   * Put a staged generation in force, in one durable transaction. A
   * generation staged without settings gets the defaults the caller passes.
   */
  activate(gen: number, activation: Activation, defaultSettings: SiteSettings): void {
    this.#db.transaction(() => {
      if (!this.hasSettings(gen)) this.stageSettings(gen, defaultSettings);
      this.#s.activate.run(
        gen,
        activation.version,
        activation.syncedAt,
        activation.syncedAt,
        activation.source,
        activation.snapshotId,
        activation.checksum,
        activation.issuedAt,
      );
    }).immediate();
  }

  /**
   * Apply a delta's operations to the generation in force and move the
   * version on, all in one transaction: on any conflict nothing changes.
   * Returns the credentials skipped for a malformed value (by id).
   */
  applyDelta(ops: readonly DeltaOp[], toVersion: number, at: number): RejectedCredential[] {
    return this.applyDeltaCounted(ops, toVersion, at).rejected;
  }

  /**
   * applyDelta, and what it changed in the rows CredentialCache.counts()
   * reports (people, credentials, entitlements), counted over the people it
   * touched, before and after, inside its transaction: every row a delta can
   * change belongs to a person it names, or to the person that held a
   * credential or entitlement it names. Null when it touched more than
   * COUNTED_DELTA_PEOPLE people (the cache counts again instead).
   */
  applyDeltaCounted(ops: readonly DeltaOp[], toVersion: number, at: number): { rejected: RejectedCredential[]; change: CacheCounts | null } {
    const counts = newStageCounts();
    let change: CacheCounts | null = null;
    this.#db.transaction(() => {
      const gen = this.#state().gen;
      const touched = this.#touchedPeople(gen, ops);
      const before = touched === null ? null : this.#rowsOf(gen, touched);
      ops.forEach((op, index) => {
        try {
          this.#applyOp(gen, op, at, counts);
        } catch (error) {
          if (error instanceof DeltaConflictError) throw new DeltaConflictError(`ops[${index}] ${op.op}: ${error.message}`);
          if (isConstraintError(error)) throw new DeltaConflictError(`ops[${index}] ${op.op}: ${constraintMessage(error)}`);
          throw error;
        }
      });
      this.#s.advance.run(toVersion, at, at, 'mqtt');
      if (touched !== null && before !== null) {
        const after = this.#rowsOf(gen, touched);
        change = { people: after.people - before.people, credentials: after.credentials - before.credentials, entitlements: after.entitlements - before.entitlements };
      }
    }).immediate();
    return { rejected: counts.rejectedCredentials, change };
  }

  /** The people whose rows a delta can change; null beyond COUNTED_DELTA_PEOPLE. */
  #touchedPeople(gen: number, ops: readonly DeltaOp[]): Set<string> | null {
    const people = new Set<string>();
    const holderOf = (row: { get(gen: number, id: string): { person_id: string } | undefined }, id: string): void => {
      const owner = row.get(gen, id);
      if (owner !== undefined) people.add(owner.person_id);
    };
    const credentialOwner = (id: string): void => holderOf(this.#s.credentialOwner, id);
    const entitlementOwner = (id: string): void => holderOf(this.#s.entitlementOwner, id);
    for (const op of ops) {
      switch (op.op) {
        case 'person.upsert':
          people.add(op.person.id);
          // Its credentials and entitlements may move from whoever holds them now.
          for (const c of op.person.credentials) credentialOwner(c.id);
          for (const e of op.person.entitlements) entitlementOwner(e.id);
          break;
        case 'person.delete':
          people.add(op.id);
          break;
        case 'credential.upsert':
          people.add(op.personId);
          credentialOwner(op.credential.id);
          break;
        case 'credential.delete':
          credentialOwner(op.id);
          break;
        case 'entitlement.upsert':
          people.add(op.personId);
          entitlementOwner(op.entitlement.id);
          break;
        case 'entitlement.delete':
          entitlementOwner(op.id);
          break;
        default:
          // Doors, schedules and settings are not counted.
          break;
      }
      if (people.size > COUNTED_DELTA_PEOPLE) return null;
    }
    return people;
  }

  #rowsOf(gen: number, people: ReadonlySet<string>): CacheCounts {
    const total = { people: 0, credentials: 0, entitlements: 0 };
    for (const id of people) {
      const r = this.#s.rowsOfPerson.get(gen, id, gen, id, gen, id);
      total.people += r?.people ?? 0;
      total.credentials += r?.credentials ?? 0;
      total.entitlements += r?.entitlements ?? 0;
    }
    return total;
  }

  /** Generations that hold rows but are neither in force nor in `keep`. */
  garbageGenerations(keep: ReadonlySet<number>): number[] {
    const active = this.#state().gen;
    const found = new Set<number>();
    for (const next of this.#s.nextGenOf) {
      let after = Number.MIN_SAFE_INTEGER;
      for (;;) {
        const row = next.get(after);
        if (row === undefined) break;
        if (row.gen !== active && !keep.has(row.gen)) found.add(row.gen);
        after = row.gen;
      }
    }
    return [...found].sort((a, b) => a - b);
  }

  /**
   * Delete rows of one unused generation, children first, a few dozen at a
   * time until `spent()` says the stretch is over, in one transaction.
   * Returns how many were deleted; 0 once the generation is gone. Refuses the
   * generation in force (checked inside the transaction).
   */
  deleteGenerationRows(gen: number, spent: () => boolean): number {
    return this.batch(() => {
      if (gen === this.#state().gen) throw new Error(`generation ${gen} is in force`);
      let removed = 0;
      for (;;) {
        let left = DELETE_BATCH_ROWS;
        for (const deleteRows of this.#s.deleteRowsOf) {
          if (left <= 0) break;
          left -= deleteRows.run(gen, left).changes;
        }
        removed += DELETE_BATCH_ROWS - left;
        if (left > 0 || spent()) return removed;
      }
    });
  }

  #state(): { gen: number; version: number } {
    const row = this.#s.state.get();
    if (row === undefined) throw new Error('sync_state is missing (database not migrated)');
    return row;
  }

  /** A person with credentials and entitlements, replacing what a generation has under their ids (deltas). */
  #putPerson(gen: number, p: PersonRecord, at: number, counts: StageCounts): void {
    const rows: StageRow[] = [];
    this.preparePerson(gen, p, at, counts, rows);
    for (const row of rows) this.#upsert(row);
  }

  #upsert(row: StageRow): void {
    this.#s.upsert[row[0]].run(...row[1]);
  }

  #upsertRow(row: StageRow | null): void {
    if (row !== null) this.#upsert(row);
  }

  #credentialRow(gen: number, personId: string, c: CredentialRecord, counts: StageCounts): StageRow | null {
    let lookup: Buffer;
    let secret: Buffer | null = null;
    try {
      lookup = this.#hasher.lookupOf(c.kind, c.value);
      // A tap key is the one value kept, sealed under a key derived from the site key.
      if (c.kind === 'ble_key') secret = this.#vault.seal(parseBleKey(c.value).key, lookup);
    } catch (error) {
      if (!(error instanceof CredentialFormatError)) throw error;
      // Named by id only: the value may be a PIN.
      counts.rejectedCredentials.push({ id: c.id, reason: error.message });
      return null;
    }
    counts.credentials++;
    return ['credential', [gen, c.id, personId, c.kind, lookup, instant(c.validFrom), instant(c.validTo), c.status, secret]];
  }

  #entitlementRow(gen: number, personId: string, e: EntitlementRecord, counts: StageCounts): StageRow {
    counts.entitlements++;
    return [
      'entitlement',
      [gen, e.id, personId, e.kind, e.name, instant(e.validFrom), instant(e.validTo), e.minutesLeft, e.monthlyHours, e.monthlyCheckins, e.doors === null ? null : JSON.stringify(e.doors)],
    ];
  }

  #applyOp(gen: number, op: DeltaOp, at: number, counts: StageCounts): void {
    const removed = (changes: number, what: string, id: string): void => {
      if (changes === 0) throw new DeltaConflictError(`no ${what} "${id}" in the cache`);
    };
    switch (op.op) {
      case 'person.upsert':
        // The person's full state: what is not in the record goes.
        this.#s.clearCredentialsOf.run(gen, op.person.id);
        this.#s.clearEntitlementsOf.run(gen, op.person.id);
        this.#putPerson(gen, op.person, at, counts);
        return;
      case 'person.delete':
        return removed(this.#s.deletePerson.run(gen, op.id).changes, 'person', op.id);
      case 'credential.upsert':
        this.#requirePerson(gen, op.personId);
        return this.#upsertRow(this.#credentialRow(gen, op.personId, op.credential, counts));
      case 'credential.delete':
        return removed(this.#s.deleteCredential.run(gen, op.id).changes, 'credential', op.id);
      case 'entitlement.upsert':
        this.#requirePerson(gen, op.personId);
        return this.#upsert(this.#entitlementRow(gen, op.personId, op.entitlement, counts));
      case 'entitlement.delete':
        return removed(this.#s.deleteEntitlement.run(gen, op.id).changes, 'entitlement', op.id);
      case 'door.upsert':
        return this.#upsert(this.prepareDoor(gen, op.door, counts));
      case 'door.delete':
        return removed(this.#s.deleteDoor.run(gen, op.id).changes, 'door', op.id);
      case 'schedule.upsert':
        return this.#upsert(this.prepareSchedule(gen, op.schedule, counts));
      case 'schedule.delete':
        return removed(this.#s.deleteSchedule.run(gen, op.id).changes, 'schedule', op.id);
      case 'settings.set':
        return this.#upsert(this.prepareSettings(gen, op.settings));
    }
  }

  #requirePerson(gen: number, personId: string): void {
    if ((this.#s.personExists.get(gen, personId)?.n ?? 0) === 0) throw new DeltaConflictError(`no person "${personId}" in the cache`);
  }
}

function isConstraintError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_CONSTRAINT');
}

/** SQLite's constraint message names tables and columns, never values. */
function constraintMessage(error: Error & { code: string }): string {
  return `${error.code}: ${error.message}`.slice(0, 200);
}
