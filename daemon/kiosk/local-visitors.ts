/**
 * Visitors registered at a kiosk, before the cloud knows them. They live in
 * their own table (not in a cache generation), so no sync removes them, and
 * they are decided on facts built here: a visitor token that the site's
 * settings size, started by the first check-in like any other token.
 */
import type { Candidate, VisitorTokenPolicy } from '../engine/types.js';
import type { Db } from '../store/database.js';
import type { CheckinSessions } from '../store/sessions.js';

export interface LocalVisitor {
  readonly id: string;
  readonly name: string;
  readonly hostId: string;
  readonly kioskId: string;
  readonly registeredAt: number;
  /** End of the window in which the token may start (registration + the site's token duration). */
  readonly validTo: number;
}

interface VisitorRow {
  id: string;
  name: string;
  host_id: string;
  kiosk_id: string;
  registered_at: number;
  valid_to: number;
}

const toVisitor = (r: VisitorRow): LocalVisitor => ({
  id: r.id,
  name: r.name,
  hostId: r.host_id,
  kioskId: r.kiosk_id,
  registeredAt: r.registered_at,
  validTo: r.valid_to,
});

export const tokenIdOf = (visitorId: string): string => `${visitorId}:token`;

export class LocalVisitors {
  readonly #stmts;
  readonly #sessions: CheckinSessions;

  constructor(db: Db, sessions: CheckinSessions) {
    this.#sessions = sessions;
    this.#stmts = {
      insert: db.prepare(
        `INSERT INTO kiosk_visitors (id, name, email_lookup, host_id, kiosk_id, registered_at, valid_to, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      byEmail: db.prepare<[Buffer, number], VisitorRow>(`
        SELECT id, name, host_id, kiosk_id, registered_at, valid_to FROM kiosk_visitors
        WHERE email_lookup = ? AND valid_to > ? ORDER BY registered_at DESC LIMIT 1`),
      byId: db.prepare<[string], VisitorRow>(`SELECT id, name, host_id, kiosk_id, registered_at, valid_to FROM kiosk_visitors WHERE id = ?`),
      started: db.prepare<[string], { started_at: number }>(`SELECT started_at FROM entitlement_starts WHERE entitlement_id = ?`),
    };
  }

  add(visitor: LocalVisitor, emailLookup: Buffer, eventId: string): void {
    this.#stmts.insert.run(visitor.id, visitor.name, emailLookup, visitor.hostId, visitor.kioskId, visitor.registeredAt, visitor.validTo, eventId);
  }

  /** The visitor registered with this email whose token window is still open, if any. */
  activeByEmail(emailLookup: Buffer, at: number): LocalVisitor | null {
    const row = this.#stmts.byEmail.get(emailLookup, at);
    return row === undefined ? null : toVisitor(row);
  }

  byId(id: string): LocalVisitor | null {
    const row = this.#stmts.byId.get(id);
    return row === undefined ? null : toVisitor(row);
  }

  /** The window a new registration gets: the site's token duration from now. */
  static windowOf(at: number, tokens: VisitorTokenPolicy): number {
    return at + tokens.minutes * 60_000;
  }

  /** What the engine needs to decide a check-in of this visitor. */
  candidate(v: LocalVisitor): Candidate {
    const tokenId = tokenIdOf(v.id);
    const session = this.#sessions.openSessionOf(v.id);
    return {
      person: {
        id: v.id,
        kind: 'visitor',
        status: 'active',
        alwaysAllowed: false,
        extendedUnlock: false,
        lockdownOverride: false,
        networkCheckin: false,
        // Registering on the spot is arriving: an expected-arrival token starts now.
        expectedArrival: v.registeredAt,
      },
      credential: { id: `${v.id}:registration`, kind: 'visitor_code', status: 'active', validFrom: v.registeredAt, validTo: null },
      entitlements: [
        {
          id: tokenId,
          kind: 'visitor_token',
          validFrom: v.registeredAt,
          validTo: v.validTo,
          minutesLeft: null,
          monthlyHours: null,
          monthlyCheckins: null,
          doors: null,
          startedAt: this.#stmts.started.get(tokenId)?.started_at ?? null,
        },
      ],
      openSession: session === null ? null : { id: session.id, openedAt: session.openedAt },
      usage: { checkins: 0, minutes: 0 },
      areaPresence: null,
    };
  }
}
