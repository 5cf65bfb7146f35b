/**
 * The offline cache: people, credentials and entitlements as last synced, and
 * the queries the access path runs on every read.
 *
 * applySnapshot replaces the whole cache in one transaction, so a decision
 * sees either the old data or the new, and a crash mid-apply leaves the old
 * data in force (SQLite rolls the transaction back on the next open).
 */
import type { Db } from './database.js';
import { CredentialFormatError, type CredentialHasher } from './credential-hash.js';
import type { Dataset } from '../sync/dataset.js';
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
  readonly rejectedCredentials: readonly { id: string; reason: string }[];
}

interface CandidateRow {
  person_id: string;
  person_kind: PersonKind;
  person_status: PersonStatus;
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
}

const instant = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

export class CredentialCache {
  readonly #db: Db;
  readonly #hasher: CredentialHasher;
  readonly #stmts;

  constructor(db: Db, hasher: CredentialHasher) {
    this.#db = db;
    this.#hasher = hasher;
    this.#stmts = {
      candidates: db.prepare<[Buffer], CandidateRow>(`
        SELECT p.id AS person_id, p.kind AS person_kind, p.status AS person_status,
               c.id AS credential_id, c.kind AS credential_kind, c.status AS credential_status,
               c.valid_from AS credential_valid_from, c.valid_to AS credential_valid_to,
               s.id AS session_id, s.opened_at AS session_opened_at
        FROM credentials c
        JOIN people p ON p.id = c.person_id
        LEFT JOIN checkin_sessions s ON s.person_id = p.id AND s.closed_at IS NULL
        WHERE c.lookup = ?`),
      entitlements: db.prepare<[string], EntitlementRow>(
        `SELECT id, kind, valid_from, valid_to, minutes_left FROM entitlements WHERE person_id = ?`,
      ),
      getMeta: db.prepare<[string], { value: string }>(`SELECT value FROM meta WHERE key = ?`),
      setMeta: db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
      counts: db.prepare<[], { people: number; credentials: number }>(
        `SELECT (SELECT count(*) FROM people) AS people, (SELECT count(*) FROM credentials) AS credentials`,
      ),
    };
  }

  /**
   * Everything the engine needs about each cached credential matching a lookup
   * key. The namespace is part of the keyed hash, so a card can never match a PIN.
   */
  candidates(lookup: Buffer): Candidate[] {
    const rows = this.#stmts.candidates.all(lookup);
    return rows.map((r) => ({
      person: { id: r.person_id, kind: r.person_kind, status: r.person_status },
      credential: {
        id: r.credential_id,
        kind: r.credential_kind,
        status: r.credential_status,
        validFrom: r.credential_valid_from,
        validTo: r.credential_valid_to,
      },
      entitlements: this.#stmts.entitlements.all(r.person_id).map((e) => ({
        id: e.id,
        kind: e.kind,
        validFrom: e.valid_from,
        validTo: e.valid_to,
        minutesLeft: e.minutes_left,
      })),
      openSession: r.session_id === null ? null : { id: r.session_id, openedAt: r.session_opened_at ?? 0 },
    }));
  }

  version(): number {
    const row = this.#stmts.getMeta.get('cache_version');
    return row === undefined ? 0 : Number(row.value);
  }

  isEmpty(): boolean {
    return this.#stmts.getMeta.get('cache_version') === undefined;
  }

  counts(): { people: number; credentials: number } {
    return this.#stmts.counts.get() ?? { people: 0, credentials: 0 };
  }

  /** Replace the cached people, credentials and entitlements with a full data set, atomically. */
  applySnapshot(dataset: Dataset, at: number): SnapshotResult {
    const rejected: { id: string; reason: string }[] = [];
    let credentials = 0;
    let entitlements = 0;
    const db = this.#db;
    const insertPerson = db.prepare(
      `INSERT INTO people (id, kind, name, status, host_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    const insertCredential = db.prepare(
      `INSERT INTO credentials (id, person_id, kind, lookup, valid_from, valid_to, status) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertEntitlement = db.prepare(
      `INSERT INTO entitlements (id, person_id, kind, name, valid_from, valid_to, minutes_left) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      db.exec(`DELETE FROM entitlements; DELETE FROM credentials; DELETE FROM people;`);
      for (const person of dataset.people) {
        insertPerson.run(person.id, person.kind, person.name, person.status, person.hostId, at);
        for (const c of person.credentials) {
          let lookup: Buffer;
          try {
            lookup = this.#hasher.lookupOf(c.kind, c.value);
          } catch (error) {
            if (!(error instanceof CredentialFormatError)) throw error;
            rejected.push({ id: c.id, reason: error.message });
            continue;
          }
          insertCredential.run(c.id, person.id, c.kind, lookup, instant(c.validFrom), instant(c.validTo), c.status);
          credentials++;
        }
        for (const e of person.entitlements) {
          insertEntitlement.run(e.id, person.id, e.kind, e.name, instant(e.validFrom), instant(e.validTo), e.minutesLeft);
          entitlements++;
        }
      }
      this.#stmts.setMeta.run('cache_version', String(dataset.version));
      this.#stmts.setMeta.run('cache_synced_at', String(at));
    })();
    return { version: dataset.version, people: dataset.people.length, credentials, entitlements, rejectedCredentials: rejected };
  }
}
