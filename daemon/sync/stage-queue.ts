/**
 * The staging worker's queue of parts to stage. The engine hands over a few
 * chunks ahead, so the next part is here before the last one is done and the
 * worker never waits for the network between two parts. Each part is
 * prepared (parsed, validated, hashed) and its rows inserted into the file
 * of its generation (generation-build.ts), in arrival order; answers go out
 * in the same order.
 *
 * A refused part (an invalid record, a duplicate id) is answered with the
 * refusal; the parts of its generation after it are not staged (the engine
 * abandons that generation, and its file with it).
 */
import type { CacheWriter } from '../store/cache-writer.js';
import { AbortedError, unpaced, type Pace } from './cooperative.js';
import { insertRow, InvalidRecordError, preparePart, refusal, type StagePartRequest, type StagePartResult } from './snapshot-stager.js';

interface Entry {
  readonly id: number;
  readonly request: StagePartRequest;
}

export interface StageQueueOptions {
  /** The writer of a generation's file, or null when it is not being built (discarded, never begun). */
  readonly writerFor: (gen: number) => CacheWriter | null;
  /** Between stretches of inserts: lets the thread's other messages (a close) in. */
  readonly pace: Pace;
  /** Answer a part; called in the order the parts were pushed. */
  readonly answer: (id: number, result: StagePartResult) => void;
  /** A part could not be staged (its build is gone, the disk, stopping). */
  readonly fail: (id: number, error: unknown) => void;
}

export class StageQueue {
  readonly #o: StageQueueOptions;
  readonly #entries: Entry[] = [];
  /** Generations whose settings were staged. */
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
    this.#entries.push({ id, request });
    this.#running ??= this.#run().finally(() => (this.#running = null));
  }

  async #run(): Promise<void> {
    for (let entry = this.#entries.shift(); entry !== undefined; entry = this.#entries.shift()) {
      try {
        this.#o.answer(entry.id, await this.#stage(entry.request));
      } catch (error) {
        // Stopping ends every part still waiting.
        this.#o.fail(entry.id, error);
        if (error instanceof AbortedError) for (const left of this.#entries.splice(0)) this.#o.fail(left.id, error);
      }
    }
  }

  async #stage(request: StagePartRequest): Promise<StagePartResult> {
    const { gen, label } = request;
    if (this.#refused.has(gen)) return refusal(`${label}: not staged, an earlier part was refused`);
    const writer = this.#o.writerFor(gen);
    if (writer === null) throw new Error(`generation ${gen} is not being built`);
    const prepared = await preparePart(writer, request, this.#settings.has(gen), unpaced);
    if ('invalid' in prepared) return this.#refuse(gen, prepared.invalid);
    if (prepared.settings) this.#settings.add(gen);
    const { pace } = this.#o;
    await pace.pause();
    try {
      for (let i = 0; i < prepared.rows.length; i++) {
        if (pace.spent) await pace.pause();
        // A discard that came in during the pause closed the build.
        if (this.#o.writerFor(gen) !== writer) throw new Error(`generation ${gen} was discarded while it was staged`);
        insertRow(writer, prepared, i);
      }
    } catch (error) {
      if (error instanceof InvalidRecordError) return this.#refuse(gen, `${label}: ${error.message}`);
      throw error;
    }
    return { ok: true, counts: prepared.counts };
  }

  #refuse(gen: number, text: string): StagePartResult {
    this.#refused.add(gen);
    return refusal(text);
  }
}
