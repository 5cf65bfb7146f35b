/**
 * WAL checkpoints on a worker thread, for the duration of bulk work (a
 * snapshot being staged, an old generation being deleted).
 *
 * SQLite checkpoints automatically in the connection that commits, and a
 * checkpoint fsyncs both the WAL and the database file. During a 100,000-
 * person apply that means a sync every few batches, on the event loop,
 * taking anything from 1 ms to 100 ms depending on the disk (SD cards and
 * eMMC are slow). So while bulk work runs the daemon's connection does not
 * checkpoint (wal_autocheckpoint = 0) and this worker, with a connection of
 * its own, runs PASSIVE checkpoints instead: they never block the daemon's
 * readers or writers, and their fsyncs happen off the event loop.
 *
 * The worker is plain JavaScript evaluated from a string, so it runs the
 * same under tsx, vitest and the compiled daemon.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const describe = (error) => String(error && error.message ? error.message : error);
let db = null;
let openError = null;
try {
  const Database = require(workerData.module);
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 1000');
} catch (error) {
  openError = describe(error);
}
parentPort.on('message', (message) => {
  if (message === 'close') {
    if (db) db.close();
    parentPort.close();
    return;
  }
  if (!db) {
    parentPort.postMessage({ ok: false, error: 'cannot open the database: ' + openError });
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: describe(error) });
  }
});
`;

const CLOSE_TIMEOUT_MS = 5_000;

export class Checkpointer {
  readonly #worker: Worker;
  #inFlight = false;
  #again = false;
  #closed = false;
  /** Callers waiting for the next checkpoint to complete (or fail). */
  #waiters: (() => void)[] = [];
  /** Checkpoints completed; failures are counted too and reported through onError. */
  completed = 0;
  failed = 0;

  private constructor(worker: Worker, onError: (message: string) => void) {
    this.#worker = worker;
    worker.unref();
    worker.on('message', (result: { ok: boolean; error?: string }) => {
      this.#inFlight = false;
      for (const wake of this.#waiters.splice(0)) wake();
      if (result.ok) this.completed++;
      else {
        this.failed++;
        onError(result.error ?? 'checkpoint failed');
      }
      if (this.#again) {
        this.#again = false;
        this.request();
      }
    });
    worker.on('error', (error) => {
      this.#closed = true;
      for (const wake of this.#waiters.splice(0)) wake();
      onError(error.message);
    });
  }

  /** A worker for the database file at `path`; null for an in-memory database (it has no WAL). */
  static start(path: string, onError: (message: string) => void): Checkpointer | null {
    if (path === ':memory:' || path === '') return null;
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    return new Checkpointer(new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path } }), onError);
  }

  /** Ask for a checkpoint; requests made while one runs become one more afterwards. */
  request(): void {
    if (this.#closed) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    this.#worker.postMessage('checkpoint');
  }

  /**
   * A checkpoint that starts now, resolved when it is done: everything
   * committed before the call is then synced to disk (a PASSIVE checkpoint
   * fsyncs the WAL first), off the event loop. Resolves at once when closed.
   */
  checkpoint(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.#inFlight) {
        // The one running may have started before the caller's commits.
        this.#again = true;
        this.#waiters.push(() => (this.#closed ? resolve() : this.#waiters.push(resolve)));
      } else {
        this.#waiters.push(resolve);
        this.request();
      }
    });
  }

  /** One last checkpoint, then close the worker's connection and end the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const exited = once(this.#worker, 'exit');
    this.#worker.postMessage('checkpoint');
    this.#worker.postMessage('close');
    const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_TIMEOUT_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }
}
