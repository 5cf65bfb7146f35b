/**
 * Bookkeeping of the outbox drainer, free of I/O so it can be tested with
 * random schedules: which rows are loaded, which are in flight on the current
 * connection, and which must be sent (again) next.
 *
 * Rules it enforces:
 *   - rows are first sent in ascending seq order, and every connection sends
 *     in ascending seq order (so never one row twice on a connection);
 *   - at most `maxInflight` sends of the current connection await a PUBACK;
 *   - a row leaves the window only when acknowledged (or dropped as
 *     unpublishable); a row unacknowledged when its connection ends is sent
 *     again, first, on the next connection.
 *
 * Connections are numbered (epochs). A PUBACK or failure carries the epoch it
 * was sent in, so a late answer from an old connection cannot free a slot of
 * the current one. A late PUBACK still counts as delivery: it is real.
 */

export interface WindowRow {
  readonly seq: number;
}

export interface Send<T extends WindowRow> {
  readonly row: T;
  /** The connection the row is sent on; pass it back to ack() or fail(). */
  readonly epoch: number;
  /** The row was already sent on an earlier connection. */
  readonly resend: boolean;
}

interface Slot<T> {
  readonly row: T;
  /** Epoch of the last send; 0 = never sent. */
  sentIn: number;
}

export class OutboxWindow<T extends WindowRow> {
  readonly #maxInflight: number;
  /** Loaded and unacknowledged rows; Map order is ascending seq because offer() only appends. */
  readonly #slots = new Map<number, Slot<T>>();
  readonly #inflight = new Set<number>();
  /** Rows still to send on the current connection, ascending; consumed from #head. */
  #queue: Slot<T>[] = [];
  #head = 0;
  #epoch = 0;
  #connected = false;
  #cursor: number;

  constructor(maxInflight: number, cursor = 0) {
    if (!Number.isInteger(maxInflight) || maxInflight < 1) throw new RangeError('maxInflight must be a positive integer');
    this.#maxInflight = maxInflight;
    this.#cursor = cursor;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Highest seq ever offered: load rows after it. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Sends on the current connection awaiting a PUBACK. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Loaded rows not yet acknowledged (in flight, queued, or waiting for a new connection). */
  get unacked(): number {
    return this.#slots.size;
  }

  /** Whether loading more rows could let next() return something now. */
  get wantsRows(): boolean {
    return this.#connected && this.#inflight.size < this.#maxInflight && !this.#hasQueued();
  }

  /** A new connection: everything unacknowledged becomes sendable again, in seq order. */
  connect(): number {
    this.#epoch += 1;
    this.#connected = true;
    this.#inflight.clear();
    this.#queue = [...this.#slots.values()];
    this.#head = 0;
    return this.#epoch;
  }

  disconnect(): void {
    this.#connected = false;
    this.#inflight.clear();
    this.#queue = [];
    this.#head = 0;
  }

  /**
   * Forget every loaded row and load from the start of the journal again,
   * while disconnected. For delivery that completes only with the cloud's
   * application-level ack: a row the broker acknowledged on an earlier
   * connection has left the window but is still pending in the journal, and
   * must be offered (and sent, once) on the next connection. Epochs keep
   * counting, so a late answer from an old connection still cannot free a
   * slot of a newer one.
   */
  rewind(): void {
    if (this.#connected) throw new Error('rewind() only between connections');
    this.#slots.clear();
    this.#inflight.clear();
    this.#queue = [];
    this.#head = 0;
    this.#cursor = 0;
  }

  /** Rows loaded from the journal, ascending; rows at or below the cursor are ignored. */
  offer(rows: readonly T[]): void {
    for (const row of rows) {
      if (row.seq <= this.#cursor) continue;
      this.#cursor = row.seq;
      const slot: Slot<T> = { row, sentIn: 0 };
      this.#slots.set(row.seq, slot);
      if (this.#connected) this.#queue.push(slot);
    }
  }

  /** The next row to send, already counted as in flight; undefined when the window is full or idle. */
  next(): Send<T> | undefined {
    if (!this.#connected || this.#inflight.size >= this.#maxInflight) return undefined;
    const slot = this.#shift();
    if (slot === undefined) return undefined;
    const resend = slot.sentIn !== 0;
    slot.sentIn = this.#epoch;
    this.#inflight.add(slot.row.seq);
    return { row: slot.row, epoch: this.#epoch, resend };
  }

  /** A PUBACK. Returns true the first time a row is acknowledged: mark it published then. */
  ack(seq: number, epoch: number): boolean {
    if (epoch === this.#epoch) this.#inflight.delete(seq);
    // The slot goes; a queued copy of it is skipped by #shift().
    return this.#slots.delete(seq);
  }

  /**
   * A send that ended without PUBACK (connection lost, publish refused). The
   * row stays unacknowledged but is not sent again on the same connection,
   * where it may already have reached the broker.
   */
  fail(seq: number, epoch: number): void {
    if (epoch === this.#epoch) this.#inflight.delete(seq);
  }

  /** Forget a row that can never be published; it stays pending in the journal. */
  drop(seq: number): void {
    this.#inflight.delete(seq);
    this.#slots.delete(seq);
  }

  #hasQueued(): boolean {
    while (this.#head < this.#queue.length) {
      const slot = this.#queue[this.#head];
      if (slot !== undefined && this.#slots.get(slot.row.seq) === slot) return true;
      this.#head += 1;
    }
    return false;
  }

  #shift(): Slot<T> | undefined {
    while (this.#head < this.#queue.length) {
      const slot = this.#queue[this.#head];
      this.#head += 1;
      // Skip rows acknowledged (late) or dropped since they were queued.
      if (slot !== undefined && this.#slots.get(slot.row.seq) === slot) {
        this.#compact();
        return slot;
      }
    }
    this.#compact();
    return undefined;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
