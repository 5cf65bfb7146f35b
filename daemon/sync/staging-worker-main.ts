/**
 * The staging worker's thread (see staging-worker.ts): its own hasher, the
 * generation files it is building (generation-build.ts), one connection
 * each, and the requests the daemon sends. It never opens the daemon's
 * main file: the files it builds are its own until they are put in force,
 * and the conflict scan reads the file in force read-only.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { credentialConflicts } from '../store/cache.js';
import { CredentialHasher } from '../store/credential-hash.js';
import { AbortedError, type Pace } from './cooperative.js';
import { GenerationBuild } from './generation-build.js';
import { StageQueue } from './stage-queue.js';
import type { StagingReply, StagingRequest, StagingWorkerData } from './staging-worker.js';

/**
 * Longest stretch of inserts before the thread looks at its messages (a
 * close, a discard). Nothing else waits for it: the daemon's connection
 * shares no lock with a file being built.
 */
const STRETCH_MS = 50;

const port = parentPort;
if (port === null) throw new Error('staging-worker-main.ts runs as a worker thread');
const data = workerData as StagingWorkerData;
const hasher = new CredentialHasher(Buffer.from(data.siteKey));

let closing = false;
const builds = new Map<number, GenerationBuild>();
/** Generations sealed or discarded: a late request for one never starts its file again. */
const ended = new Set<number>();

class StretchPace implements Pace {
  #start = 0;

  get spent(): boolean {
    return performance.now() - this.#start >= STRETCH_MS;
  }

  async pause(): Promise<void> {
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

/** Where the generations whose first part came are to be built; the build starts when that part's turn comes. */
const starts = new Map<number, string>();

/** The build of a generation: started by its first part, found by the later ones; null once ended or never started. */
function buildOf(gen: number): GenerationBuild | null {
  const existing = builds.get(gen);
  if (existing !== undefined) return existing;
  const path = starts.get(gen);
  if (path === undefined || ended.has(gen) || closing) return null;
  starts.delete(gen);
  const build = new GenerationBuild(path, gen, hasher);
  builds.set(gen, build);
  return build;
}

const stageQueue = new StageQueue({
  writerFor: (gen) => buildOf(gen)?.writer ?? null,
  pace: new StretchPace(),
  answer: (id, value) => reply({ id, ok: true, value }),
  fail: (id, error) => reply(failure(id, error)),
});

function end(gen: number): GenerationBuild | undefined {
  const build = builds.get(gen);
  builds.delete(gen);
  starts.delete(gen);
  ended.add(gen);
  return build;
}

async function handle(request: Exclude<StagingRequest, { op: 'close' | 'stage' }>): Promise<unknown> {
  switch (request.op) {
    case 'seal': {
      // Every part of the generation was answered before the engine asks for the seal; the queue may hold others'.
      const build = builds.get(request.gen);
      if (build === undefined) throw new Error(`generation ${request.gen} is not being built`);
      end(request.gen);
      try {
        return build.seal(request.activation, request.defaultSettings);
      } finally {
        build.discard();
      }
    }
    case 'discard':
      // Parts of it still queued fail with "not being built" instead of starting the file again.
      end(request.gen)?.discard();
      return null;
    case 'conflicts': {
      await turn();
      const db = new Database(request.path, { readonly: true, fileMustExist: true });
      try {
        return credentialConflicts(db);
      } finally {
        db.close();
      }
    }
  }
}

async function shutDown(): Promise<void> {
  closing = true;
  await stageQueue.idle();
  // Unfinished builds are garbage; the daemon's collector removes their files.
  for (const gen of [...builds.keys()]) end(gen)?.discard();
  port?.close();
}

port.on('message', (request: StagingRequest) => {
  if (request.op === 'close') {
    void shutDown();
    return;
  }
  if (request.op === 'stage') {
    if (request.start && !ended.has(request.request.gen)) starts.set(request.request.gen, request.path);
    stageQueue.push(request.id, request.request);
    return;
  }
  handle(request).then(
    (value) => reply({ id: request.id, ok: true, value }),
    (error: unknown) => reply(failure(request.id, error)),
  );
});
