/**
 * Who does the heavy half of a sync for the engine: staging parts of a data
 * set, deleting unused generations, scanning for shared credentials.
 * Normally the staging worker (staging-worker.ts), off the event loop; for an
 * in-memory database, which no other connection can open, this module's
 * InThreadStager does the same work on the event loop in slices.
 */
import type { Logger } from '../runtime/logger.js';
import type { CredentialCache, CredentialConflict } from '../store/cache.js';
import { Slicer } from './cooperative.js';
import { GenerationCollector, removeGarbage } from './generation-collector.js';
import { stagePartText, type StagePartRequest, type StagePartResult } from './snapshot-stager.js';

export interface Stager {
  /**
   * Stage one part into a generation not in force. Parts are staged, and
   * their results resolved, in the order they were handed over. Rejects when
   * the stager failed (not for an invalid part: that is a result).
   */
  stage(request: StagePartRequest): Promise<StagePartResult>;
  /** Delete unused generations in the background (again, if a run is going on). */
  collect(): void;
  /** Whether a collection runs. */
  readonly collecting: boolean;
  /** Resolves once no collection runs. */
  settled(): Promise<void>;
  /** Credentials held by several people in the data in force. */
  conflicts(): Promise<CredentialConflict[]>;
  /** Work in hand stops at its next pause (AbortedError); resolves when it has. */
  close(): Promise<void>;
}

export interface StagerOptions {
  readonly cache: CredentialCache;
  /** Generations being staged, which collection must leave alone. */
  readonly live: () => ReadonlySet<number>;
  readonly isStopped: () => boolean;
  /** A collection started or ended. */
  readonly onRunningChange: () => void;
  readonly logger: Logger;
}

export class InThreadStager implements Stager {
  readonly #o: StagerOptions;
  readonly #sliceMs: number;
  readonly #collector: GenerationCollector;
  /** One part at a time: the next one's settings check must see the last one's rows. */
  #staging: Promise<unknown> = Promise.resolve();

  constructor(options: StagerOptions & { readonly sliceMs: number }) {
    this.#o = options;
    this.#sliceMs = options.sliceMs;
    this.#collector = new GenerationCollector({
      pass: () => removeGarbage(options.cache.writer, options.live, this.#slicer()),
      isStopped: options.isStopped,
      onRunningChange: options.onRunningChange,
      logger: options.logger,
    });
  }

  stage(request: StagePartRequest): Promise<StagePartResult> {
    const staged = this.#staging.then(() => stagePartText(this.#o.cache.writer, request, this.#slicer()));
    this.#staging = staged.catch(() => undefined);
    return staged;
  }

  collect(): void {
    this.#collector.collect();
  }

  get collecting(): boolean {
    return this.#collector.running;
  }

  settled(): Promise<void> {
    return this.#collector.settled();
  }

  conflicts(): Promise<CredentialConflict[]> {
    return Promise.resolve(this.#o.cache.conflicts());
  }

  close(): Promise<void> {
    return this.#collector.settled();
  }

  #slicer(): Slicer {
    return new Slicer(this.#sliceMs, this.#o.isStopped);
  }
}
