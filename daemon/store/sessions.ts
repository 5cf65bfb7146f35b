/**
 * Check-in sessions: who is on site now. A session opens on a check-in and
 * closes on a check-out; the unique partial index guarantees one open session
 * per person.
 */
import type { Db } from './database.js';

export interface OpenSession {
  readonly id: string;
  readonly personId: string;
  readonly personName: string;
  readonly openedAt: number;
  readonly source: string;
  readonly readerId: string | null;
  readonly doorId: string | null;
  readonly area: string | null;
}

/** Why a session ended: a check-out by the person, or one the gateway made. */
export type CloseReason = 'checkout' | 'daily_cutoff' | 'inactivity' | 'remote';

interface OpenRow {
  id: string;
  person_id: string;
  person_name: string | null;
  opened_at: number;
  source: string;
  reader_id: string | null;
  door_id: string | null;
  area: string | null;
}

/**
 * An open session's columns, with the person's name from the cache in force.
 * A correlated subquery, not a LEFT JOIN on the people view: SQLite cannot
 * flatten a view that joins (cache rows of the generation in force) into
 * the right side of a LEFT JOIN, so it materialized all of it, 100,000
 * people, at every call: 44 ms for one person's session, 77 ms for the list
 * in `status`, on the event loop. The subquery is one primary-key lookup.
 */
const OPEN_COLUMNS = `s.id, s.person_id, (SELECT p.name FROM people p WHERE p.id = s.person_id) AS person_name,
        s.opened_at, s.source, s.reader_id, s.door_id, s.area`;

/** The queries of open sessions (exported for the test that checks their plans). */
export const OPEN_SESSION_SQL = {
  list: `SELECT ${OPEN_COLUMNS} FROM checkin_sessions s WHERE s.closed_at IS NULL ORDER BY s.opened_at`,
  openOf: `SELECT ${OPEN_COLUMNS} FROM checkin_sessions s WHERE s.person_id = ? AND s.closed_at IS NULL`,
  openBefore: `SELECT ${OPEN_COLUMNS} FROM checkin_sessions s WHERE s.closed_at IS NULL AND s.opened_at < ? ORDER BY s.opened_at`,
} as const;

export class CheckinSessions {
  readonly #stmts;

  constructor(db: Db) {
    this.#stmts = {
      open: db.prepare(
        `INSERT INTO checkin_sessions (id, person_id, opened_at, source, reader_id, door_id, open_event_id, entitlement_id, area)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      close: db.prepare(
        `UPDATE checkin_sessions SET closed_at = ?, close_event_id = ?, close_reason = ? WHERE id = ? AND closed_at IS NULL`,
      ),
      list: db.prepare<[], OpenRow>(OPEN_SESSION_SQL.list),
      openOf: db.prepare<[string], OpenRow>(OPEN_SESSION_SQL.openOf),
      openBefore: db.prepare<[number], OpenRow>(OPEN_SESSION_SQL.openBefore),
      count: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM checkin_sessions WHERE closed_at IS NULL`),
      byArea: db.prepare<[], { area: string | null; n: number }>(
        `SELECT area, count(*) AS n FROM checkin_sessions WHERE closed_at IS NULL GROUP BY area ORDER BY area`,
      ),
      startEntitlement: db.prepare(
        `INSERT INTO entitlement_starts (entitlement_id, person_id, started_at, event_id) VALUES (?, ?, ?, ?) ON CONFLICT (entitlement_id) DO NOTHING`,
      ),
      setPresence: db.prepare(
        `INSERT INTO area_presence (person_id, area, inside, changed_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (person_id, area) DO UPDATE SET inside = excluded.inside, changed_at = excluded.changed_at`,
      ),
      leaveAllAreas: db.prepare(`UPDATE area_presence SET inside = 0, changed_at = ? WHERE person_id = ? AND inside = 1`),
      shiftStarts: db.prepare(`UPDATE entitlement_starts SET started_at = started_at + ? WHERE started_at + ? <= ?`),
    };
  }

  open(session: {
    id: string;
    personId: string;
    at: number;
    source: string;
    readerId: string | null;
    doorId: string | null;
    eventId: string;
    entitlementId?: string | null;
    area?: string | null;
  }): void {
    this.#stmts.open.run(
      session.id,
      session.personId,
      session.at,
      session.source,
      session.readerId,
      session.doorId,
      session.eventId,
      session.entitlementId ?? null,
      session.area ?? null,
    );
  }

  /** Returns false when the session was already closed (nothing changes). */
  close(sessionId: string, at: number, eventId: string, reason: CloseReason = 'checkout'): boolean {
    return this.#stmts.close.run(at, eventId, reason, sessionId).changes === 1;
  }

  /** The person's open session, or null. */
  openSessionOf(personId: string): OpenSession | null {
    const r = this.#stmts.openOf.get(personId);
    return r === undefined ? null : toSession(r);
  }

  /** Sessions opened before an instant and still open (the daily cut-off closes them). */
  openBefore(at: number): OpenSession[] {
    return this.#stmts.openBefore.all(at).map(toSession);
  }

  /** Record the first use of a visitor token or day pass; the first record wins. */
  startEntitlement(entitlementId: string, personId: string, at: number, eventId: string): void {
    this.#stmts.startEntitlement.run(entitlementId, personId, at, eventId);
  }

  /** Anti-passback: the person went into (or out of) an area. */
  setPresence(personId: string, area: string, inside: boolean, at: number): void {
    this.#stmts.setPresence.run(personId, area, inside ? 1 : 0, at);
  }

  /** A gateway-made check-out (cut-off, inactivity) also ends presence in every area. */
  leaveAllAreas(personId: string, at: number): void {
    this.#stmts.leaveAllAreas.run(at, personId);
  }

  /**
   * The wall clock jumped by `deltaMs` (see runtime/clock-watch.ts): move
   * recorded token starts with it, so a running token keeps the time it had
   * left, neither extended nor shortened by the jump.
   */
  shiftEntitlementStarts(deltaMs: number, before: number): number {
    return this.#stmts.shiftStarts.run(deltaMs, deltaMs, before).changes;
  }

  /** Who is in, per area (null = sessions without an area). */
  occupancyByArea(): { area: string | null; count: number }[] {
    return this.#stmts.byArea.all().map((r) => ({ area: r.area, count: r.n }));
  }

  openSessions(): OpenSession[] {
    return this.#stmts.list.all().map(toSession);
  }

  occupancy(): number {
    return this.#stmts.count.get()?.n ?? 0;
  }
}

function toSession(r: OpenRow): OpenSession {
  return {
    id: r.id,
    personId: r.person_id,
    personName: r.person_name ?? '(removed)',
    openedAt: r.opened_at,
    source: r.source,
    readerId: r.reader_id,
    doorId: r.door_id,
    area: r.area,
  };
}
