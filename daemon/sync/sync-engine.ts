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
 * snapshot is staged chunk by chunk into a generation of its own, in slices
 * that yield to the event loop, and put in force by one short transaction
 * once the last chunk and the checksum check out. Decisions keep using the
 * old generation until that moment.
 */
import type { CloudKeyring } from '../cloud/signed-message.js';
import { freshness } from '../engine/staleness.js';
import type { Logger } from '../runtime/logger.js';
import type { CredentialCache } from '../store/cache.js';
import { DeltaConflictError, newStageCounts, type RejectedCredential, type StageCounts, type SyncSource } from '../store/cache-writer.js';
import { AbortedError, nextTurn, Slicer } from './cooperative.js';
import { defaultSiteSettings, type Dataset } from './dataset.js';
import { GenerationCollector } from './generation-collector.js';
import { deltaSchema, snapshotChunkSchema, snapshotPartOutlineSchema, type SnapshotChunk, type SnapshotRequestReason, type SyncRejectReason } from './messages.js';
import { RejectionLog } from './rejection-log.js';
import { SnapshotAssembly } from './snapshot-assembly.js';
import { InvalidRecordError, stagePart, stageParsed, type StageTarget } from './snapshot-stager.js';
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
import { verifySyncMessage } from './verify-message.js';

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
  /** Longest stretch of apply work between two turns of the event loop. */
  readonly sliceMs?: number;
  /** A snapshot whose next chunk has not arrived for this long is abandoned. */
  readonly chunkTimeoutMs?: number;
  /** Messages waiting beyond this are refused (busy). */
  readonly maxQueued?: number;
}

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
}

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
  readonly #collector: GenerationCollector;
  readonly #closed = new Map<string, SyncRejectReason>();
  readonly #recentRequests: string[] = [];
  readonly #needListeners = new Set<(reason: SnapshotRequestReason) => void>();
  readonly #changeListeners = new Set<() => void>();
  readonly #mqtt: Channel = { source: 'mqtt', force: false, assembly: null, gen: null, counts: newStageCounts(), startedAt: 0 };
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
    this.#collector = new GenerationCollector({
      writer: options.cache.writer,
      live: () => this.#live(),
      sliceMs: this.#sliceMs,
      isStopped: () => this.#stopped,
      onRunningChange: () => this.#updateBulk(),
      logger: this.#log,
    });
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
    this.#collector.collect();
  }

  /** Stop at the next slice boundary and wait for the work in hand to end. Staged rows stay as garbage for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clearChunkTimer();
    await this.#tail.catch(() => undefined);
    await this.#collector.settled();
    await this.#o.cache.writer.settled();
  }

  /** Resolves once every queued message is handled and no garbage collection runs (tests, tools). */
  async whenIdle(): Promise<void> {
    for (;;) {
      await this.#tail.catch(() => undefined);
      await this.#collector.settled();
      if (this.#queued === 0 && !this.#collector.running) {
        await this.#o.cache.writer.settled();
        return;
      }
    }
  }

  /** A request for a snapshot was published; a same-version snapshot answering it will be accepted. */
  noteRequest(requestId: string, reason: SnapshotRequestReason): void {
    this.#recentRequests.push(requestId);
    if (this.#recentRequests.length > RECENT_REQUESTS) this.#recentRequests.shift();
    this.#lastRequest = { requestId, reason, at: new Date(this.#now()).toISOString() };
  }

  /** A message from the sync/snapshot topic. Never throws. */
  handleSnapshotMessage(raw: Buffer): Promise<ChunkOutcome> {
    if (this.#queued >= this.#maxQueued) return Promise.resolve(this.#reject('busy', `${this.#queued} sync messages are waiting`, null));
    this.#lastChunkAt = this.#now();
    return this.#enqueue(() => this.#guarded(raw, this.#mqtt));
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
      const gen = this.#o.cache.writer.allocateGeneration(this.#live());
      channel.gen = gen;
      this.#updateBulk();
      try {
        await stageParsed(this.#target(channel, gen, () => true), dataset);
        await this.#o.cache.writer.flush();
        this.#o.cache.writer.activate(gen, { version: dataset.version, syncedAt: this.#now(), source, snapshotId: null, checksum: null, issuedAt: null }, dataset.settings);
      } finally {
        this.#other = null;
        this.#collector.collect();
        this.#updateBulk();
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
    return this.#enqueueRaw(job).catch((error: unknown): Rejected => {
      if (!(error instanceof AbortedError)) this.#log.error({ err: error }, 'sync message handling failed');
      return { kind: 'rejected', reason: 'busy', detail: error instanceof AbortedError ? 'stopping' : 'internal error' };
    });
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

  /** One turn of the event loop between two pieces of apply work. */
  async #turn(): Promise<void> {
    await nextTurn();
    if (this.#stopped) throw new AbortedError('stopped');
  }

  // --- snapshots ---------------------------------------------------------------

  /** A chunk whose handling failed half-way (disk full, a bug) must not leave a snapshot that silently lacks it. */
  async #guarded(raw: Buffer, ch: Channel): Promise<ChunkOutcome> {
    try {
      return await this.#chunk(raw, ch);
    } catch (error) {
      if (!(error instanceof AbortedError) && ch.assembly !== null) {
        this.#abandon(ch, 'missing_chunk');
        if (ch.source === 'mqtt') this.#needSnapshot('incomplete');
      }
      throw error;
    }
  }

  async #chunk(raw: Buffer, ch: Channel): Promise<ChunkOutcome> {
    const verified = verifySyncMessage(this.#o, raw, 'sync.snapshot', snapshotChunkSchema);
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

    const invalid = await this.#stageChunk(c, ch, asm);
    if (invalid !== null) {
      this.#abandon(ch, 'invalid_payload');
      return this.#reject('invalid_payload', invalid, null);
    }
    if (!asm.complete) {
      this.#changed();
      return { kind: 'taken' };
    }
    return await this.#finish(c, ch, asm);
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
    const assembly = new SnapshotAssembly(c, this.#o.cache.writer.allocateGeneration(this.#live()));
    ch.assembly = assembly;
    ch.counts = newStageCounts();
    ch.startedAt = this.#now();
    this.#updateBulk();
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

  /** Parse and stage one chunk's records; returns why they are invalid, or null. */
  async #stageChunk(c: SnapshotChunk, ch: Channel, asm: SnapshotAssembly): Promise<string | null> {
    // Verifying the chunk took a turn of its own; parsing its data takes the next.
    await this.#turn();
    let json: unknown;
    try {
      json = JSON.parse(c.data);
    } catch {
      return `chunk ${c.chunk}: data is not JSON`;
    }
    const outline = snapshotPartOutlineSchema.safeParse(json);
    if (!outline.success) {
      const issue = outline.error.issues[0];
      return `chunk ${c.chunk}: data ${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
    }
    await this.#turn();
    try {
      await stagePart(this.#target(ch, asm.gen, () => asm.claimSettings()), outline.data);
    } catch (error) {
      if (error instanceof InvalidRecordError) return `chunk ${c.chunk}: ${error.message}`;
      throw error;
    }
    return null;
  }

  /** The last chunk is staged: check the whole and swap it in. */
  async #finish(c: SnapshotChunk, ch: Channel, asm: SnapshotAssembly): Promise<ChunkOutcome> {
    if (!asm.checksumMatches()) {
      this.#abandon(ch, 'checksum_mismatch');
      return this.#reject('checksum_mismatch', `snapshot ${c.snapshotId}: the ${c.chunks} chunk(s) do not add up to ${c.checksum}`, ch.source === 'mqtt' ? 'checksum' : null);
    }
    await this.#o.cache.writer.flush();
    await this.#turn();
    // Deltas may have moved the version on while the staged rows were synced.
    const current = this.#o.cache.state();
    if (c.version < current.version && !ch.force) {
      this.#abandon(ch, 'superseded');
      return this.#reject('superseded', `snapshot ${c.snapshotId} (version ${c.version}) was overtaken by deltas to version ${current.version}`, null);
    }
    this.#o.cache.writer.activate(
      asm.gen,
      { version: c.version, syncedAt: this.#now(), source: ch.source, snapshotId: c.snapshotId, checksum: c.checksum, issuedAt: Date.parse(c.issuedAt) },
      defaultSiteSettings,
    );
    ch.assembly = null;
    this.#close(c.snapshotId, 'replayed');
    if (ch.source === 'mqtt') this.#clearChunkTimer();
    this.#collector.collect();
    this.#updateBulk();
    return { kind: 'applied', snapshot: this.#applied(ch, c.version, c.snapshotId) };
  }

  async #import(lines: AsyncIterable<string>, force: boolean, source: SyncSource, job: ImportJob): Promise<AppliedSnapshot> {
    const ch = this.#openChannel(source, force);
    try {
      for await (const line of lines) {
        if (line.trim() === '') continue;
        const outcome = await this.#guarded(Buffer.from(line, 'utf8'), ch);
        if (outcome.kind === 'rejected') throw new SyncRejectedError(outcome.reason, outcome.detail);
        if (outcome.kind === 'applied') return outcome.snapshot;
        const asm = ch.assembly;
        if (asm !== null) job.chunks = { received: asm.received, total: asm.header.chunks };
        job.people = ch.counts.people;
      }
      const asm = ch.assembly;
      if (asm === null) throw new SyncRejectedError('invalid_payload', 'the file holds no snapshot chunk');
      this.#abandon(ch, 'missing_chunk');
      throw new SyncRejectedError('missing_chunk', `the file ends after ${asm.received} of ${asm.header.chunks} chunk(s)`);
    } finally {
      if (ch.assembly !== null) this.#abandon(ch, 'superseded');
      this.#other = null;
      this.#updateBulk();
    }
  }

  #openChannel(source: SyncSource, force: boolean): Channel {
    const ch: Channel = { source, force, assembly: null, gen: null, counts: newStageCounts(), startedAt: this.#now() };
    this.#other = ch;
    return ch;
  }

  #target(ch: Channel, gen: number, claimSettings: () => boolean): StageTarget {
    return { writer: this.#o.cache.writer, gen, at: this.#now(), counts: ch.counts, slicer: new Slicer(this.#sliceMs, () => this.#stopped), claimSettings };
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
    this.#collector.collect();
    this.#updateBulk();
    this.#changed();
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
      skipped = this.#o.cache.writer.applyDelta(d.ops, d.toVersion, this.#now());
    } catch (error) {
      if (error instanceof DeltaConflictError) return this.#reject('delta_conflict', `delta ${d.fromVersion}->${d.toVersion}: ${error.message}`, 'conflict');
      throw error;
    }
    this.#deltas++;
    this.#rejections.applied();
    this.#log.info({ fromVersion: d.fromVersion, toVersion: d.toVersion, ops: d.ops.length, rejectedCredentials: skipped }, 'delta applied');
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

  /** Generations that must survive garbage collection: the ones being staged. */
  #live(): Set<number> {
    const live = new Set<number>();
    for (const ch of [this.#mqtt, this.#other]) {
      if (ch?.assembly) live.add(ch.assembly.gen);
      if (ch?.gen != null) live.add(ch.gen);
    }
    return live;
  }

  /** Checkpoints move to a worker while anything is staged or deleted in bulk. */
  #updateBulk(): void {
    const busy = !this.#stopped && (this.#mqtt.assembly !== null || this.#other !== null || this.#collector.running);
    void this.#o.cache.writer.bulk(busy);
  }
}
