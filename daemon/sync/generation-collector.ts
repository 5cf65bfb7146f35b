/**
 * Deletes cache generations nobody uses any more (the one a swap replaced,
 * a snapshot abandoned half-way, what a crash left behind) in the
 * background: one transaction of deletions per stretch of its pace, pausing
 * between stretches (on the staging worker: giving way to the daemon's own
 * writes; on the event loop: for a turn of the loop). The generation in
 * force and the ones being staged are never touched. GenerationCollector
 * runs passes, one at a time, on whichever side does the work.
 */
import type { Logger } from '../runtime/logger.js';
import { PreemptedError, type CacheWriter } from '../store/cache-writer.js';
import { AbortedError, type Pace } from './cooperative.js';

/** What one pass removed. */
export interface Removed {
  readonly gen: number;
  readonly removed: number;
}

export interface CollectorOptions {
  /** One pass over what is garbage now (removeGarbage(), here or on the staging worker). */
  readonly pass: () => Promise<readonly Removed[]>;
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
    do {
      this.#again = false;
      for (const { gen, removed } of await this.#o.pass()) this.#o.logger.debug({ gen, removed }, 'removed an unused cache generation');
    } while (this.#again && !this.#o.isStopped());
  }
}

/**
 * One pass over the generations that are garbage now: each deleted, one
 * transaction per stretch of `pace`, unless it turns live meanwhile. Returns
 * what was removed.
 */
export async function removeGarbage(writer: CacheWriter, live: () => ReadonlySet<number>, pace: Pace): Promise<Removed[]> {
  const done: Removed[] = [];
  // A generation staged after this list was made has a higher number: never in it.
  for (const gen of writer.garbageGenerations(live())) {
    let removed = 0;
    for (;;) {
      await pace.pause();
      if (live().has(gen)) break;
      let n: number;
      try {
        n = writer.deleteGenerationRows(gen, () => pace.spent);
      } catch (error) {
        // Rolled back for the daemon's write: again, after it.
        if (error instanceof PreemptedError) continue;
        throw error;
      }
      removed += n;
      if (n === 0) break;
    }
    done.push({ gen, removed });
  }
  return done;
}
