/**
 * Check-outs the gateway makes on its own: at the site's daily cut-off
 * (everyone still in is checked out, as the platform does), and on request of
 * other channels (Wi-Fi inactivity, a remote command). Each is journaled as a
 * gatehouse.checkout/1 event in the same transaction that closes the session.
 *
 * The cut-off runs on a short timer rather than one timer at the cut-off
 * instant: a gateway that was off or asleep at the cut-off still closes the
 * sessions that should have ended, at the cut-off time, when it comes back.
 */
import { localInstant, siteLocalTime } from '../engine/site-time.js';
import type { CredentialCache } from '../store/cache.js';
import type { Db } from '../store/database.js';
import type { Journal, JournalEntry } from '../store/journal.js';
import type { CheckinSessions, CloseReason, OpenSession } from '../store/sessions.js';
import type { CheckoutEvent } from '../uplink/payloads.js';
import type { Logger } from '../runtime/logger.js';

export interface AutoCheckoutOptions {
  readonly siteId: string;
  readonly gatewayId: string;
  readonly timezone: string;
  readonly topic: string;
  readonly db: Db;
  readonly cache: CredentialCache;
  readonly sessions: CheckinSessions;
  readonly journal: Journal;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly checkEveryMs?: number;
}

/** The latest daily cut-off instant at or before `at`, or null when the site has none. */
export function lastCutoff(at: number, cutoff: string | null, timezone: string): number | null {
  if (cutoff === null) return null;
  const minutes = Number(cutoff.slice(0, 2)) * 60 + Number(cutoff.slice(3, 5));
  const local = siteLocalTime(at, timezone);
  const [y, m, d] = local.date.split('-').map(Number) as [number, number, number];
  const today = localInstant(y, m, d, minutes, timezone);
  if (today <= at) return today;
  const yesterday = siteLocalTime(local.dayStart - 1, timezone);
  const [py, pm, pd] = yesterday.date.split('-').map(Number) as [number, number, number];
  return localInstant(py, pm, pd, minutes, timezone);
}

export class AutoCheckout {
  readonly #o: AutoCheckoutOptions;
  readonly #now: () => number;
  readonly #close;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: AutoCheckoutOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#close = options.db.transaction((session: OpenSession, reason: CloseReason, at: number): JournalEntry | null => {
      const entry = options.journal.append('checkout', options.topic, at, (stamp): CheckoutEvent => ({
        schema: 'gatehouse.checkout/1',
        eventId: stamp.eventId,
        bootId: stamp.bootId,
        seq: stamp.seq,
        ts: new Date(at).toISOString(),
        siteId: options.siteId,
        gatewayId: options.gatewayId,
        person: { id: session.personId },
        sessionId: session.id,
        openedAt: new Date(session.openedAt).toISOString(),
        reason: reason === 'checkout' ? 'remote' : reason,
      }));
      if (!options.sessions.close(session.id, at, entry.id, reason)) {
        // Closed meanwhile by a read: no check-out to report.
        throw new AlreadyClosed();
      }
      options.sessions.leaveAllAreas(session.personId, at);
      return entry;
    });
  }

  start(): void {
    this.runCutoff();
    this.#timer = setInterval(() => this.runCutoff(), this.#o.checkEveryMs ?? 30_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Close every session opened before the latest cut-off. Returns how many were closed. */
  runCutoff(at = this.#now()): number {
    let closed = 0;
    try {
      const cutoffAt = lastCutoff(at, this.#o.cache.settings()?.dailyCutoff ?? null, this.#o.timezone);
      if (cutoffAt === null) return 0;
      for (const session of this.#o.sessions.openBefore(cutoffAt)) {
        if (this.checkOut(session, 'daily_cutoff', cutoffAt) !== null) closed++;
      }
      if (closed > 0) this.#o.logger.info({ closed, cutoff: new Date(cutoffAt).toISOString() }, 'daily cut-off: checked out everyone still in');
    } catch (error) {
      this.#o.logger.error({ err: error }, 'daily cut-off failed; retried on the next tick');
    }
    return closed;
  }

  /** Check one session out for a reason of the gateway's. Null when it was already closed. */
  checkOut(session: OpenSession, reason: Exclude<CloseReason, 'checkout'> | 'checkout', at = this.#now()): JournalEntry | null {
    try {
      return this.#close(session, reason, at);
    } catch (error) {
      if (error instanceof AlreadyClosed) return null;
      throw error;
    }
  }
}

class AlreadyClosed extends Error {}
