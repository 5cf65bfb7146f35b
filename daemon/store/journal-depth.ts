/**
 * The journal's depth as counters, so `status`, the metrics page and the
 * systemd status line can ask for it at any time.
 *
 * Counting the undelivered rows, and how many of them still wait for a
 * PUBACK, reads every one of them: 100-200 ms on the event loop for a
 * 300,000-event backlog, which is exactly when someone watches the status,
 * and every card read arriving meanwhile waits for it. So the count is
 * made once (on the first request) and then moved by every write the
 * Journal makes, which is the only writer of the table.
 *
 * Transactions. A write inside a transaction of the Journal's own commits
 * with it, so it moves the counters at once. An append made inside a
 * caller's transaction (the access pipeline journals and opens the session
 * together) may still be rolled back, so it counts only once it is seen
 * committed: checked a microtask later, when any synchronous transaction
 * around it has ended, and before every read of the counters. Marks and
 * acks inside a caller's transaction (not done by the daemon) drop the
 * counters, and the next request counts again.
 */

export interface DepthCounts {
  /** Undelivered rows (per the delivery mode). */
  readonly pending: number;
  /** Undelivered rows the broker has not acknowledged. */
  readonly awaitingPuback: number;
}

export interface DepthSource {
  /** The full count (reads every undelivered row). */
  count(): DepthCounts;
  /** Whether the row with this event id is in the table, as this connection sees it. */
  holds(eventId: string): boolean;
  /** Whether a transaction is open on the connection (its writes may still roll back). */
  inTransaction(): boolean;
}

/** Past this many unconfirmed appends (a bulk import in one transaction), counting again is cheaper. */
const MAX_UNCONFIRMED = 1_000;

export class DepthCounters {
  readonly #source: DepthSource;
  #pending = 0;
  #awaitingPuback = 0;
  #known = false;
  /** Event ids appended inside a caller's transaction, not yet seen committed. */
  #unconfirmed: string[] = [];

  constructor(source: DepthSource) {
    this.#source = source;
  }

  /** A row was appended; `nested` = inside a caller's transaction. */
  appended(eventId: string, nested: boolean): void {
    if (!this.#known) return;
    if (!nested) {
      this.#pending += 1;
      this.#awaitingPuback += 1;
    } else if (this.#unconfirmed.length < MAX_UNCONFIRMED) {
      this.#unconfirmed.push(eventId);
    } else {
      this.forget();
    }
  }

  /** Rows left the pending set or the PUBACK wait (counts of rows changed, committed unless `nested`). */
  delivered(pending: number, awaitingPuback: number, nested: boolean): void {
    if (!this.#known) return;
    if (nested) {
      this.forget();
      return;
    }
    this.#pending -= pending;
    this.#awaitingPuback -= awaitingPuback;
  }

  /** Counts appends whose transaction has ended in a commit; leaves them while one is still open. */
  confirm(): void {
    if (this.#unconfirmed.length === 0 || this.#source.inTransaction()) return;
    for (const eventId of this.#unconfirmed) {
      if (this.#source.holds(eventId)) {
        this.#pending += 1;
        this.#awaitingPuback += 1;
      }
    }
    this.#unconfirmed = [];
  }

  /** Count again on the next request. */
  forget(): void {
    this.#known = false;
    this.#unconfirmed = [];
  }

  get(): DepthCounts {
    this.confirm();
    if (this.#known) return { pending: this.#pending, awaitingPuback: this.#awaitingPuback };
    const counts = this.#source.count();
    // Inside a transaction the count may include rows that are then rolled back: use it, keep nothing.
    if (!this.#source.inTransaction()) {
      this.#pending = counts.pending;
      this.#awaitingPuback = counts.awaitingPuback;
      this.#known = true;
    }
    return counts;
  }
}
