/**
 * The staging worker's queue of parts to stage. The engine hands over a few
 * chunks ahead, so the next part is here before the last one is done: parts
 * are prepared (parsed, validated, hashed) in arrival order, and their rows
 * inserted in transactions that run across parts (a commit per transaction,
 * not per part, and no idle time between parts).
 *
 * A transaction ends after WRITE_MS of inserts, or at the next row once the
 * daemon wants to write; in that case it is rolled back (CacheWriter.batch,
 * PreemptedError) and its rows inserted again after the daemon's write, so
 * the daemon never waits for a commit of ours. A part is answered once all
 * its rows are committed, and answers go out in the order the parts came.
 * A refused part (an invalid record, a duplicate id) is answered with the
 * refusal; the parts of its generation after it are not staged (the engine
 * abandons that generation).
 */
import { PreemptedError, type CacheWriter } from '../store/cache-writer.js';
import { unpaced, type Pace } from './cooperative.js';
import { insertRow, InvalidRecordError, preparePart, refusal, type PreparedPart, type StagePartRequest, type StagePartResult } from './snapshot-stager.js';

interface Entry {
  readonly id: number;
  readonly request: StagePartRequest;
  prepared: PreparedPart | null;
  /** Rows inserted (committed, between two transactions). */
  inserted: number;
  result: StagePartResult | null;
}

export interface StageQueueOptions {
  readonly writer: CacheWriter;
  /** The pace of the insert transactions (the staging worker's WritePace). */
  readonly pace: Pace;
  /** Answer a part; called in the order the parts were pushed. */
  readonly answer: (id: number, result: StagePartResult) => void;
  /** Staging failed (the database, or stopping): every part not answered yet gets this error. */
  readonly fail: (id: number, error: unknown) => void;
}

export class StageQueue {
  readonly #o: StageQueueOptions;
  readonly #entries: Entry[] = [];
  /** Generations whose settings are among the parts prepared (committed ones are in the table). */
  readonly #settings = new Set<number>();
  /** Generations with a refused part: their later parts are not staged. */
  readonly #refused = new Set<number>();
  #running: Promise<void> | null = null;

  constructor(options: StageQueueOptions) {
    this.#o = options;
  }

  /** Resolves once the queue is empty. */
  async idle(): Promise<void> {
    await this.#running;
  }

  push(id: number, request: StagePartRequest): void {
    this.#entries.push({ id, request, prepared: null, inserted: 0, result: null });
    this.#running ??= this.#run().finally(() => (this.#running = null));
  }

  async #run(): Promise<void> {
    try {
      while (this.#entries.length > 0) {
        for (const entry of this.#entries) if (entry.prepared === null && entry.result === null) await this.#prepare(entry);
        if (this.#entries.some((e) => e.result === null)) await this.#insert();
        this.#answer();
      }
    } catch (error) {
      for (const entry of this.#entries.splice(0)) this.#o.fail(entry.id, error);
    }
  }

  async #prepare(entry: Entry): Promise<void> {
    const { gen } = entry.request;
    if (this.#refused.has(gen)) {
      entry.result = refusal(`${entry.request.label}: not staged, an earlier part was refused`);
      return;
    }
    const prepared = await preparePart(this.#o.writer, entry.request, this.#settings.has(gen) || this.#o.writer.hasSettings(gen), unpaced);
    if ('invalid' in prepared) return this.#refuse(entry, prepared.invalid);
    if (prepared.settings) this.#settings.add(gen);
    entry.prepared = prepared;
  }

  /** One transaction of inserts, across the prepared parts in order. */
  async #insert(): Promise<void> {
    const { writer, pace } = this.#o;
    await pace.pause();
    const before = this.#entries.map((e) => e.inserted);
    let current: Entry | null = null;
    try {
      writer.batch(() => {
        for (const entry of this.#entries) {
          const part = entry.prepared;
          if (entry.result !== null || part === null) continue;
          current = entry;
          while (entry.inserted < part.rows.length) {
            insertRow(writer, part, entry.inserted);
            entry.inserted++;
            if (pace.spent) return;
          }
        }
      });
    } catch (error) {
      // Rolled back: every part is where it was before this transaction.
      this.#entries.forEach((e, i) => (e.inserted = before[i] ?? 0));
      if (error instanceof PreemptedError) return;
      if (error instanceof InvalidRecordError && current !== null) return this.#refuse(current, `${(current as Entry).request.label}: ${error.message}`);
      throw error;
    }
    for (const entry of this.#entries) {
      if (entry.result === null && entry.prepared !== null && entry.inserted === entry.prepared.rows.length) entry.result = { ok: true, counts: entry.prepared.counts };
    }
  }

  #refuse(entry: Entry, text: string): void {
    entry.result = refusal(text);
    entry.prepared = null;
    this.#refused.add(entry.request.gen);
    for (const later of this.#entries.slice(this.#entries.indexOf(entry) + 1)) {
      if (later.request.gen === entry.request.gen && later.result === null) {
        later.result = refusal(`${later.request.label}: not staged, an earlier part was refused`);
        later.prepared = null;
      }
    }
  }

  /** Answer the parts at the head of the queue that are done, in order. */
  #answer(): void {
    while (this.#entries[0]?.result != null) {
      const entry = this.#entries.shift() as Entry;
      this.#o.answer(entry.id, entry.result as StagePartResult);
    }
  }
}
