/**
 * The gateway's side of cache sync, independent of the transport: signed
 * snapshot chunks and deltas in (from MQTT, an import file or a seed), the
 * offline cache kept a faithful copy of the cloud's data set.
 *
 * Every message goes through the same checks, in order, and the first that
 * fails is its rejection reason (counted, logged, nothing changed):
 *   1. the envelope, type, addressing and schema (verify-message.ts);
 *   2. versions: a delta applies only on the version it starts from
 *      (replayed when old, version_gap when ahead: a snapshot is requested);
 *      a snapshot must be newer than the cache, or answer one of our recent
 *      requests (replayed);
 *   3. snapshot chunks: in order and consistent with chunk 0 (missing_chunk,
 *      chunk_mismatch, chunk_conflict), every record valid (invalid_payload),
 *      the whole matching its checksum (checksum_mismatch), finished in time
 *      (snapshot_timeout), not overtaken (superseded).
 *
 * Messages are handled one at a time, in arrival order, on a queue. A
 * snapshot is staged chunk by chunk into a generation of its own by the
 * staging worker (staging-worker.ts: parse, validate, hash and insert into
 * a file of its own, on a thread of its own; on the event loop, in slices,
 * for an in-memory store), sealed once the last chunk and the checksum
 * check out, and put in force by one short step on the event loop
 * (store/cache-files.ts). Decisions keep using the old generation until
 * that moment; a crash, or a failed worker, before it leaves the old data
 * in force.
 *
 * Pipelined: the queue hands chunk N to the stager and goes on to verify
 * and check the next ones while it is staged, up to HANDED_AHEAD chunks
 * ahead (the worker's transactions then run across chunks, and it never
 * waits for the next one). Outcomes come in chunk order. A chunk handed
 * over after one that turns out invalid gets the refusal strict order would
 * have given it (its snapshot already ended); its rows, if any, are garbage
 * of the abandoned generation.
 */
import type { CloudKeyring } from '../cloud/signed-message.js';
import { freshness } from '../engine/staleness.js';
import type { Logger } from '../runtime/logger.js';
import type { CredentialCache } from '../store/cache.js';
import { DeltaConflictError, newStageCounts, type Activation, type RejectedCredential, type StageCounts, type SyncSource } from '../store/cache-writer.js';
import type { CredentialConflict } from '../store/cache.js';
import type { Durability } from '../store/wal-flusher.js';
import { AbortedError, nextTurn, Slicer } from './cooperative.js';
import { defaultSiteSettings, type Dataset } from './dataset.js';
import { deltaSchema, snapshotChunkSchema, type SnapshotChunk, type SnapshotRequestReason, type SyncRejectReason } from './messages.js';
import { RejectionLog } from './rejection-log.js';
import { SnapshotAssembly } from './snapshot-assembly.js';
import { GenerationCollector, removeGarbage, removeGarbageFiles, type Removed } from './generation-collector.js';
import { InvalidRecordError, type StagePartResult } from './snapshot-stager.js';
import { InThreadStager, type Stager } from './stager.js';
import { StagingWorker, StagingWorkerError } from './staging-worker.js';
import {
  SyncRejectedError,
  type AppliedSnapshot,
  type ChunkOutcome,
  type DeltaOutcome,
  type ImportJob,
  type Rejected,
  type StalenessRules,
  type SyncStatus,
} from './sync-types.js';
import { verifySyncMessage, warmSyncVerification, type Verified } from './verify-message.js';

export { SyncRejectedError, type AppliedSnapshot, type ChunkOutcome, type DeltaOutcome, type ImportJob, type StalenessRules, type SyncStatus };

export interface SyncEngineOptions {
  readonly cache: CredentialCache;
  /** Null without a cloud section: every signed message is then refused (unknown_key). */
  readonly keyring: CloudKeyring | null;
  readonly maxMessageBytes: number;
  readonly gatewayId: string;
  readonly siteId: string;
  /** Null without a cloud section: the cache never goes stale. */
  readonly staleness: StalenessRules | null;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Longest stretch of apply work between two turns of the event loop (in-thread staging). */
  readonly sliceMs?: number;
  /** Stage on a worker thread (default); false, or an in-memory database: on the event loop, in slices. */
  readonly stagingWorker?: boolean;
  /** How long an idle staging worker lingers before its thread ends (tests shorten it). */
  readonly stagingLingerMs?: number;
  /** A snapshot whose next chunk has not arrived for this long is abandoned. */
  readonly chunkTimeoutMs?: number;
  /** Messages waiting beyond this are refused (busy). */
  readonly maxQueued?: number;
  /**
   * Makes an applied delta survive a power cut (the cache file's WAL,
   * synced off the event loop). Without it a delta is durable at the next
   * checkpoint; until then a power cut takes the cache back a version, and
   * a revocation with it, until the gateway asks again (its boot request,
   * or the gap the next delta finds).
   */
  readonly cacheDurability?: Durability;
}

/** A snapshot chunk without its data: what the engine keeps of it while the data is staged. */
type ChunkHeader = Omit<SnapshotChunk, 'data'>;

/** Where a snapshot's chunks come from; each has its own assembly, so an import never mixes with MQTT chunks. */
interface Channel {
  readonly source: SyncSource;
  /** An import may replace newer data when the operator says so. */
  readonly force: boolean;
  assembly: SnapshotAssembly | null;
  /** Generation being staged without an assembly (a plain data set). */
  gen: number | null;
  counts: StageCounts;
  startedAt: number;
  /** Outcomes of the chunks handed to the stager and not settled yet, oldest first. */
  readonly handed: Promise<ChunkOutcome>[];
  /** An import's first refusal (its later chunks are not its business any more). */
  failure: Rejected | null;
}

/** A chunk handed to the stager: the queue moves on, its outcome comes when the staging is done. */
interface Handed {
  readonly outcome: Promise<ChunkOutcome>;
  /** The snapshot's last chunk: its outcome is in already (applied, or refused). */
  readonly last: boolean;
}

/** People per part when a data set (seed file) is handed to the stager. */
const DATASET_PART_PEOPLE = 500;
/** Chunks of one channel out with the stager at a time (~64 KiB each). */
const HANDED_AHEAD = 4;

/** Remembered outcomes of snapshots that ended, so their late chunks are refused without noise. */
const CLOSED_SNAPSHOTS = 64;
/** Requests whose answer we still accept as a same-version snapshot. */
const RECENT_REQUESTS = 8;

export class SyncEngine {
  readonly #o: SyncEngineOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #sliceMs: number;
  readonly #chunkTimeoutMs: number;
  readonly #maxQueued: number;
  readonly #rejections: RejectionLog;
  readonly #stager: Stager;
  readonly #collector: GenerationCollector;
  /** Generations a staging request is out for: live, so no collection deletes their rows while more may still arrive. */
  readonly #handedOut = new Map<number, number>();
  /** The last generation number this engine allocated (see #allocate). */
  #lastGen = 0;
  readonly #closed = new Map<string, SyncRejectReason>();
  readonly #recentRequests: string[] = [];
  readonly #needListeners = new Set<(reason: SnapshotRequestReason) => void>();
  readonly #changeListeners = new Set<() => void>();
  readonly #mqtt: Channel = { source: 'mqtt', force: false, assembly: null, gen: null, counts: newStageCounts(), startedAt: 0, handed: [], failure: null };
  #other: Channel | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #stopped = false;
  #chunkTimer: NodeJS.Timeout | null = null;
  #lastChunkAt = 0;
  #lastRequest: SyncStatus['lastRequest'] = null;
  #importJob: ImportJob | null = null;
  #importIds = 0;
  #snapshots = 0;
  #deltas = 0;
  #duplicates = 0;

  constructor(options: SyncEngineOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'sync' });
    this.#now = options.now ?? Date.now;
    this.#sliceMs = options.sliceMs ?? 2;
    this.#chunkTimeoutMs = options.chunkTimeoutMs ?? 60_000;
    this.#maxQueued = options.maxQueued ?? 2_000;
    this.#rejections = new RejectionLog(this.#log);
    const stager = { cache: options.cache, live: () => this.#live(), isStopped: () => this.#stopped, logger: this.#log };
    const setup = options.stagingWorker === false ? null : options.cache.writer.workerSetup();
    this.#stager = setup === null ? new InThreadStager({ ...stager, sliceMs: this.#sliceMs }) : new StagingWorker({ ...stager, ...setup, lingerMs: options.stagingLingerMs });
    this.#collector = new GenerationCollector({ pass: () => this.#collectPass(), isStopped: () => this.#stopped, logger: this.#log });
  }

  /** The staging worker; null when staging runs on the event loop. */
  get stagingWorker(): StagingWorker | null {
    return this.#stager instanceof StagingWorker ? this.#stager : null;
  }

  /**
   * Credentials held by several people in the data in force, scanned by the
   * staging worker (a GROUP BY over every credential: tens of ms at 100,000
   * people, not for the event loop).
   */
  conflicts(): Promise<CredentialConflict[]> {
    return this.#stager.conflicts();
  }

  /** Called when the engine wants a fresh snapshot (gap, bad checksum, lost chunks, conflict). */
  onSnapshotNeeded(listener: (reason: SnapshotRequestReason) => void): () => void {
    this.#needListeners.add(listener);
    return () => this.#needListeners.delete(listener);
  }

  /** Called after anything the sync status shows has changed. */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** Remove what an interrupted apply left behind (a crash mid-snapshot). */
  start(): void {
    this.#collect();
  }

  /** Stop at the next pause of the work in hand and wait for it to end; the staging worker ends too. Staged rows stay as garbage for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearChunkTimer();
    // First: a chunk the worker is staging stops at its next pause instead of running to its end.
    const closed = this.#stager.close();
    await this.#tail.catch(() => undefined);
    await this.#stagingsDone();
    await closed;
    await this.#collector.settled();
  }

  /** Resolves once every queued message is handled and no garbage collection runs (tests, tools). */
  async whenIdle(): Promise<void> {
    for (;;) {
      await this.#tail.catch(() => undefined);
      await this.#stagingsDone();
      await this.#collector.settled();
      if (this.#queued === 0 && this.#handedOut.size === 0 && !this.#collector.running) return;
    }
  }

  /** A request for a snapshot was published; a same-version snapshot answering it will be accepted, and the stager gets ready for it. */
  noteRequest(requestId: string, reason: SnapshotRequestReason): void {
    if (!this.#stopped) {
      this.#stager.warm();
      warmSyncVerification(this.#o);
    }
    this.#recentRequests.push(requestId);
    if (this.#recentRequests.length > RECENT_REQUESTS) this.#recentRequests.shift();
    this.#lastRequest = { requestId, reason, at: new Date(this.#now()).toISOString() };
  }

  /** A message from the sync/snapshot topic. Never throws. */
  handleSnapshotMessage(raw: Buffer): Promise<ChunkOutcome> {
    if (this.#queued >= this.#maxQueued) return Promise.resolve(this.#reject('busy', `${this.#queued} sync messages are waiting`, null));
    this.#lastChunkAt = this.#now();
    return this.#enqueue(() => this.#chunk(this.#verifyChunk(raw), this.#mqtt)).then((step) => ('outcome' in step ? step.outcome : step));
  }

  /** A message from the sync/delta topic. Never throws. */
  handleDeltaMessage(raw: Buffer): Promise<DeltaOutcome> {
    if (this.#queued >= this.#maxQueued) return Promise.resolve(this.#reject('busy', `${this.#queued} sync messages are waiting`, null));
    return this.#enqueue(() => Promise.resolve(this.#delta(raw)));
  }

  /**
   * Apply one signed snapshot from a file (one chunk envelope per line) through
   * the same checks as MQTT. Exclusive: MQTT messages wait on the queue
   * meanwhile. Rejects with SyncRejectedError.
   */
  importSnapshot(lines: AsyncIterable<string>, options: { readonly file: string; readonly force?: boolean; readonly source?: SyncSource }): Promise<AppliedSnapshot> {
    const job: ImportJob = {
      id: ++this.#importIds,
      file: options.file,
      state: 'running',
      startedAt: new Date(this.#now()).toISOString(),
      finishedAt: null,
      chunks: { received: 0, total: null },
      people: 0,
      result: null,
      error: null,
    };
    this.#importJob = job;
    const finish = (state: ImportJob['state']): void => {
      job.state = state;
      job.finishedAt = new Date(this.#now()).toISOString();
    };
    return this.#enqueueRaw(() => this.#import(lines, options.force ?? false, options.source ?? 'import', job)).then(
      (result) => {
        job.result = result;
        finish('done');
        return result;
      },
      (error: unknown) => {
        job.error = error instanceof SyncRejectedError ? { reason: error.reason, detail: error.detail } : { reason: 'error', detail: error instanceof Error ? error.message : String(error) };
        finish('failed');
        throw error;
      },
    );
  }

  /** The import started last (running or finished), for progress displays. */
  get importJob(): ImportJob | null {
    return this.#importJob;
  }

  /**
   * Apply a data set that was validated already (an unsigned seed file), in
   * batches and through the same swap as a snapshot.
   */
  applyDataset(dataset: Dataset, source: SyncSource): Promise<AppliedSnapshot> {
    return this.#enqueueRaw(async () => {
      const channel = this.#openChannel(source, false);
      const gen = this.#allocate();
      channel.gen = gen;
      let inForce = false;
      try {
        for (const part of datasetParts(dataset)) {
          // Its records were validated when the file was read; the stager takes them as they are.
          const result = await this.#stage(gen, { gen, at: this.#now(), data: JSON.stringify(part), validate: false, label: 'data set' });
          if (!result.ok) throw new InvalidRecordError(result.invalid);
          addCounts(channel.counts, result);
        }
        const activation: Activation = { version: dataset.version, syncedAt: this.#now(), source, snapshotId: null, checksum: null, issuedAt: null };
        await this.#stager.seal(gen, activation, dataset.settings);
        this.#stager.putInForce(gen, activation, dataset.settings);
        inForce = true;
      } finally {
        this.#other = null;
        if (!inForce) this.#discard(gen);
        this.#collect();
      }
      return this.#applied(channel, dataset.version, null);
    });
  }

  status(): SyncStatus {
    const s = this.#o.cache.state();
    const rules = this.#o.staleness;
    const f = freshness(s.syncedAt, this.#now(), rules?.staleAfterMs ?? null);
    const m = this.#mqtt.assembly;
    return {
      keys: this.#o.keyring?.keyIds ?? [],
      state: this.#other !== null ? 'applying' : m !== null ? 'receiving' : 'idle',
      version: s.version,
      syncedAt: s.syncedAt === null ? null : new Date(s.syncedAt).toISOString(),
      ageS: f.ageMs === null ? null : Math.floor(f.ageMs / 1000),
      stale: f.stale,
      staleAfterHours: rules === null ? null : rules.staleAfterMs / 3_600_000,
      stalePolicy: rules?.policy ?? null,
      source: s.source,
      snapshotId: s.snapshotId,
      receiving:
        m === null ? null : { snapshotId: m.header.snapshotId, version: m.header.version, chunksReceived: m.received, chunks: m.header.chunks, people: this.#mqtt.counts.people },
      import: this.#importJob === null ? null : { ...this.#importJob, chunks: { ...this.#importJob.chunks } },
      lastRequest: this.#lastRequest,
      lastRejection: this.#rejections.last,
      rejected: this.#rejections.counts,
      applied: { snapshots: this.#snapshots, deltas: this.#deltas, duplicateChunks: this.#duplicates },
    };
  }

  // --- the queue -------------------------------------------------------------

  /** A message's handling; an unexpected failure is logged and reported as busy, never thrown at the transport. */
  #enqueue<T>(job: () => Promise<T>): Promise<T | Rejected> {
    return this.#enqueueRaw(job).catch((error: unknown) => this.#failure(error));
  }

  #failure(error: unknown): Rejected {
    if (error instanceof StagingWorkerError) return this.#reject('busy', `${error.message}; the snapshot in progress was abandoned`, null);
    if (!(error instanceof AbortedError)) this.#log.error({ err: error }, 'sync message handling failed');
    return { kind: 'rejected', reason: 'busy', detail: error instanceof AbortedError ? 'stopping' : 'internal error' };
  }

  #enqueueRaw<T>(job: () => Promise<T>): Promise<T> {
    this.#queued++;
    const run = this.#tail.then(async () => {
      try {
        // Not in the turn the previous job's last slice ran in.
        await nextTurn();
        if (this.#stopped) throw new AbortedError('stopped');
        return await job();
      } finally {
        this.#queued--;
      }
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  // --- snapshots ---------------------------------------------------------------

  /** The envelope's checks: CPU only, no state read or changed, so it may run while the previous chunk is being staged. */
  #verifyChunk(raw: Buffer): Verified<SnapshotChunk> {
    return verifySyncMessage(this.#o, raw, 'sync.snapshot', snapshotChunkSchema);
  }

  /**
   * A verified chunk: checked against the snapshot and handed to the
   * stager. Resolves when it is handed (the queue moves on) or, for the last
   * chunk, when the snapshot is in force or refused; a chunk refused before
   * staging resolves with the rejection.
   */
  async #chunk(verified: Verified<SnapshotChunk>, ch: Channel): Promise<Handed | ChunkOutcome> {
    while (ch.handed.length >= HANDED_AHEAD) await ch.handed[0];
    if (this.#stopped) throw new AbortedError('stopped');
    if (ch.failure !== null) return ch.failure;
    if (!verified.ok) return this.#reject(verified.reason, verified.detail, null);
    const c = verified.msg;
    const request = (reason: SnapshotRequestReason): SnapshotRequestReason | null => (ch.source === 'mqtt' ? reason : null);

    let asm = ch.assembly;
    if (asm === null || asm.header.snapshotId !== c.snapshotId) {
      const started = this.#begin(c, ch);
      if (started.kind === 'rejected') return started;
      asm = started.assembly;
    }

    const verdict = asm.check(c);
    if (verdict.kind === 'duplicate') {
      this.#duplicates++;
      return { kind: 'duplicate' };
    }
    if (verdict.kind === 'reject') {
      this.#abandon(ch, verdict.reason);
      return this.#reject(verdict.reason, verdict.detail, request(verdict.reason === 'missing_chunk' ? 'incomplete' : 'conflict'));
    }
    asm.take(c);
    if (ch.source === 'mqtt') this.#armChunkTimer();

    // Only the header stays here while the chunk is staged: its data (~64 KiB) is the stager's, and
    // held across the wait it would outlive a young-generation collection or two and be promoted.
    const { data, ...header } = c;
    const outcome = this.#stageChunk(header, data, ch, asm).catch((error: unknown) => this.#stagingFailed(error, header, ch, asm));
    ch.handed.push(outcome);
    void outcome.finally(() => ch.handed.splice(ch.handed.indexOf(outcome), 1));
    // The last chunk holds the queue until the swap: what comes next must see its result.
    if (asm.complete) await outcome;
    return { outcome, last: asm.complete };
  }

  /** Staging a chunk failed (the worker died, the disk is full, a bug): the snapshot must not go on without it. */
  #stagingFailed(error: unknown, c: ChunkHeader, ch: Channel, asm: SnapshotAssembly): ChunkOutcome {
    if (error instanceof AbortedError) return this.#failure(error);
    if (asm.failure !== null) return this.#afterFailure(c, ch, asm.failure);
    if (ch.assembly !== asm) {
      // The snapshot ended while this chunk was staged (timed out, replaced: reported then), and its build was discarded under it.
      this.#collect();
      return { kind: 'taken' };
    }
    asm.fail('missing_chunk');
    if (ch.assembly === asm) {
      this.#abandon(ch, 'missing_chunk');
      if (ch.source === 'mqtt') this.#needSnapshot('incomplete');
    }
    return this.#failed(ch, this.#failure(error));
  }

  /** A chunk handed over after one of its snapshot that failed: what strict order would have answered. */
  #afterFailure(c: ChunkHeader, ch: Channel, reason: SyncRejectReason): Rejected {
    this.#collect();
    const detail = `chunk ${c.chunk} of snapshot ${c.snapshotId}, which already ended (${reason})`;
    // An import stops at its first refusal: the ones after it are nobody's business.
    return ch.source === 'mqtt' ? this.#reject(reason, detail, null) : { kind: 'rejected', reason, detail };
  }

  #failed(ch: Channel, rejected: Rejected): Rejected {
    if (ch.source !== 'mqtt') ch.failure ??= rejected;
    return rejected;
  }

  /** Chunk 0 of a snapshot this channel is not receiving yet: may it start? */
  #begin(c: SnapshotChunk, ch: Channel): Rejected | { kind: 'started'; assembly: SnapshotAssembly } {
    // An import is deliberate: only the version rules decide about it.
    const closed = ch.source === 'mqtt' ? this.#closed.get(c.snapshotId) : undefined;
    if (closed !== undefined) return this.#reject(closed, `chunk ${c.chunk} of snapshot ${c.snapshotId}, which already ended (${closed})`, null);
    if (c.chunk !== 0) {
      this.#close(c.snapshotId, 'missing_chunk');
      return this.#reject('missing_chunk', `chunk ${c.chunk} of snapshot ${c.snapshotId}, whose chunk 0 never arrived`, ch.source === 'mqtt' ? 'incomplete' : null);
    }
    const refusal = this.#refusesVersion(c, ch);
    if (refusal !== null) {
      this.#close(c.snapshotId, 'replayed');
      return this.#reject('replayed', refusal, null);
    }
    const current = ch.assembly;
    if (current !== null) {
      if (c.version < current.header.version) {
        this.#close(c.snapshotId, 'superseded');
        return this.#reject('superseded', `snapshot ${c.snapshotId} (version ${c.version}) is older than snapshot ${current.header.snapshotId} in progress`, null);
      }
      this.#log.info({ replaced: current.header.snapshotId, by: c.snapshotId }, 'snapshot in progress replaced by a newer one');
      this.#abandon(ch, 'superseded');
    }
    const assembly = new SnapshotAssembly(c, this.#allocate());
    ch.assembly = assembly;
    ch.counts = newStageCounts();
    ch.failure = null;
    ch.startedAt = this.#now();
    this.#log.info({ snapshotId: c.snapshotId, version: c.version, chunks: c.chunks, source: ch.source }, 'receiving snapshot');
    return { kind: 'started', assembly };
  }

  /** Null when the snapshot may replace the cache; otherwise why not. */
  #refusesVersion(c: SnapshotChunk, ch: Channel): string | null {
    const s = this.#o.cache.state();
    if (s.appliedAt === null || c.version > s.version || ch.force) return null;
    if (c.version === s.version && c.requestId !== null && this.#recentRequests.includes(c.requestId)) return null;
    return c.version === s.version
      ? `snapshot ${c.snapshotId} is at version ${c.version}, which the cache has, and answers no recent request of ours`
      : `snapshot ${c.snapshotId} is at version ${c.version}, older than the cache's ${s.version}`;
  }

  /** Stage one chunk's records; after the last chunk, check the whole and swap it in. */
  async #stageChunk(c: ChunkHeader, data: string, ch: Channel, asm: SnapshotAssembly): Promise<ChunkOutcome> {
    const result = await this.#stage(asm.gen, { gen: asm.gen, at: this.#now(), data, validate: true, label: `chunk ${c.chunk}` });
    if (asm.failure !== null) return this.#afterFailure(c, ch, asm.failure);
    if (ch.assembly !== asm) {
      // The snapshot ended while this chunk was staged (timed out, replaced); that was reported then.
      this.#collect();
      return { kind: 'taken' };
    }
    if (!result.ok) {
      asm.fail('invalid_payload');
      this.#abandon(ch, 'invalid_payload');
      return this.#failed(ch, this.#reject('invalid_payload', result.invalid, null));
    }
    addCounts(ch.counts, result);
    // Outcomes come in chunk order: the last chunk's is the last, all of the snapshot is staged.
    if (c.chunk < asm.header.chunks - 1) {
      this.#changed();
      return { kind: 'taken' };
    }
    return await this.#finish(c, ch, asm);
  }

  /**
   * A generation number for staging, never one this engine used before: the
   * staging worker keeps state per generation (settings seen, a refused
   * part), and a number freed by collection must not inherit it.
   */
  #allocate(): number {
    this.#lastGen = this.#o.cache.writer.allocateGeneration([...this.#live(), this.#lastGen]);
    return this.#lastGen;
  }

  /** Hand a part to the stager; its generation stays reserved until the answer is in. */
  async #stage(gen: number, request: Parameters<Stager['stage']>[0]): Promise<StagePartResult> {
    this.#handedOut.set(gen, (this.#handedOut.get(gen) ?? 0) + 1);
    try {
      return await this.#stager.stage(request);
    } finally {
      const left = (this.#handedOut.get(gen) ?? 1) - 1;
      if (left === 0) this.#handedOut.delete(gen);
      else this.#handedOut.set(gen, left);
    }
  }

  /** The last chunk is staged: check the whole and swap it in. */
  async #finish(c: ChunkHeader, ch: Channel, asm: SnapshotAssembly): Promise<ChunkOutcome> {
    if (!asm.checksumMatches()) {
      this.#abandon(ch, 'checksum_mismatch');
      return this.#reject('checksum_mismatch', `snapshot ${c.snapshotId}: the ${c.chunks} chunk(s) do not add up to ${c.checksum}`, ch.source === 'mqtt' ? 'checksum' : null);
    }
    const activation: Activation = {
      version: c.version,
      syncedAt: this.#now(),
      source: ch.source,
      snapshotId: c.snapshotId,
      checksum: c.checksum,
      issuedAt: Date.parse(c.issuedAt),
    };
    await this.#stager.seal(asm.gen, activation, defaultSiteSettings);
    await this.#turn();
    // Deltas may have moved the version on while the generation was sealed.
    const current = this.#o.cache.state();
    if (c.version < current.version && !ch.force) {
      this.#abandon(ch, 'superseded');
      return this.#reject('superseded', `snapshot ${c.snapshotId} (version ${c.version}) was overtaken by deltas to version ${current.version}`, null);
    }
    this.#stager.putInForce(asm.gen, activation, defaultSiteSettings);
    ch.assembly = null;
    this.#close(c.snapshotId, 'replayed');
    if (ch.source === 'mqtt') this.#clearChunkTimer();
    this.#collect();
    return { kind: 'applied', snapshot: this.#applied(ch, c.version, c.snapshotId) };
  }

  /** One turn of the event loop between two pieces of apply work. */
  async #turn(): Promise<void> {
    await nextTurn();
    if (this.#stopped) throw new AbortedError('stopped');
  }

  async #import(lines: AsyncIterable<string>, force: boolean, source: SyncSource, job: ImportJob): Promise<AppliedSnapshot> {
    const ch = this.#openChannel(source, force);
    const progress = (): void => {
      const asm = ch.assembly;
      if (asm !== null) job.chunks = { received: asm.received, total: asm.header.chunks };
      job.people = ch.counts.people;
    };
    const refused = (r: Rejected): never => {
      throw new SyncRejectedError(r.reason, r.detail);
    };
    try {
      for await (const line of lines) {
        if (line.trim() === '') continue;
        // One chunk per turn of the loop, as MQTT delivers them: a file's
        // lines come many to a turn, and verifying a few back to back
        // would hold a card read up for as long.
        await this.#turn();
        // Verified while earlier chunks are staged.
        const verified = this.#verifyChunk(Buffer.from(line, 'utf8'));
        if (ch.failure !== null) refused(ch.failure);
        const step = await this.#chunk(verified, ch).catch((error: unknown) => this.#failure(error));
        if (!('outcome' in step)) {
          if (step.kind === 'rejected') refused(ch.failure ?? step);
          continue;
        }
        void step.outcome.then(progress);
        if (!step.last) continue;
        const outcome = await step.outcome;
        if (outcome.kind === 'applied') return outcome.snapshot;
        refused(ch.failure ?? (outcome.kind === 'rejected' ? outcome : { kind: 'rejected', reason: 'invalid_payload', detail: 'the last chunk was not applied' }));
      }
      await this.#stagingsDone();
      if (ch.failure !== null) refused(ch.failure);
      const asm = ch.assembly;
      if (asm === null) throw new SyncRejectedError('invalid_payload', 'the file holds no snapshot chunk');
      this.#abandon(ch, 'missing_chunk');
      throw new SyncRejectedError('missing_chunk', `the file ends after ${asm.received} of ${asm.header.chunks} chunk(s)`);
    } finally {
      await this.#stagingsDone();
      if (ch.assembly !== null) this.#abandon(ch, 'superseded');
      this.#other = null;
    }
  }

  #openChannel(source: SyncSource, force: boolean): Channel {
    const ch: Channel = { source, force, assembly: null, gen: null, counts: newStageCounts(), startedAt: this.#now(), handed: [], failure: null };
    this.#other = ch;
    return ch;
  }

  /** Resolves once no chunk of any channel is being staged. */
  async #stagingsDone(): Promise<void> {
    await Promise.all([...this.#mqtt.handed, ...(this.#other?.handed ?? [])]);
  }

  #applied(ch: Channel, version: number, snapshotId: string | null): AppliedSnapshot {
    const c = ch.counts;
    const applied: AppliedSnapshot = {
      version,
      snapshotId,
      people: c.people,
      credentials: c.credentials,
      entitlements: c.entitlements,
      doors: c.doors,
      schedules: c.schedules,
      rejectedCredentials: c.rejectedCredentials,
      ms: this.#now() - ch.startedAt,
    };
    this.#snapshots++;
    this.#rejections.applied();
    this.#log.info(
      { ...applied, rejectedCredentials: c.rejectedCredentials.slice(0, 20), rejectedCredentialCount: c.rejectedCredentials.length, source: ch.source },
      'snapshot applied',
    );
    this.#changed();
    return applied;
  }

  /** Give up the snapshot in progress on a channel; its staged rows become garbage. */
  #abandon(ch: Channel, reason: SyncRejectReason): void {
    const asm = ch.assembly;
    if (asm === null) return;
    ch.assembly = null;
    this.#close(asm.header.snapshotId, reason);
    if (ch.source === 'mqtt') this.#clearChunkTimer();
    this.#discard(asm.gen);
    this.#collect();
    this.#changed();
  }

  /** Delete unused generations in the background (again, if a run is going on). */
  #collect(): void {
    this.#collector.collect();
  }

  /**
   * One collection pass: generation files nobody uses (an unlink each, off
   * the loop), then generations staged inside the file in force and not in
   * force (in-memory store, applySnapshot), deleted in slices of the loop.
   */
  async #collectPass(): Promise<Removed[]> {
    const live = (): ReadonlySet<number> => this.#live();
    const files = await removeGarbageFiles(this.#o.cache.db, live);
    return [...files, ...(await removeGarbage(this.#o.cache.writer, live, new Slicer(this.#sliceMs, () => this.#stopped)))];
  }

  /** Tell the stager a generation is given up; its file or rows are then garbage. */
  #discard(gen: number): void {
    this.#stager.discard(gen).catch((error: unknown) => {
      if (!(error instanceof AbortedError)) this.#log.warn({ err: error, gen }, 'could not discard a generation being built; it is collected anyway');
    });
  }

  #close(snapshotId: string, reason: SyncRejectReason): void {
    this.#closed.delete(snapshotId);
    this.#closed.set(snapshotId, reason);
    if (this.#closed.size > CLOSED_SNAPSHOTS) this.#closed.delete(this.#closed.keys().next().value ?? '');
  }

  #armChunkTimer(): void {
    this.#clearChunkTimer();
    this.#chunkTimer = setTimeout(() => this.#onChunkTimeout(), this.#chunkTimeoutMs);
    this.#chunkTimer.unref();
  }

  #clearChunkTimer(): void {
    if (this.#chunkTimer !== null) clearTimeout(this.#chunkTimer);
    this.#chunkTimer = null;
  }

  #onChunkTimeout(): void {
    this.#chunkTimer = null;
    const asm = this.#mqtt.assembly;
    if (asm === null || this.#stopped) return;
    // Chunks may be waiting on the queue behind a long import: judge by arrival.
    const silentMs = this.#now() - this.#lastChunkAt;
    if (silentMs < this.#chunkTimeoutMs) {
      this.#chunkTimer = setTimeout(() => this.#onChunkTimeout(), this.#chunkTimeoutMs - silentMs);
      this.#chunkTimer.unref();
      return;
    }
    void this.#enqueue(async () => {
      if (this.#mqtt.assembly !== asm) return;
      this.#abandon(this.#mqtt, 'snapshot_timeout');
      this.#reject('snapshot_timeout', `snapshot ${asm.header.snapshotId}: no chunk for ${Math.round(silentMs / 1000)} s after ${asm.received} of ${asm.header.chunks}`, 'incomplete');
    });
  }

  // --- deltas --------------------------------------------------------------------

  #delta(raw: Buffer): DeltaOutcome {
    const verified = verifySyncMessage(this.#o, raw, 'sync.delta', deltaSchema);
    if (!verified.ok) return this.#reject(verified.reason, verified.detail, null);
    const d = verified.msg;
    const version = this.#o.cache.state().version;
    if (d.toVersion <= version) return this.#reject('replayed', `delta ${d.fromVersion}->${d.toVersion}, the cache is at ${version}`, null);
    if (d.fromVersion !== version) {
      // A snapshot in progress that reaches this far will close the gap by itself.
      const covered = (this.#mqtt.assembly?.header.version ?? -1) >= d.toVersion;
      return this.#reject('version_gap', `delta ${d.fromVersion}->${d.toVersion}, the cache is at ${version}`, covered ? null : 'gap');
    }
    let skipped: RejectedCredential[];
    try {
      skipped = this.#o.cache.applyDelta(d.ops, d.toVersion, this.#now());
    } catch (error) {
      if (error instanceof DeltaConflictError) return this.#reject('delta_conflict', `delta ${d.fromVersion}->${d.toVersion}: ${error.message}`, 'conflict');
      throw error;
    }
    this.#deltas++;
    this.#rejections.applied();
    this.#log.info({ fromVersion: d.fromVersion, toVersion: d.toVersion, ops: d.ops.length, rejectedCredentials: skipped }, 'delta applied');
    this.#o.cacheDurability?.flush().catch((error: unknown) => {
      this.#log.error({ err: error, toVersion: d.toVersion }, 'delta applied but not synced to disk: a power cut may take it back');
    });
    this.#changed();
    return { kind: 'applied', version: d.toVersion, ops: d.ops.length };
  }

  // --- bookkeeping ---------------------------------------------------------------

  #reject(reason: SyncRejectReason, detail: string, request: SnapshotRequestReason | null): Rejected {
    const text = this.#rejections.record(reason, detail, this.#now());
    if (request !== null) this.#needSnapshot(request);
    this.#changed();
    return { kind: 'rejected', reason, detail: text };
  }

  #needSnapshot(reason: SnapshotRequestReason): void {
    for (const listener of this.#needListeners) listener(reason);
  }

  #changed(): void {
    for (const listener of this.#changeListeners) {
      try {
        listener();
      } catch (error) {
        this.#log.error({ err: error }, 'sync change listener failed');
      }
    }
  }

  /** Generations that must survive garbage collection, and must not be allocated again: the ones being staged. */
  #live(): Set<number> {
    const live = new Set<number>(this.#handedOut.keys());
    for (const ch of [this.#mqtt, this.#other]) {
      if (ch?.assembly) live.add(ch.assembly.gen);
      if (ch?.gen != null) live.add(ch.gen);
    }
    return live;
  }

}

function addCounts(into: StageCounts, result: { readonly counts: StageCounts }): void {
  const c = result.counts;
  into.people += c.people;
  into.credentials += c.credentials;
  into.entitlements += c.entitlements;
  into.doors += c.doors;
  into.schedules += c.schedules;
  into.rejectedCredentials.push(...c.rejectedCredentials);
}

/** A data set cut into parts for the stager: settings, doors and schedules with the first. */
function* datasetParts(dataset: Dataset): Generator<{ people: Dataset['people']; settings?: Dataset['settings']; doors?: Dataset['doors']; schedules?: Dataset['schedules'] }> {
  const { people } = dataset;
  yield { people: people.slice(0, DATASET_PART_PEOPLE), settings: dataset.settings, doors: dataset.doors, schedules: dataset.schedules };
  for (let i = DATASET_PART_PEOPLE; i < people.length; i += DATASET_PART_PEOPLE) yield { people: people.slice(i, i + DATASET_PART_PEOPLE) };
}
