/**
 * The staging worker, seen from the daemon's thread: a worker thread
 * (staging-worker-main.ts) that builds each new cache generation in a file
 * of its own (generation-build.ts): it parses, validates, hashes and
 * inserts snapshot parts, then seals the file (indexes, sync state, fsync).
 * It also runs the conflict scan over the file in force. Everything that
 * costs CPU, allocates much or writes much happens there; the event loop
 * only verifies envelopes, keeps the snapshot's state, and puts a sealed
 * file in force (cache-files.ts swapTo: a durable pointer update and an
 * ATTACH, a few ms).
 *
 * The site key travels to the thread in workerData, once, for its own
 * hasher; it is never logged.
 *
 * The thread starts with the first request and ends after it has been idle
 * for a while, never while a generation is being built (its connection
 * holds the build's transaction). When it fails (a crash, an error it
 * cannot answer), every request in flight is rejected with
 * StagingWorkerError, so the snapshot it was building is abandoned with the
 * old data still in force, and the next request starts a new thread.
 */
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../runtime/logger.js';
import { startWorkerThread } from '../runtime/worker-thread.js';
import { currentGenerationPath, generationPath, swapTo } from '../store/cache-files.js';
import type { Activation } from '../store/cache-writer.js';
import type { CredentialConflict } from '../store/cache.js';
import type { CacheCounts } from '../store/cache-schema.js';
import { AbortedError } from './cooperative.js';
import type { SiteSettings } from './dataset.js';
import type { StagePartRequest, StagePartResult } from './snapshot-stager.js';
import type { Stager, StagerOptions } from './stager.js';

/** What the thread gets at start. */
export interface StagingWorkerData {
  readonly siteKey: Uint8Array;
}

export type StagingRequest =
  /** The first part of a generation (`start`) starts its file at `path`; a later one finds it, or fails. */
  | { readonly id: number; readonly op: 'stage'; readonly path: string; readonly start: boolean; readonly request: StagePartRequest }
  | { readonly id: number; readonly op: 'seal'; readonly gen: number; readonly activation: Activation; readonly defaultSettings: SiteSettings }
  | { readonly id: number; readonly op: 'discard'; readonly gen: number }
  | { readonly id: number; readonly op: 'conflicts'; readonly path: string }
  | { readonly op: 'close' };

export type StagingReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string; readonly aborted: boolean };

/** The worker failed, or failed to do what was asked; the data in force is untouched. */
export class StagingWorkerError extends Error {
  override readonly name = 'StagingWorkerError';
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** One thread and the requests it has not answered yet. */
interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/**
 * How much lower than the daemon's the thread's CPU priority is (nice
 * steps; 19 is as low as nice goes, the weight of a background job). On a
 * two-core box the event loop, this thread and V8's helper threads all want
 * a core while a snapshot is built; the event loop carries door decisions
 * and must win. Measured on 100k-person applies (bench/sync-apply.ts,
 * interleaved pairs): nice 0 -> 10 took the loop's gaps over 10 ms from
 * 22-24 to 7-8 per apply (session 5); with the helpers lowered too
 * (runtime/thread-priority.ts), 19 did as well as 10 plus the SCHED_IDLE
 * class (0-2 gaps against 0-3, three pairs), which would need a helper
 * process (chrt) to set, and the apply was no slower.
 */
const STAGING_NICER_BY = 19;
/** An idle thread ends after this long. */
const LINGER_MS = 10_000;
/** A thread that does not end this long after being asked to is terminated. */
const CLOSE_TIMEOUT_MS = 5_000;

export interface StagingWorkerOptions extends StagerOptions {
  /** The store's main file: generation files are named after it. */
  readonly mainPath: string;
  readonly siteKey: Buffer;
  readonly lingerMs?: number;
}

export class StagingWorker implements Stager {
  readonly #o: StagingWorkerOptions;
  readonly #log: Logger;
  readonly #lingerMs: number;
  /** Threads asked to end and not yet gone. */
  readonly #ending = new Set<Promise<void>>();
  #thread: Thread | null = null;
  #ids = 0;
  #idle: NodeJS.Timeout | null = null;
  #closed = false;
  /** Generations whose first part went to the running thread. */
  readonly #begun = new Set<number>();
  /** Sealed generations' rows, counted on the thread: the cache's counts once one is put in force. */
  readonly #sealed = new Map<number, CacheCounts>();
  /** Threads started (1 + restarts), for status and tests. */
  started = 0;
  /** Threads that failed. */
  failures = 0;

  constructor(options: StagingWorkerOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#lingerMs = options.lingerMs ?? LINGER_MS;
  }

  /** Whether a thread is running now. */
  get running(): boolean {
    return this.#thread !== null;
  }

  /** Requests sent to the running thread and not yet answered. */
  get inFlight(): number {
    return this.#thread?.pending.size ?? 0;
  }

  async stage(request: StagePartRequest): Promise<StagePartResult> {
    const path = generationPath(this.#o.mainPath, request.gen);
    // A thread that died took its builds along: a later part must not start a file without the parts before it.
    const start = !this.#begun.has(request.gen);
    this.#begun.add(request.gen);
    return (await this.#request((id) => ({ id, op: 'stage', path, start, request }))) as StagePartResult;
  }

  /** Finish a generation's file on the thread: settings, sync state, indexes, fsync. */
  async seal(gen: number, activation: Activation, defaultSettings: SiteSettings): Promise<void> {
    this.#begun.delete(gen);
    const counts = await this.#request((id) => ({ id, op: 'seal', gen, activation, defaultSettings }));
    if (isCacheCounts(counts)) this.#sealed.set(gen, counts);
  }

  /** Put a sealed generation file in force (on this thread: a durable pointer update and an ATTACH). */
  putInForce(gen: number): void {
    swapTo(this.#o.cache.db, gen);
    const counts = this.#sealed.get(gen);
    this.#sealed.delete(gen);
    if (counts !== undefined) this.#o.cache.primeCounts(counts);
  }

  /** Give a build up (its file is then garbage); nothing to do when no thread runs: a thread that died took its builds along. */
  async discard(gen: number): Promise<void> {
    this.#begun.delete(gen);
    this.#sealed.delete(gen);
    if (this.#thread === null || this.#closed) return;
    await this.#request((id) => ({ id, op: 'discard', gen }));
  }

  async conflicts(): Promise<CredentialConflict[]> {
    const path = currentGenerationPath(this.#o.cache.db);
    if (path === null) return this.#o.cache.conflicts();
    return (await this.#request((id) => ({ id, op: 'conflicts', path }))) as CredentialConflict[];
  }

  /**
   * Start the thread ahead of a snapshot that was asked for. A thread takes
   * 300-400 ms to start on a two-core box (a Node environment, then its
   * modules), and its first instructions run at the event loop's priority
   * before it lowers its own: while the cloud cuts and signs the snapshot,
   * not while its chunks arrive. It ends as an idle one does if nothing
   * comes (lingerMs).
   */
  warm(): void {
    if (this.#thread !== null || this.#closed) return;
    this.#current();
    this.#rest();
  }

  /** Ask the thread to end (work in hand stops at its next pause) and wait until it has. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#end();
    await Promise.all([...this.#ending]);
  }

  /** End the thread at once, as a crash would: requests in flight fail, the next one starts a new thread. */
  async terminate(): Promise<void> {
    await this.#thread?.worker.terminate();
  }

  #request(build: (id: number) => StagingRequest): Promise<unknown> {
    if (this.#closed) return Promise.reject(new AbortedError('stopped'));
    const thread = this.#current();
    const message = build(++this.#ids);
    if (!('id' in message)) throw new Error('a request needs an id');
    return new Promise((resolve, reject) => {
      thread.pending.set(message.id, { resolve, reject });
      thread.worker.postMessage(message);
    });
  }

  /** The running thread, or a new one; it keeps the process alive while it has work. */
  #current(): Thread {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    if (this.#thread !== null) {
      this.#thread.worker.ref();
      return this.#thread;
    }
    const data: StagingWorkerData = { siteKey: new Uint8Array(this.#o.siteKey) };
    const worker = startWorkerThread(new URL('./staging-worker-main.js', import.meta.url), { workerData: data, nicerBy: STAGING_NICER_BY });
    const thread: Thread = { worker, pending: new Map() };
    this.#thread = thread;
    this.started++;
    thread.worker.on('message', (reply: StagingReply) => this.#answer(thread, reply));
    thread.worker.on('error', (error) => this.#failed(thread, error.message));
    thread.worker.on('exit', (code) => this.#failed(thread, `it exited (code ${code})`));
    return thread;
  }

  #answer(thread: Thread, reply: StagingReply): void {
    const pending = thread.pending.get(reply.id);
    if (pending === undefined) return;
    thread.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(reply.aborted ? new AbortedError('stopped') : new StagingWorkerError(reply.error));
    if (thread.pending.size === 0 && thread === this.#thread) this.#rest();
  }

  /** Nothing in flight: the thread no longer keeps the process alive, and ends if nothing comes for a while. */
  #rest(): void {
    this.#thread?.worker.unref();
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#idle = null;
      // A generation waiting for its next chunk is open on the thread.
      if (this.inFlight === 0 && this.#o.live().size === 0) this.#end();
      else if (this.inFlight === 0) this.#rest();
    }, this.#lingerMs);
    this.#idle.unref();
  }

  /** Ask the running thread to end. */
  #end(): void {
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idle = null;
    const thread = this.#thread;
    if (thread === null) return;
    this.#thread = null;
    // Its builds end with it.
    this.#begun.clear();
    const timer = setTimeout(() => void thread.worker.terminate(), CLOSE_TIMEOUT_MS);
    timer.unref();
    const ended = once(thread.worker, 'exit')
      .then(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        this.#ending.delete(ended);
        // Anything it did not answer will not be answered now.
        rejectAll(thread, new AbortedError('stopped'));
      });
    this.#ending.add(ended);
    // Whoever waits for it to end (stop(), a CLI command) must not see the process exit first.
    thread.worker.ref();
    thread.worker.postMessage({ op: 'close' } satisfies StagingRequest);
  }

  /** The thread died, or errored, without being asked to end. */
  #failed(thread: Thread, why: string): void {
    if (thread !== this.#thread) return;
    this.#thread = null;
    this.#begun.clear();
    this.failures++;
    this.#log.error({ reason: why }, 'the staging worker failed; what it was doing is abandoned, the next request starts a new one');
    rejectAll(thread, new StagingWorkerError(`the staging worker failed: ${why}`));
    void thread.worker.terminate();
  }
}

/** The thread's answer to a seal; anything else leaves the counting to the cache. */
function isCacheCounts(value: unknown): value is CacheCounts {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.people === 'number' && typeof v.credentials === 'number' && typeof v.entitlements === 'number';
}

function rejectAll(thread: Thread, error: Error): void {
  const pending = [...thread.pending.values()];
  thread.pending.clear();
  for (const p of pending) p.reject(error);
}
