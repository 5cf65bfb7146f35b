/**
 * Moves journal rows to the broker: only while the link is connected, first
 * sends in seq order, at most `maxInflight` unacknowledged, and a row is
 * marked published only after its PUBACK (at-least-once; the cloud dedupes by
 * eventId).
 *
 * Who resends. This drainer owns the queue completely: the journal is the
 * durable copy, OutboxWindow decides what goes out on which connection, and
 * MqttLink keeps mqtt.js's own outgoing store empty between connections (see
 * the header of mqtt-link.ts for the mqtt.js behaviour this defeats: on every
 * reconnect, clean session or not, mqtt.js replays all unacknowledged QoS 1
 * packets it still holds). After a reconnect the rows that were in flight are
 * sent again, once, by this drainer, ahead of newer rows. A row can therefore
 * reach the broker once per connection it was in flight on, never twice on
 * one connection.
 *
 * Cloud acks. When the journal's delivery mode is `cloud-ack`, a PUBACK
 * only sets published_at: the row stays pending until the cloud acknowledges
 * it. On every new connection the window is rewound, so every row still
 * pending (PUBACKed or not) is sent again, once, in seq order, before newer
 * rows. Within one connection a PUBACKed row is never sent again.
 *
 * Redelivery on request. `gatehouse outbox retry` starts a new round on
 * the current connection, as a reconnect would: every row not yet delivered
 * (in cloud-ack mode also the ones the broker acknowledged but the cloud has
 * not) is sent again, once, in seq order. It is the technician's tool for a
 * cloud consumer that lost events while the broker connection stayed up;
 * rows in flight at that moment may reach the broker twice, which the cloud
 * deduplicates by event id.
 *
 * Costs, and the door's priority. Everything here runs on the event loop
 * that also carries card reads to the relay, so no step may hold it for
 * long. PUBACKed rows are marked published on a timer (`markFlushMs` after
 * the first unmarked PUBACK), not per tick, in transactions of at most
 * `markSliceRows` rows, one per loop turn (a serial read arriving meanwhile
 * is served between two of them), without an fsync (Journal.markPublished).
 * A mark lost to a crash or power cut before it is written only means the
 * row is published again after the restart, and the cloud drops the
 * duplicate by eventId; a row is never marked before its PUBACK. One pump
 * turn sends at most one window (`maxInflight`). Journal.recordAttempt is
 * not called per send (it would be another write each); `resent` counts
 * resends instead.
 */
import type pino from 'pino';
import type { Journal, JournalEntry } from '../store/journal.js';
import type { LinkState } from './mqtt-link.js';
import { OutboxWindow } from './outbox-window.js';
import { isPublishableTopic } from './topics.js';

/** What the drainer needs from the link; MqttLink provides it. */
export interface DrainerLink {
  readonly state: LinkState;
  onStateChange(listener: (state: LinkState, previous: LinkState) => void): () => void;
  /** QoS 1, not retained; resolves on PUBACK. */
  publish(topic: string, payload: string): Promise<void>;
}

export interface OutboxDrainerOptions {
  readonly journal: Journal;
  readonly link: DrainerLink;
  readonly logger: pino.Logger;
  /** From MqttConfig.maxInflight. */
  readonly maxInflight: number;
  /** Rows read from the journal per query. */
  readonly batchSize?: number;
  /** Clock for published_at (ms since epoch). */
  readonly now?: () => number;
  /** Delay between the first unmarked PUBACK and writing the marks. */
  readonly markFlushMs?: number;
  /** Rows per mark transaction; each is one short step of the event loop (a few µs a row). */
  readonly markSliceRows?: number;
}

export const DEFAULT_MARK_FLUSH_MS = 250;
export const DEFAULT_MARK_SLICE_ROWS = 256;

export interface DrainerCounters {
  /** PUBLISH packets sent, resends included. */
  readonly published: number;
  /** Rows acknowledged by the broker (each counted once). */
  readonly acked: number;
  /** Sends of a row that an earlier connection had already sent. */
  readonly resent: number;
  /** Rows skipped because their topic can never be published. */
  readonly rejected: number;
  /** Sends awaiting PUBACK on the current connection. */
  readonly inflight: number;
}

export interface DrainerStats extends DrainerCounters {
  /** Journal rows not yet published (a query). */
  readonly pending: number;
  readonly oldestPendingAt: number | null;
}

/** What a redelivery request did. */
export type Redelivery =
  | { readonly started: true; readonly connection: number; readonly pending: number }
  | { readonly started: false; readonly reason: 'not-running' | 'not-connected'; readonly pending: number };

type Counters = { -readonly [K in Exclude<keyof DrainerCounters, 'inflight'>]: number };

export class OutboxDrainer {
  readonly #journal: Journal;
  readonly #link: DrainerLink;
  readonly #log: pino.Logger;
  readonly #window: OutboxWindow<JournalEntry>;
  readonly #batchSize: number;
  readonly #now: () => number;
  readonly #markFlushMs: number;
  readonly #markSliceRows: number;
  readonly #counters: Counters = { published: 0, acked: 0, resent: 0, rejected: 0 };
  /** Acknowledged seqs not yet marked published, in PUBACK order. */
  #toMark: number[] = [];
  #unsubscribe: (() => void)[] = [];
  #running = false;
  /** The journal may hold rows after the window's cursor (set by appends and reconnects). */
  #maybeMore = true;
  #pumpTimer: NodeJS.Immediate | null = null;
  /** Marks wait on this timer, then are written one slice per loop turn (#markSlice). */
  #markTimer: NodeJS.Timeout | null = null;
  #markSlice: NodeJS.Immediate | null = null;
  #retryTimer: NodeJS.Timeout | null = null;

  constructor(options: OutboxDrainerOptions) {
    this.#journal = options.journal;
    this.#link = options.link;
    this.#log = options.logger.child({ component: 'outbox' });
    this.#window = new OutboxWindow<JournalEntry>(options.maxInflight);
    this.#batchSize = options.batchSize ?? Math.max(100, options.maxInflight * 2);
    this.#now = options.now ?? Date.now;
    this.#markFlushMs = options.markFlushMs ?? DEFAULT_MARK_FLUSH_MS;
    this.#markSliceRows = options.markSliceRows ?? DEFAULT_MARK_SLICE_ROWS;
  }

  get counters(): DrainerCounters {
    return { ...this.#counters, inflight: this.#window.inflight };
  }

  stats(): DrainerStats {
    const depth = this.#journal.depth();
    return { ...this.counters, pending: depth.pending, oldestPendingAt: depth.oldestPendingAt };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#unsubscribe = [
      this.#journal.onAppend(() => {
        // Only a wake-up: the row may have been rolled back with its
        // enclosing transaction, so deliverable() stays the source of truth.
        this.#maybeMore = true;
        this.#schedulePump();
      }),
      this.#link.onStateChange((state) => this.#onLinkState(state)),
    ];
    this.#onLinkState(this.#link.state);
  }

  /** Stops sending and writes acknowledged rows; call before MqttLink.stop() and closing the database. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    this.#window.disconnect();
    if (this.#pumpTimer) clearImmediate(this.#pumpTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#pumpTimer = null;
    this.#retryTimer = null;
    this.flush();
  }

  /** Writes every pending published mark now, in one transaction (stop() and a disconnect do; otherwise a timer does). */
  flush(): void {
    this.#cancelMarks();
    this.#writeMarks(this.#toMark.length);
  }

  #scheduleMarks(): void {
    if (this.#markTimer !== null || this.#markSlice !== null) return;
    this.#markTimer = setTimeout(() => {
      this.#markTimer = null;
      this.#writeMarkSlice();
    }, this.#markFlushMs);
  }

  /** One slice now; the rest in later turns, so reads and PUBACKs are served in between. */
  #writeMarkSlice(): void {
    this.#markSlice = null;
    if (this.#writeMarks(this.#markSliceRows) && this.#toMark.length > 0) this.#markSlice = setImmediate(() => this.#writeMarkSlice());
  }

  #cancelMarks(): void {
    if (this.#markTimer !== null) clearTimeout(this.#markTimer);
    if (this.#markSlice !== null) clearImmediate(this.#markSlice);
    this.#markTimer = null;
    this.#markSlice = null;
  }

  /** Marks the oldest `limit` acknowledged rows; false after a journal error (they stay queued and are retried). */
  #writeMarks(limit: number): boolean {
    if (this.#toMark.length === 0) return true;
    const seqs = this.#toMark.length <= limit ? this.#toMark : this.#toMark.slice(0, limit);
    try {
      this.#journal.markPublished(seqs, this.#now());
    } catch (error) {
      // If the process dies before a retry succeeds they are simply published again (the cloud dedupes).
      this.#log.error({ err: error, rows: seqs.length }, 'cannot mark journal rows published; retrying in 1 s');
      this.#retryLater();
      return false;
    }
    this.#toMark = this.#toMark.length === seqs.length ? [] : this.#toMark.slice(seqs.length);
    return true;
  }

  /**
   * Send every undelivered row again now, in seq order, on the current
   * connection (see the header). Also ends a back-off after a journal error.
   * Without a connection nothing is sent: rows go out when the link is back.
   */
  redeliver(): Redelivery {
    const pending = this.#journal.depth().pending;
    if (!this.#running) return { started: false, reason: 'not-running', pending };
    if (this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    this.flush();
    if (!this.#window.connected) return { started: false, reason: 'not-connected', pending };
    this.#window.disconnect();
    if (this.#journal.delivery === 'cloud-ack') this.#window.rewind();
    const connection = this.#window.connect();
    this.#maybeMore = true;
    this.#log.info({ connection, pending }, 'outbox redelivery requested');
    this.#schedulePump();
    return { started: true, connection, pending };
  }

  #onLinkState(state: LinkState): void {
    if (!this.#running) return;
    if (state === 'connected') {
      if (this.#window.connected) this.#window.disconnect();
      if (this.#journal.delivery === 'cloud-ack') this.#window.rewind();
      const epoch = this.#window.connect();
      this.#maybeMore = true;
      this.#log.debug({ connection: epoch, resending: this.#window.unacked }, 'draining outbox');
      this.#schedulePump();
    } else if (this.#window.connected) {
      this.#window.disconnect();
      this.flush();
    }
  }

  #schedulePump(): void {
    if (this.#pumpTimer === null && this.#running) this.#pumpTimer = setImmediate(() => this.#pump());
  }

  #pump(): void {
    this.#pumpTimer = null;
    if (!this.#running) return;
    try {
      for (;;) {
        if (this.#maybeMore && this.#window.wantsRows) {
          const rows = this.#journal.deliverable(this.#window.cursor, this.#batchSize);
          if (rows.length < this.#batchSize) this.#maybeMore = false;
          this.#window.offer(rows);
        }
        const send = this.#window.next();
        if (send === undefined) return;
        this.#send(send.row, send.epoch, send.resend);
      }
    } catch (error) {
      // A journal read failed (disk, lock). Try again later rather than spin.
      this.#log.error({ err: error }, 'cannot read the journal outbox; retrying in 1 s');
      this.#retryLater();
    }
  }

  /** After a journal error: back off instead of spinning on a broken disk. */
  #retryLater(): void {
    if (!this.#running) return;
    this.#retryTimer ??= setTimeout(() => {
      this.#retryTimer = null;
      if (this.#markTimer === null && this.#markSlice === null) this.#writeMarkSlice();
      this.#schedulePump();
    }, 1_000);
  }

  #send(row: JournalEntry, epoch: number, resend: boolean): void {
    if (!isPublishableTopic(row.topic)) {
      // Publishing it would make the broker close the connection, forever.
      this.#window.drop(row.seq);
      this.#counters.rejected += 1;
      this.#log.error({ seq: row.seq, eventId: row.id, topic: row.topic }, 'journal row has an invalid MQTT topic; it stays unpublished');
      return;
    }
    this.#counters.published += 1;
    // After a rewind the window no longer knows earlier sends; published_at does.
    if (resend || row.publishedAt !== null) this.#counters.resent += 1;
    this.#link.publish(row.topic, row.payload).then(
      () => this.#onAck(row.seq, epoch),
      (error: unknown) => this.#onFail(row.seq, epoch, error),
    );
  }

  #onAck(seq: number, epoch: number): void {
    if (!this.#running) return;
    if (this.#window.ack(seq, epoch)) {
      this.#counters.acked += 1;
      this.#toMark.push(seq);
      this.#scheduleMarks();
    }
    this.#schedulePump();
  }

  #onFail(seq: number, epoch: number, error: unknown): void {
    if (!this.#running) return;
    this.#window.fail(seq, epoch);
    this.#log.debug({ seq, connection: epoch, err: error }, 'publish not acknowledged; sent again after reconnect');
    this.#schedulePump();
  }
}
