/**
 * Deletes cache generations nobody uses any more (the one a swap replaced,
 * a snapshot abandoned half-way, what a crash left behind) in the
 * background: a batch of rows per slice, yielding to the event loop between
 * slices. The generation in force and the ones being staged are never
 * touched.
 */
import type { Logger } from '../runtime/logger.js';
import type { CacheWriter } from '../store/cache-writer.js';
import { AbortedError, Slicer } from './cooperative.js';

const BATCH_ROWS = 64;

export interface CollectorOptions {
  readonly writer: CacheWriter;
  /** Generations being staged right now. */
  readonly live: () => ReadonlySet<number>;
  readonly sliceMs: number;
  readonly isStopped: () => boolean;
  /** Called when a run starts or ends (bulk mode follows it). */
  readonly onRunningChange: () => void;
  readonly logger: Logger;
}

export class GenerationCollector {
  readonly #o: CollectorOptions;
  #run: Promise<void> | null = null;
  #again = false;

  constructor(options: CollectorOptions) {
    this.#o = options;
  }

  get running(): boolean {
    return this.#run !== null;
  }

  /** Resolves when the current run (if any) has ended. */
  async settled(): Promise<void> {
    await this.#run;
  }

  /** Start a run, or make the current one look again once it is done. */
  collect(): void {
    if (this.#run !== null) {
      this.#again = true;
      return;
    }
    this.#run = this.#collect()
      .catch((error: unknown) => {
        if (!(error instanceof AbortedError)) this.#o.logger.error({ err: error }, 'removing unused cache generations failed');
      })
      .finally(() => {
        this.#run = null;
        this.#o.onRunningChange();
      });
    this.#o.onRunningChange();
  }

  async #collect(): Promise<void> {
    const { writer, live } = this.#o;
    const slicer = new Slicer(this.#o.sliceMs, this.#o.isStopped);
    do {
      this.#again = false;
      // A generation staged after this list was made has a higher number: never in it.
      for (const gen of writer.garbageGenerations(live())) {
        let removed = 0;
        for (;;) {
          await slicer.yield();
          if (live().has(gen)) break;
          let n = 0;
          do {
            n = writer.deleteGenerationRows(gen, BATCH_ROWS);
            removed += n;
          } while (n > 0 && !slicer.spent);
          if (n === 0) break;
        }
        this.#o.logger.debug({ gen, removed }, 'removed an unused cache generation');
      }
    } while (this.#again && !this.#o.isStopped());
  }
}
