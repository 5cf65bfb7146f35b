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
}

interface OpenRow {
  id: string;
  person_id: string;
  person_name: string | null;
  opened_at: number;
  source: string;
  reader_id: string | null;
  door_id: string | null;
}

export class CheckinSessions {
  readonly #stmts;

  constructor(db: Db) {
    this.#stmts = {
      open: db.prepare(
        `INSERT INTO checkin_sessions (id, person_id, opened_at, source, reader_id, door_id, open_event_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      close: db.prepare(
        `UPDATE checkin_sessions SET closed_at = ?, close_event_id = ? WHERE id = ? AND closed_at IS NULL`,
      ),
      list: db.prepare<[], OpenRow>(`
        SELECT s.id, s.person_id, p.name AS person_name, s.opened_at, s.source, s.reader_id, s.door_id
        FROM checkin_sessions s LEFT JOIN people p ON p.id = s.person_id
        WHERE s.closed_at IS NULL ORDER BY s.opened_at`),
      count: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM checkin_sessions WHERE closed_at IS NULL`),
    };
  }

  open(session: { id: string; personId: string; at: number; source: string; readerId: string | null; doorId: string | null; eventId: string }): void {
    this.#stmts.open.run(session.id, session.personId, session.at, session.source, session.readerId, session.doorId, session.eventId);
  }

  /** Returns false when the session was already closed (nothing changes). */
  close(sessionId: string, at: number, eventId: string): boolean {
    return this.#stmts.close.run(at, eventId, sessionId).changes === 1;
  }

  openSessions(): OpenSession[] {
    return this.#stmts.list.all().map((r) => ({
      id: r.id,
      personId: r.person_id,
      personName: r.person_name ?? '(removed)',
      openedAt: r.opened_at,
      source: r.source,
      readerId: r.reader_id,
      doorId: r.door_id,
    }));
  }

  occupancy(): number {
    return this.#stmts.count.get()?.n ?? 0;
  }
}
