/**
 * The staging worker's thread (see staging-worker.ts): its own connection to
 * the daemon's database, its own hasher, and the requests the daemon sends.
 *
 * Its writes give way to the daemon's (store/write-priority.ts): a write
 * transaction here ends at the next row once the daemon wants to write, or
 * after WRITE_MS of work, and none begins while the daemon writes.
 * Preparing rows (parse, validate, hash) takes no lock and runs straight
 * through.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { CredentialCache } from '../store/cache.js';
import { BULK_CACHE_KIB } from '../store/cache-writer.js';
import { CredentialHasher } from '../store/credential-hash.js';
import { WriteGate } from '../store/write-priority.js';
import { AbortedError, type Pace } from './cooperative.js';
import { removeGarbage } from './generation-collector.js';
import { StageQueue } from './stage-queue.js';
import type { StagingReply, StagingRequest, StagingWorkerData } from './staging-worker.js';

/**
 * Longest stretch of inserts in one write transaction. A daemon write that
 * comes during the stretch has it rolled back at the next row, but one that
 * comes during its commit waits for the commit, which writes every page the
 * stretch touched (credential lookups are keyed hashes: almost a page per
 * row). Longer stretches would not make that cheaper per row.
 */
const STAGE_MS = 4;
/** Longest stretch of deletions in one write transaction: nothing waits for them, the daemon's writes should not either. */
const COLLECT_MS = 2;

const port = parentPort;
if (port === null) throw new Error('staging-worker-main.ts runs as a worker thread');
const data = workerData as StagingWorkerData;

const db = new Database(data.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
// Staged rows need no fsync of their own: a power cut before they reach the
// disk loses the swap with them (the old data stays in force, and a new
// snapshot is requested); the WAL flusher and checkpoints sync them soon anyway.
db.pragma('synchronous = NORMAL');
// During bulk work the daemon's checkpoint worker (store/checkpointer.ts) checkpoints; a commit here must not.
db.pragma('wal_autocheckpoint = 0');
db.pragma(`cache_size = ${-BULK_CACHE_KIB}`);
const gate = new WriteGate(data.writeGate);
const cache = new CredentialCache(db, new CredentialHasher(Buffer.from(data.siteKey)), { gate });

let closing = false;
let live: ReadonlySet<number> = new Set();
const inFlight = new Set<Promise<void>>();

/** Short write transactions (see the header; the gate in batch() makes them give way to the daemon's writes). */
class WritePace implements Pace {
  readonly #budgetMs: number;
  #start = 0;

  constructor(budgetMs: number) {
    this.#budgetMs = budgetMs;
  }

  get spent(): boolean {
    return gate.wanted || performance.now() - this.#start >= this.#budgetMs;
  }

  async pause(): Promise<void> {
    // Other requests (and a close) get their turn between two transactions.
    await turn();
    if (closing) throw new AbortedError('stopped');
    this.#start = performance.now();
  }
}

const reply = (message: StagingReply): void => port.postMessage(message);
const failure = (id: number, error: unknown): StagingReply => ({
  id,
  ok: false,
  error: error instanceof Error ? error.message : String(error),
  aborted: error instanceof AbortedError,
});
const stageQueue = new StageQueue({
  writer: cache.writer,
  pace: new WritePace(STAGE_MS),
  answer: (id, value) => reply({ id, ok: true, value }),
  fail: (id, error) => reply(failure(id, error)),
});

function handle(request: Exclude<StagingRequest, { op: 'close' | 'stage' }>): Promise<unknown> {
  switch (request.op) {
    case 'collect':
      return removeGarbage(cache.writer, () => live, new WritePace(COLLECT_MS));
    case 'conflicts':
      return Promise.resolve(cache.conflicts());
  }
}

async function shutDown(): Promise<void> {
  closing = true;
  await Promise.all([...inFlight, stageQueue.idle()]);
  db.close();
  port?.close();
}

port.on('message', (request: StagingRequest) => {
  if (request.op === 'close') {
    void shutDown();
    return;
  }
  // The generations being staged, as the daemon knew them when it sent this: never collected.
  if ('live' in request) live = new Set(request.live);
  if (request.op === 'stage') {
    stageQueue.push(request.id, request.request);
    return;
  }
  const task = handle(request).then(
    (value) => reply({ id: request.id, ok: true, value }),
    (error: unknown) => reply(failure(request.id, error)),
  );
  inFlight.add(task);
  void task.finally(() => inFlight.delete(task));
});
