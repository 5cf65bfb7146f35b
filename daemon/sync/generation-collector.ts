/**
 * Deletes cache generations nobody uses any more (the one a swap replaced,
 * a snapshot abandoned half-way, what a crash left behind) in the
 * background: generation files other than the one in force (an unlink each,
 * off the event loop), and generations staged inside the file in force (the
 * in-memory store's way, and applySnapshot's) one transaction of deletions
 * per slice of the event loop. The generation in force and the ones being
 * staged are never touched. GenerationCollector runs passes, one at a time.
 */
import type { Logger } from '../runtime/logger.js';
import { generationsOnDisk, pointedGeneration, removeGenerationFile } from '../store/cache-files.js';
import type { CacheWriter } from '../store/cache-writer.js';
import type { Db } from '../store/database.js';
import { AbortedError, type Pace } from './cooperative.js';

/** What one pass removed: a generation's rows inside the file in force, or its whole file. */
export interface Removed {
  readonly gen: number;
  /** Rows deleted; null when its file was removed. */
  readonly removed: number | null;
}

export interface CollectorOptions {
  /** One pass over what is garbage now (removeGarbage(), here or on the staging worker). */
  readonly pass: () => Promise<readonly Removed[]>;
  readonly isStopped: () => boolean;
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
      });
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
      const n = writer.deleteGenerationRows(gen, () => pace.spent);
      removed += n;
      if (n === 0) break;
    }
    done.push({ gen, removed });
  }
  return done;
}

/**
 * Generation files of a store that are neither in force nor being built:
 * the one a swap replaced, a build that was abandoned or that a crash
 * interrupted. Each goes with an unlink on the thread pool.
 */
export async function removeGarbageFiles(db: Db, live: () => ReadonlySet<number>): Promise<Removed[]> {
  const done: Removed[] = [];
  for (const gen of generationsOnDisk(db.name)) {
    // Read again for every file: a swap may have happened while the last one was removed.
    if (gen === pointedGeneration(db) || live().has(gen)) continue;
    await removeGenerationFile(db.name, gen);
    done.push({ gen, removed: null });
  }
  return done;
}
