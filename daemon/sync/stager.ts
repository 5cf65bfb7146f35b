/**
 * Who does the heavy half of a sync for the engine: staging the parts of a
 * data set into a new generation, finishing it, putting it in force, and
 * scanning for shared credentials.
 *
 * Normally the staging worker (staging-worker.ts): off the event loop, a
 * file per generation, swapped in by ATTACH. For an in-memory store, which
 * no other thread can open, this module's InThreadStager stages on the
 * event loop in slices, beside the generation in force in the same
 * database, and puts it in force by one UPDATE of sync_state.gen.
 */
import type { Logger } from '../runtime/logger.js';
import type { Activation } from '../store/cache-writer.js';
import type { CredentialCache, CredentialConflict } from '../store/cache.js';
import { Slicer } from './cooperative.js';
import type { SiteSettings } from './dataset.js';
import { stagePartText, type StagePartRequest, type StagePartResult } from './snapshot-stager.js';

export interface Stager {
  /**
   * Stage one part into a generation not in force. Parts are staged, and
   * their results resolved, in the order they were handed over. Rejects when
   * the stager failed (not for an invalid part: that is a result).
   */
  stage(request: StagePartRequest): Promise<StagePartResult>;
  /** Every part is staged: finish the generation (settings, sync state, indexes, sync to disk) without putting it in force. */
  seal(gen: number, activation: Activation, defaultSettings: SiteSettings): Promise<void>;
  /** Put a sealed generation in force: synchronous, short, old or new for every reader. */
  putInForce(gen: number, activation: Activation, defaultSettings: SiteSettings): void;
  /** Give a generation up; what it staged is garbage for the collector. */
  discard(gen: number): Promise<void>;
  /** Credentials held by several people in the data in force. */
  conflicts(): Promise<CredentialConflict[]>;
  /** Work in hand stops at its next pause (AbortedError); resolves when it has. */
  close(): Promise<void>;
  /** A snapshot was asked for: get ready now, so that its first chunk does not wait for (or compete with) the stager's start. */
  warm(): void;
}

export interface StagerOptions {
  readonly cache: CredentialCache;
  /** Generations being staged: never collected, never allocated again. */
  readonly live: () => ReadonlySet<number>;
  readonly isStopped: () => boolean;
  readonly logger: Logger;
}

export class InThreadStager implements Stager {
  readonly #o: StagerOptions;
  readonly #sliceMs: number;
  /** One part at a time: the next one's settings check must see the last one's rows. */
  #staging: Promise<unknown> = Promise.resolve();

  constructor(options: StagerOptions & { readonly sliceMs: number }) {
    this.#o = options;
    this.#sliceMs = options.sliceMs;
  }

  stage(request: StagePartRequest): Promise<StagePartResult> {
    const staged = this.#staging.then(() => stagePartText(this.#o.cache.writer, request, new Slicer(this.#sliceMs, this.#o.isStopped)));
    this.#staging = staged.catch(() => undefined);
    return staged;
  }

  /** The rows are in the database already; putInForce() does the rest in its one transaction. */
  seal(): Promise<void> {
    return Promise.resolve();
  }

  putInForce(gen: number, activation: Activation, defaultSettings: SiteSettings): void {
    this.#o.cache.writer.activate(gen, activation, defaultSettings);
  }

  /** Its rows are garbage of the database in force: the engine's collector deletes them. */
  discard(): Promise<void> {
    return Promise.resolve();
  }

  conflicts(): Promise<CredentialConflict[]> {
    return Promise.resolve(this.#o.cache.conflicts());
  }

  async close(): Promise<void> {
    await this.#staging;
  }

  /** Nothing to start: it stages on the event loop. */
  warm(): void {}
}
