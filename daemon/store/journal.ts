/**
 * The event journal, which is also the MQTT outbox.
 *
 * Every decision is appended here before anything tries to publish it, and
 * is published only once it is durable: the commit puts the row in the WAL
 * (it survives the process being killed), a flush of the WAL off the event
 * loop (wal-flusher.ts, shared by every append meanwhile) makes it survive a
 * power cut, and only then do the listeners hear of it and deliverable()
 * return it. Without a Durability (an in-memory store, tests) a commit counts
 * as durable. published_at is set when the broker acknowledges a row
 * (PUBACK); acked_at when the cloud confirms it stored it (application-level
 * ack, cloud/event-acks.ts). Which of the two completes delivery is the
 * journal's delivery mode: `puback` without a cloud section (a plain broker
 * is the consumer), `cloud-ack` with one (a PUBACK only proves the broker got
 * it, not that a consumer did). Delivered rows stay for the retention period
 * as the local audit trail, then are pruned; undelivered rows are never pruned.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Db } from './database.js';
import { DepthCounters } from './journal-depth.js';
import type { Durability } from './wal-flusher.js';

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
  readonly ackedAt: number | null;
}

export type DeliveryMode = 'puback' | 'cloud-ack';

export interface JournalOptions {
  /** What completes delivery; see the header. Default puback. */
  readonly delivery?: DeliveryMode;
  /** Makes commits durable (wal-flusher.ts); without it a commit counts as durable. */
  readonly durability?: Durability;
  /** Told when a flush failed; the rows wait (unpublished) and the flush is tried again. */
  readonly onDurabilityError?: (error: unknown, retryInMs: number) => void;
}

/** Append notices kept while flushes fail (see #requestFlush). */
const MAX_AWAITING_NOTICES = 256;
/** After a failed flush: the first retry, doubling up to the last. */
const FLUSH_RETRY_MS = [250, 1_000, 5_000] as const;

export interface JournalDepth {
  /** Rows not yet delivered (per the delivery mode). */
  readonly pending: number;
  readonly oldestPendingAt: number | null;
  /** Undelivered rows the broker has not acknowledged yet. */
  readonly awaitingPuback: number;
  /** Rows the broker acknowledged that wait for the cloud's ack; always 0 in puback mode. */
  readonly awaitingCloudAck: number;
}

export interface AckResult {
  /** Rows newly marked acknowledged. */
  readonly acked: number;
  /** Named event ids that were acknowledged before. */
  readonly alreadyAcked: number;
  /** Named event ids this journal does not hold (never existed, or pruned long after their ack). */
  readonly unknownIds: number;
  /** throughSeq was beyond the last seq this journal assigned, so it was ignored (see acknowledge()). */
  readonly throughSeqAhead: boolean;
}

const DELIVERY_META_KEY = 'journal.delivery';

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
  acked_at: number | null;
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
  ackedAt: r.acked_at,
});

/** [first, last] of each run of consecutive numbers, ascending (PUBACKs come nearly in seq order, so runs are long). */
export function consecutiveRuns(values: readonly number[]): [number, number][] {
  const sorted = [...values].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const value of sorted) {
    const last = runs.at(-1);
    if (last !== undefined && value <= last[1] + 1) last[1] = Math.max(last[1], value);
    else runs.push([value, value]);
  }
  return runs;
}

export class Journal {
  readonly #bootId: string;
  readonly #listeners = new Set<(entry: JournalEntry) => void>();
  readonly #stmts;
  readonly #appendTx;
  readonly #markTx;
  readonly #ackTx;
  readonly #delivery: DeliveryMode;
  readonly #db: Db;
  readonly #depth: DepthCounters;
  readonly #durability: Durability | null;
  readonly #onDurabilityError: (error: unknown, retryInMs: number) => void;
  /** Every committed row through this seq is on disk (see the header). */
  #durableSeq: number;
  /** Appended rows waiting for the flush that makes them durable, oldest first. */
  #awaiting: JournalEntry[] = [];
  #flushRequested = false;
  #flushFailures = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(db: Db, bootId: string, options: JournalOptions = {}) {
    this.#db = db;
    this.#bootId = bootId;
    this.#delivery = options.delivery ?? 'puback';
    // The pending set, the depth and what prune may delete all follow the delivery mode.
    const cloudAck = this.#delivery === 'cloud-ack';
    const undelivered = cloudAck ? 'acked_at IS NULL' : 'published_at IS NULL';
    this.#stmts = {
      lastSeq: db.prepare<[], { seq: number }>(`SELECT seq FROM sqlite_sequence WHERE name = 'journal'`),
      insert: db.prepare(
        `INSERT INTO journal (seq, id, boot_id, type, topic, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      pending: db.prepare<[number, number], Row>(`SELECT * FROM journal WHERE ${undelivered} AND seq > ? ORDER BY seq LIMIT ?`),
      deliverable: db.prepare<[number, number, number], Row>(
        `SELECT * FROM journal WHERE ${undelivered} AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
      ),
      // Split by acked_at so the changes say how many rows left the PUBACK wait (the depth counters).
      markUnacked: db.prepare(`UPDATE journal SET published_at = ? WHERE seq BETWEEN ? AND ? AND published_at IS NULL AND acked_at IS NULL`),
      markAcked: db.prepare(`UPDATE journal SET published_at = ? WHERE seq BETWEEN ? AND ? AND published_at IS NULL AND acked_at IS NOT NULL`),
      attempt: db.prepare(`UPDATE journal SET attempts = attempts + 1 WHERE seq = ?`),
      depth: db.prepare<[], { n: number; unpublished: number }>(
        `SELECT count(*) AS n, total(published_at IS NULL) AS unpublished FROM journal WHERE ${undelivered}`,
      ),
      oldest: db.prepare<[], { created_at: number }>(`SELECT created_at FROM journal WHERE ${undelivered} ORDER BY seq LIMIT 1`),
      recent: db.prepare<[number], Row>(`SELECT * FROM journal ORDER BY seq DESC LIMIT ?`),
      recentOfType: db.prepare<[string, number], Row>(`SELECT * FROM journal WHERE type = ? ORDER BY seq DESC LIMIT ?`),
      bySeq: db.prepare<[number], Row>(`SELECT * FROM journal WHERE seq = ?`),
      prune: db.prepare(`DELETE FROM journal WHERE NOT (${undelivered}) AND created_at < ?`),
      byId: db.prepare<[string], { seq: number; acked_at: number | null }>(`SELECT seq, acked_at FROM journal WHERE id = ?`),
      // Split by published_at, as the marks are by acked_at.
      ackSeqUnpublished: db.prepare(`UPDATE journal SET acked_at = ? WHERE seq = ? AND acked_at IS NULL AND published_at IS NULL`),
      ackSeqPublished: db.prepare(`UPDATE journal SET acked_at = ? WHERE seq = ? AND acked_at IS NULL AND published_at IS NOT NULL`),
      // Not limited to rows with published_at: the cloud can hold an event
      // before its PUBACK reaches the gateway (or when the PUBACK was lost).
      ackThroughUnpublished: db.prepare(`UPDATE journal SET acked_at = ? WHERE seq <= ? AND acked_at IS NULL AND published_at IS NULL`),
      ackThroughPublished: db.prepare(`UPDATE journal SET acked_at = ? WHERE seq <= ? AND acked_at IS NULL AND published_at IS NOT NULL`),
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
          ackedAt: null,
        };
      },
    );
    /** Returns how many rows were marked, and how many of them had no cloud ack. */
    this.#markTx = db.transaction((seqs: readonly number[], at: number): { marked: number; unacked: number } => {
      let marked = 0;
      let unacked = 0;
      for (const [first, last] of consecutiveRuns(seqs)) {
        const changes = this.#stmts.markUnacked.run(at, first, last).changes;
        unacked += changes;
        marked += changes + this.#stmts.markAcked.run(at, first, last).changes;
      }
      return { marked, unacked };
    });
    /** The result, and how many of the rows acknowledged had no PUBACK yet. */
    this.#ackTx = db.transaction(
      (eventIds: readonly string[], throughSeq: number | undefined, at: number): { result: AckResult; unpublished: number } => {
        let acked = 0;
        let unpublished = 0;
        let alreadyAcked = 0;
        let unknownIds = 0;
        for (const id of eventIds) {
          const row = this.#stmts.byId.get(id);
          if (row === undefined) unknownIds += 1;
          else if (row.acked_at !== null) alreadyAcked += 1;
          else {
            const before = this.#stmts.ackSeqUnpublished.run(at, row.seq).changes;
            unpublished += before;
            acked += before + this.#stmts.ackSeqPublished.run(at, row.seq).changes;
          }
        }
        let throughSeqAhead = false;
        if (throughSeq !== undefined) {
          // Beyond the last seq ever assigned: the cloud is acking another
          // database's numbering (this one was replaced), so none of it applies.
          if (throughSeq > (this.#stmts.lastSeq.get()?.seq ?? 0)) throughSeqAhead = true;
          else {
            const before = this.#stmts.ackThroughUnpublished.run(at, throughSeq).changes;
            unpublished += before;
            acked += before + this.#stmts.ackThroughPublished.run(at, throughSeq).changes;
          }
        }
        return { result: { acked, alreadyAcked, unknownIds, throughSeqAhead }, unpublished };
      },
    );
    this.#depth = new DepthCounters({
      count: () => {
        const row = this.#stmts.depth.get();
        return { pending: row?.n ?? 0, awaitingPuback: row?.unpublished ?? 0 };
      },
      holds: (eventId) => this.#stmts.byId.get(eventId) !== undefined,
      inTransaction: () => db.inTransaction,
    });
    this.#switchDelivery(db);
    this.#durability = options.durability ?? null;
    this.#onDurabilityError = options.onDurabilityError ?? (() => undefined);
    // What an earlier run committed may still be only in the page cache (that
    // run was killed): one blocking flush at start, before any of it is sent.
    this.#durability?.flushSync();
    this.#durableSeq = this.#committedSeq();
    // Count now, while the daemon starts and before any reader is open:
    // with a large backlog the first count reads every pending row.
    this.#depth.get();
  }

  /**
   * Rows delivered under one mode must not become undelivered under the
   * other: switching to cloud-ack would otherwise resend the whole retained
   * history. Rows the broker acknowledged before cloud acks were enabled
   * count as acknowledged then.
   */
  #switchDelivery(db: Db): void {
    const previous = db.prepare<[string], { value: string }>(`SELECT value FROM meta WHERE key = ?`).get(DELIVERY_META_KEY)?.value;
    if (previous === this.#delivery) return;
    db.transaction(() => {
      if (this.#delivery === 'cloud-ack') {
        db.prepare(`UPDATE journal SET acked_at = published_at WHERE acked_at IS NULL AND published_at IS NOT NULL`).run();
      }
      db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(
        DELIVERY_META_KEY,
        this.#delivery,
      );
    })();
  }

  get delivery(): DeliveryMode {
    return this.#delivery;
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
    const nested = this.#db.inTransaction;
    const entry = this.#appendTx(type, topic, at, build);
    this.#depth.appended(entry.id, nested);
    // Notify after the caller's (possibly enclosing) transaction has finished:
    // a listener must never publish a row that is then rolled back, nor one a
    // power cut could still take back.
    queueMicrotask(() => {
      this.#confirmAppends();
      if (this.#durability === null) {
        this.#durableSeq = Math.max(this.#durableSeq, entry.seq);
        this.#notify([entry]);
        return;
      }
      this.#awaiting.push(entry);
      if (this.#awaiting.length > MAX_AWAITING_NOTICES) this.#awaiting.shift();
      // One microtask later still: after the notices of every append made in the same turn, so they share the flush.
      if (this.#awaiting.length === 1) queueMicrotask(() => this.#requestFlush());
    });
    return entry;
  }

  /** The highest seq committed (a row rolled back with its transaction gave its seq back). */
  #committedSeq(): number {
    return this.#db.open ? (this.#stmts.lastSeq.get()?.seq ?? 0) : this.#durableSeq;
  }

  /**
   * One flush for every append of this turn of the event loop (they are
   * committed by now: this runs in a microtask after them), and for those
   * that come while it runs, the next one (WalFlusher shares it).
   */
  #requestFlush(): void {
    const durability = this.#durability;
    if (durability === null || this.#closed || this.#flushRequested || this.#retryTimer !== null) return;
    this.#flushRequested = true;
    const through = this.#committedSeq();
    const batch = this.#awaiting;
    this.#awaiting = [];
    durability.flush().then(
      () => {
        this.#flushRequested = false;
        this.#flushFailures = 0;
        this.#durableSeq = Math.max(this.#durableSeq, through);
        this.#notify(batch);
        if (this.#awaiting.length > 0) this.#requestFlush();
      },
      (error: unknown) => {
        this.#flushRequested = false;
        if (this.#closed) return;
        // The rows stay journaled and unpublished; try again, less often while it keeps failing.
        // Notices are wake-ups (deliverable() is the truth): while the disk refuses for hours,
        // keeping the newest few is enough, and memory stays bounded.
        this.#awaiting = [...batch, ...this.#awaiting].slice(-MAX_AWAITING_NOTICES);
        const retryInMs = FLUSH_RETRY_MS[Math.min(this.#flushFailures, FLUSH_RETRY_MS.length - 1)] ?? 5_000;
        this.#flushFailures++;
        this.#onDurabilityError(error, retryInMs);
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = null;
          if (this.#db.open) this.#requestFlush();
        }, retryInMs);
        this.#retryTimer.unref();
      },
    );
  }

  #notify(entries: readonly JournalEntry[]): void {
    for (const entry of entries) for (const listener of this.#listeners) listener(entry);
  }

  /** Every committed row through this seq is durable and may be published. */
  get durableSeq(): number {
    return this.#durableSeq;
  }

  /**
   * The store is closing: no more flushes (closing the database checkpoints
   * the WAL into the file and syncs it, durable rows or not).
   */
  close(): void {
    this.#closed = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /** Counts appends made inside a caller's transaction once it has ended; never throws (the database may be closed by now). */
  #confirmAppends(): void {
    if (!this.#db.open) return;
    try {
      this.#depth.confirm();
    } catch {
      // Whatever went wrong, a fresh count on the next request is right.
      this.#depth.forget();
    }
  }

  /**
   * Called after each append once its row is durable (a microtask later
   * without a Durability). A wake-up signal for the uplink: read
   * deliverable() for the truth, since an enclosing transaction may have
   * rolled the row back.
   */
  onAppend(listener: (entry: JournalEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Undelivered entries after `afterSeq`, oldest first (in cloud-ack mode: published ones too, until acknowledged). */
  pending(afterSeq = 0, limit = 100): JournalEntry[] {
    return this.#stmts.pending.all(afterSeq, limit).map(toEntry);
  }

  /** pending(), but only rows that are durable: what may be published. */
  deliverable(afterSeq = 0, limit = 100): JournalEntry[] {
    return this.#stmts.deliverable.all(afterSeq, this.#durableSeq, limit).map(toEntry);
  }

  /**
   * Record the broker's PUBACK for entries, in one transaction (delivery
   * itself in puback mode). Committed without an fsync (synchronous=NORMAL
   * for this transaction, unless the caller's own transaction encloses it):
   * a mark lost to a power cut only makes the row go out again, and the
   * cloud drops the duplicate by eventId, while an fsync per batch would
   * stall the event loop that carries card reads. WAL keeps the file
   * consistent either way, and the next flush (wal-flusher.ts) makes the
   * mark durable too.
   */
  markPublished(seqs: readonly number[], at: number): void {
    if (seqs.length === 0) return;
    if (this.#db.inTransaction) {
      this.#markTx(seqs, at);
      this.#depth.forget();
      return;
    }
    const synchronous = this.#db.pragma('synchronous', { simple: true }) as number;
    this.#db.pragma('synchronous = NORMAL');
    let changed: { marked: number; unacked: number };
    try {
      changed = this.#markTx(seqs, at);
    } finally {
      this.#db.pragma(`synchronous = ${synchronous}`);
    }
    // puback mode: the PUBACK is the delivery; cloud-ack mode: the row stays pending for the cloud.
    if (this.#delivery === 'puback') this.#depth.delivered(changed.marked, changed.marked, false);
    else this.#depth.delivered(0, changed.unacked, false);
  }

  recordAttempt(seq: number): void {
    this.#stmts.attempt.run(seq);
  }

  /**
   * Undelivered count, the creation time of the first undelivered entry (the
   * one waiting longest: seq is the order of creation) and where the rest
   * wait. Counters, not a count (journal-depth.ts): cheap at any backlog.
   */
  depth(): JournalDepth {
    const { pending, awaitingPuback } = this.#depth.get();
    return {
      pending,
      oldestPendingAt: pending === 0 ? null : (this.#stmts.oldest.get()?.created_at ?? null),
      awaitingPuback,
      awaitingCloudAck: this.#delivery === 'cloud-ack' ? pending - awaitingPuback : 0,
    };
  }

  /**
   * The cloud's application-level ack: by event id (exact) and/or
   * cumulatively through a seq. A throughSeq beyond the last seq this journal
   * assigned is ignored as a whole: the cloud is counting another database
   * (this one was replaced and seq started again at 1). One transaction;
   * idempotent, so a repeated ack changes nothing.
   */
  acknowledge(ack: { readonly eventIds?: readonly string[] | undefined; readonly throughSeq?: number | undefined }, at: number): AckResult {
    const nested = this.#db.inTransaction;
    const { result, unpublished } = this.#ackTx(ack.eventIds ?? [], ack.throughSeq, at);
    // In puback mode an ack changes nothing that is counted (the PUBACK already delivered the row).
    if (this.#delivery === 'cloud-ack') this.#depth.delivered(result.acked, unpublished, nested);
    return result;
  }

  get(seq: number): JournalEntry | undefined {
    const row = this.#stmts.bySeq.get(seq);
    return row ? toEntry(row) : undefined;
  }

  /** Most recent entries, newest first (status, tail). */
  recent(limit: number): JournalEntry[] {
    return this.#stmts.recent.all(limit).map(toEntry);
  }

  /** The newest entries of one type (e.g. 'access'), newest first. */
  recentOfType(type: string, limit: number): JournalEntry[] {
    return this.#stmts.recentOfType.all(type, limit).map(toEntry);
  }

  /** Drop delivered entries created before `before`; undelivered ones always stay. */
  prune(before: number): number {
    // Only delivered rows go, so the counters stay; but an append not yet
    // confirmed must be confirmed while its row is still there to see.
    this.#depth.confirm();
    const nested = this.#db.inTransaction;
    const removed = this.#stmts.prune.run(before).changes;
    if (nested) this.#depth.forget();
    return removed;
  }
}
