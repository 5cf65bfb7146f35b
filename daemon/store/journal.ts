/**
 * The event journal, which is also the MQTT outbox.
 *
 * Every decision is appended here (committed, fsynced) before anything tries
 * to publish it. A row counts as delivered only once published_at is set,
 * which the uplink does when the broker acknowledges it. Delivered rows stay
 * for the retention period as the local audit trail, then are pruned;
 * undelivered rows are never pruned.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Db } from './database.js';

export interface JournalEntry {
  readonly seq: number;
  readonly id: string;
  readonly bootId: string;
  readonly type: string;
  readonly topic: string;
  /** The JSON text published as the MQTT payload. */
  readonly payload: string;
  readonly createdAt: number;
  readonly attempts: number;
  readonly publishedAt: number | null;
}

/** What a producer knows about its event once the journal has numbered it. */
export interface EventStamp {
  readonly eventId: string;
  readonly seq: number;
  readonly bootId: string;
}

interface Row {
  seq: number;
  id: string;
  boot_id: string;
  type: string;
  topic: string;
  payload: string;
  created_at: number;
  attempts: number;
  published_at: number | null;
}

const toEntry = (r: Row): JournalEntry => ({
  seq: r.seq,
  id: r.id,
  bootId: r.boot_id,
  type: r.type,
  topic: r.topic,
  payload: r.payload,
  createdAt: r.created_at,
  attempts: r.attempts,
  publishedAt: r.published_at,
});

export class Journal {
  readonly #bootId: string;
  readonly #listeners = new Set<(entry: JournalEntry) => void>();
  readonly #stmts;
  readonly #appendTx;
  readonly #markTx;

  constructor(db: Db, bootId: string) {
    this.#bootId = bootId;
    this.#stmts = {
      lastSeq: db.prepare<[], { seq: number }>(`SELECT seq FROM sqlite_sequence WHERE name = 'journal'`),
      insert: db.prepare(
        `INSERT INTO journal (seq, id, boot_id, type, topic, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      pending: db.prepare<[number, number], Row>(
        `SELECT * FROM journal WHERE published_at IS NULL AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      markPublished: db.prepare(`UPDATE journal SET published_at = ? WHERE seq = ? AND published_at IS NULL`),
      attempt: db.prepare(`UPDATE journal SET attempts = attempts + 1 WHERE seq = ?`),
      depth: db.prepare<[], { n: number; oldest: number | null }>(
        `SELECT count(*) AS n, min(created_at) AS oldest FROM journal WHERE published_at IS NULL`,
      ),
      recent: db.prepare<[number], Row>(`SELECT * FROM journal ORDER BY seq DESC LIMIT ?`),
      bySeq: db.prepare<[number], Row>(`SELECT * FROM journal WHERE seq = ?`),
      prune: db.prepare(`DELETE FROM journal WHERE published_at IS NOT NULL AND created_at < ?`),
    };
    this.#appendTx = db.transaction(
      (type: string, topic: string, at: number, build: (stamp: EventStamp) => unknown): JournalEntry => {
        const seq = (this.#stmts.lastSeq.get()?.seq ?? 0) + 1;
        const stamp: EventStamp = { eventId: uuidv7(), seq, bootId: this.#bootId };
        const payload = JSON.stringify(build(stamp));
        this.#stmts.insert.run(seq, stamp.eventId, this.#bootId, type, topic, payload, at);
        return {
          seq,
          id: stamp.eventId,
          bootId: this.#bootId,
          type,
          topic,
          payload,
          createdAt: at,
          attempts: 0,
          publishedAt: null,
        };
      },
    );
    this.#markTx = db.transaction((seqs: readonly number[], at: number) => {
      for (const seq of seqs) this.#stmts.markPublished.run(at, seq);
    });
  }

  get bootId(): string {
    return this.#bootId;
  }

  /**
   * Number, stamp and durably store one event. `build` receives the event id,
   * sequence number and boot id so they are part of the payload itself.
   * Returns only after the row is committed.
   */
  append(type: string, topic: string, at: number, build: (stamp: EventStamp) => unknown): JournalEntry {
    const entry = this.#appendTx(type, topic, at, build);
    // Notify after the caller's (possibly enclosing) transaction has finished:
    // a listener must never publish a row that is then rolled back.
    queueMicrotask(() => {
      for (const listener of this.#listeners) listener(entry);
    });
    return entry;
  }

  /**
   * Called after each append, once the appending code has returned (a
   * microtask later). A wake-up signal for the uplink: read pending() for the
   * truth, since an enclosing transaction may have rolled the row back.
   */
  onAppend(listener: (entry: JournalEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Undelivered entries after `afterSeq`, oldest first. */
  pending(afterSeq = 0, limit = 100): JournalEntry[] {
    return this.#stmts.pending.all(afterSeq, limit).map(toEntry);
  }

  /** Mark entries delivered (the broker acknowledged them), in one transaction. */
  markPublished(seqs: readonly number[], at: number): void {
    if (seqs.length > 0) this.#markTx(seqs, at);
  }

  recordAttempt(seq: number): void {
    this.#stmts.attempt.run(seq);
  }

  /** Undelivered count and the creation time of the oldest undelivered entry. */
  depth(): { pending: number; oldestPendingAt: number | null } {
    const row = this.#stmts.depth.get();
    return { pending: row?.n ?? 0, oldestPendingAt: row?.oldest ?? null };
  }

  get(seq: number): JournalEntry | undefined {
    const row = this.#stmts.bySeq.get(seq);
    return row ? toEntry(row) : undefined;
  }

  /** Most recent entries, newest first (status, tail). */
  recent(limit: number): JournalEntry[] {
    return this.#stmts.recent.all(limit).map(toEntry);
  }

  /** Drop delivered entries created before `before`; undelivered ones always stay. */
  prune(before: number): number {
    return this.#stmts.prune.run(before).changes;
  }
}
