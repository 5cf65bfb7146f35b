/**
 * WAL checkpoints off the event loop.
 *
 * SQLite checkpoints in the connection that commits, once the WAL holds 1000
 * pages, and a checkpoint fsyncs the WAL and then the database file. For the
 * daemon that connection is the event loop's: while the outbox drains a
 * backlog (a mark per published event) a checkpoint came every third batch
 * of marks and held the loop 14-16 ms on this VM, far longer on the SD cards
 * and eMMC of mini-PCs; a card read waits behind it. So the daemon's
 * connection does not checkpoint (wal_autocheckpoint = 0) and this worker,
 * with connections of its own, runs PASSIVE checkpoints of the main file and
 * of the cache file in force instead: they never block the daemon's readers
 * or writers, and their fsyncs happen on the worker's thread. The daemon's
 * connection then restarts the WAL from its start at its next commit, so the
 * file stays the size of what is written between two checkpoints.
 *
 * The thread is plain JavaScript evaluated from a string (runs the same
 * under tsx, vitest and the compiled daemon), loads nothing but
 * better-sqlite3, and runs well below the event loop's priority. A
 * checkpoint that fails (a full disk) is reported and tried again at the
 * next request; when the thread itself fails the owner is told (onFailure)
 * and is expected to let its connection checkpoint again, as SQLite does by
 * default.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../runtime/logger.js';
import { currentGenerationPath, isMemory } from './cache-files.js';
import type { Db } from './database.js';

/** What the thread is asked: checkpoint these files, and let go of any other it has open. */
interface CheckpointRequest {
  readonly paths: readonly string[];
}

type CheckpointReply = { readonly ok: true } | { readonly ok: false; readonly error: string };

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const os = require('node:os');
try { os.setPriority(Math.min(19, os.getPriority() + workerData.nicerBy)); } catch { /* refused: the caller's priority */ }
const Database = require(workerData.module);
const open = new Map();
const describe = (error) => String(error && error.message ? error.message : error);
parentPort.on('message', (message) => {
  if (message === 'close') {
    for (const db of open.values()) db.close();
    parentPort.close();
    return;
  }
  try {
    for (const [path, db] of open) {
      if (message.paths.includes(path)) continue;
      // A generation file no longer in force: garbage, closed without syncing it.
      db.pragma('synchronous = OFF');
      db.close();
      open.delete(path);
    }
    for (const path of message.paths) {
      let db = open.get(path);
      if (db === undefined) {
        db = new Database(path, { fileMustExist: true });
        db.pragma('busy_timeout = 1000');
        db.pragma('synchronous = NORMAL');
        open.set(path, db);
      }
      db.pragma('wal_checkpoint(PASSIVE)');
    }
    parentPort.postMessage({ ok: true });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: describe(error) });
  }
});
`;

const CLOSE_TIMEOUT_MS = 5_000;
/** Nice steps below the event loop: a checkpoint is housekeeping. */
const NICER_BY = 19;

export interface CheckpointerOptions {
  /** The files to checkpoint, asked at every request (the cache file in force changes at every snapshot). */
  readonly paths: () => readonly string[];
  /** The thread failed: the daemon's connection should checkpoint again. */
  readonly onFailure: (message: string) => void;
  /** A checkpoint failed (a full disk, a locked file): the next request tries again. */
  readonly onCheckpointError: (message: string) => void;
}

export class Checkpointer {
  readonly #worker: Worker;
  readonly #o: CheckpointerOptions;
  #inFlight = false;
  #again = false;
  #closed = false;
  #failed = false;
  /** Checkpoint requests completed, and failed, for status and tests. */
  completed = 0;
  failed = 0;

  constructor(options: CheckpointerOptions) {
    this.#o = options;
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, nicerBy: NICER_BY } });
    this.#worker.unref();
    this.#worker.on('message', (reply: CheckpointReply) => {
      this.#inFlight = false;
      if (reply.ok) this.completed++;
      else {
        this.failed++;
        this.#o.onCheckpointError(reply.error);
      }
      if (this.#again) {
        this.#again = false;
        this.request();
      }
    });
    this.#worker.on('error', (error) => this.#fail(`the checkpoint thread failed: ${error.message}`));
    this.#worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(`the checkpoint thread exited (code ${code})`);
    });
  }

  /** Whether it still works (false after a failure: the owner checkpoints itself). */
  get working(): boolean {
    return !this.#closed && !this.#failed;
  }

  /** Ask for a checkpoint of every file; requests made while one runs become one more afterwards. */
  request(): void {
    if (!this.working) return;
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    this.#inFlight = true;
    this.#worker.postMessage({ paths: this.#o.paths() } satisfies CheckpointRequest);
  }

  /** End the thread; the daemon's connection checkpoints as it closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#failed) return;
    const exited = once(this.#worker, 'exit');
    this.#worker.postMessage('close');
    const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_TIMEOUT_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** End the thread at once, as a crash would (tests). */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  #fail(message: string): void {
    if (this.#failed || this.#closed) return;
    this.#failed = true;
    this.#inFlight = false;
    void this.#worker.terminate();
    this.#o.onFailure(message);
  }
}

/** How often the daemon's connection is looked at for commits to checkpoint. */
const CHECKPOINT_EVERY_MS = 250;
/** SQLite's default, for when the thread has failed. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

export interface BackgroundCheckpoints {
  readonly checkpointer: Checkpointer;
  stop(): Promise<void>;
}

/**
 * Take checkpoints of the daemon's connection (`db`: the main file and the
 * cache file attached to it) off the event loop: its own are turned off,
 * and every CHECKPOINT_EVERY_MS, if it committed anything since (SQLite's
 * total_changes(), no I/O), the thread checkpoints both files. If the
 * thread fails, the connection checkpoints itself again. Null for an
 * in-memory database, which has no WAL.
 */
export function startBackgroundCheckpoints(db: Db, logger: Logger, everyMs: number = CHECKPOINT_EVERY_MS): BackgroundCheckpoints | null {
  if (isMemory(db.name)) return null;
  const changes = db.prepare<[], { n: number }>('SELECT total_changes() AS n');
  let seen = changes.get()?.n ?? 0;
  let timer: NodeJS.Timeout | null = null;
  let lastError: string | null = null;
  const checkpointer = new Checkpointer({
    paths: () => [db.name, ...[currentGenerationPath(db)].filter((path) => path !== null)],
    onFailure: (message) => {
      if (timer !== null) clearInterval(timer);
      timer = null;
      db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      logger.error({ reason: message }, 'checkpoints are back on the event loop: card reads may wait for the disk now and then');
    },
    onCheckpointError: (message) => {
      // Once per kind of error: a full disk fails every 250 ms until space is made.
      if (message === lastError) return;
      lastError = message;
      logger.warn({ reason: message }, 'a WAL checkpoint failed; the WAL grows until one succeeds');
    },
  });
  db.pragma('wal_autocheckpoint = 0');
  let completed = 0;
  timer = setInterval(() => {
    if (checkpointer.completed !== completed) {
      completed = checkpointer.completed;
      lastError = null;
    }
    const now = changes.get()?.n ?? 0;
    if (now === seen) return;
    seen = now;
    checkpointer.request();
  }, everyMs);
  timer.unref();
  return {
    checkpointer,
    async stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await checkpointer.close();
      // The connection checkpoints as it closes, and until then by itself again.
      db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    },
  };
}
