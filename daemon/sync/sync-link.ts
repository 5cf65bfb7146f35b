/**
 * The sync engine on the MQTT link: subscribes to `sync/snapshot` and
 * `sync/delta`, asks for snapshots on `sync/request`, and keeps a retained
 * report of the cache on `sync/state`.
 *
 * When it asks: on the first connection of a daemon run (boot) and on every
 * later one (reconnect: deltas sent while we were away are lost with the
 * clean session), when the engine finds a gap, a bad checksum, lost chunks or
 * a conflict, when nothing was synced for half the staleness limit (refresh),
 * and on command. A burst of REQUEST_BURST requests goes out at once, then
 * one per `minRequestIntervalMs`: a cloud sending a stream of broken
 * messages cannot make the gateway flood it with requests. A request asked
 * for sooner waits and is sent when the interval allows.
 *
 * Requests and state reports are published directly, not journaled: both
 * describe the present, and the next connection sends fresh ones.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../runtime/logger.js';
import { gatewayTopic } from '../uplink/topics.js';
import type { SnapshotRequestReason, SyncRequest, SyncState } from './messages.js';
import type { SyncEngine } from './sync-engine.js';

/** What the sync link needs from the MQTT link; MqttLink provides it. */
export interface SyncTransport {
  readonly state: string;
  subscribe(topic: string, handler: (payload: Buffer, topic: string) => void): () => void;
  publish(topic: string, payload: string, options?: { readonly retain?: boolean }): Promise<void>;
  onStateChange(listener: (state: string, previous: string) => void): () => void;
}

export interface SyncLinkOptions {
  readonly transport: SyncTransport;
  readonly engine: SyncEngine;
  readonly topicPrefix: string;
  readonly gatewayId: string;
  readonly siteId: string;
  readonly bootId: string;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly minRequestIntervalMs?: number;
  /** Ask for a snapshot when the last sync is this old; null = never (no staleness limit). */
  readonly refreshAfterMs: number | null;
  /** How often staleness and refresh are checked. */
  readonly checkEveryMs?: number;
}

const STATE_DEBOUNCE_MS = 250;
const REQUEST_BURST = 3;

/**
 * What became of a snapshot request: published; held back by the rate limit
 * (sent by itself when a token frees up); or waiting for a broker connection
 * (every new connection asks anyway).
 */
export type SnapshotRequestOutcome =
  | { readonly kind: 'sent'; readonly requestId: string }
  | { readonly kind: 'throttled'; readonly inMs: number }
  | { readonly kind: 'not-connected' };

export class SyncLink {
  readonly #o: SyncLinkOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #minIntervalMs: number;
  readonly #topics: { readonly snapshot: string; readonly delta: string; readonly request: string; readonly state: string };
  readonly #off: (() => void)[] = [];
  #connections = 0;
  #lastRequestAt = Number.NEGATIVE_INFINITY;
  /** Token bucket: requests that may go out now; refills one per minRequestIntervalMs. */
  #tokens = REQUEST_BURST;
  #refilledAt = 0;
  #pending: { reason: SnapshotRequestReason; timer: NodeJS.Timeout } | null = null;
  #stateTimer: NodeJS.Timeout | null = null;
  #checkTimer: NodeJS.Timeout | null = null;
  #lastStale: boolean | null = null;

  constructor(options: SyncLinkOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'sync-link' });
    this.#now = options.now ?? Date.now;
    this.#minIntervalMs = options.minRequestIntervalMs ?? 10_000;
    const topic = (name: 'sync/snapshot' | 'sync/delta' | 'sync/request' | 'sync/state'): string => gatewayTopic(options.topicPrefix, options.gatewayId, name);
    this.#topics = { snapshot: topic('sync/snapshot'), delta: topic('sync/delta'), request: topic('sync/request'), state: topic('sync/state') };
  }

  start(): void {
    if (this.#off.length > 0) return;
    const { transport, engine } = this.#o;
    this.#off.push(
      transport.subscribe(this.#topics.snapshot, (payload) => void engine.handleSnapshotMessage(payload)),
      transport.subscribe(this.#topics.delta, (payload) => void engine.handleDeltaMessage(payload)),
      transport.onStateChange((state) => {
        if (state === 'connected') this.#onConnected();
      }),
      engine.onSnapshotNeeded((reason) => this.requestSnapshot(reason)),
      engine.onChange(() => this.#scheduleState()),
    );
    this.#checkTimer = setInterval(() => this.#check(), this.#o.checkEveryMs ?? 60_000);
    this.#checkTimer.unref();
    if (transport.state === 'connected') this.#onConnected();
  }

  stop(): void {
    for (const off of this.#off.splice(0)) off();
    for (const timer of [this.#pending?.timer, this.#stateTimer, this.#checkTimer]) if (timer) clearTimeout(timer);
    this.#pending = null;
    this.#stateTimer = null;
    this.#checkTimer = null;
  }

  /** Ask the cloud for a full snapshot (also the hook for the signed sync.resync command). Says what became of the request. */
  requestSnapshot(reason: SnapshotRequestReason): SnapshotRequestOutcome {
    const wait = this.#waitForToken();
    if (wait > 0) {
      if (this.#pending === null) {
        const timer = setTimeout(() => {
          const pending = this.#pending;
          this.#pending = null;
          if (pending !== null) this.requestSnapshot(pending.reason);
        }, wait);
        timer.unref();
        this.#pending = { reason, timer };
      }
      return { kind: 'throttled', inMs: wait };
    }
    if (this.#o.transport.state !== 'connected') return { kind: 'not-connected' }; // the next connection asks anyway
    this.#tokens--;
    this.#lastRequestAt = this.#now();
    const request: SyncRequest = {
      schema: 'gatehouse.sync-request/1',
      gatewayId: this.#o.gatewayId,
      siteId: this.#o.siteId,
      requestId: randomUUID(),
      reason,
      haveVersion: this.#o.engine.status().version,
      ts: new Date(this.#now()).toISOString(),
    };
    this.#o.engine.noteRequest(request.requestId, reason);
    this.#log.info({ reason, requestId: request.requestId, haveVersion: request.haveVersion }, 'requesting a snapshot');
    this.#o.transport.publish(this.#topics.request, JSON.stringify(request)).catch((error: unknown) => {
      this.#log.debug({ err: error, reason }, 'snapshot request not delivered; the next connection asks again');
    });
    this.#scheduleState();
    return { kind: 'sent', requestId: request.requestId };
  }

  /** The retained report on sync/state, from the engine's status. */
  buildState(): SyncState {
    const s = this.#o.engine.status();
    return {
      schema: 'gatehouse.sync-state/1',
      gatewayId: this.#o.gatewayId,
      siteId: this.#o.siteId,
      bootId: this.#o.bootId,
      ts: new Date(this.#now()).toISOString(),
      version: s.version,
      syncedAt: s.syncedAt,
      stale: s.stale,
      staleAfterHours: s.staleAfterHours ?? 0,
      stalePolicy: s.stalePolicy ?? 'keep-deciding',
      state: s.state,
      receiving: s.receiving === null ? null : { snapshotId: s.receiving.snapshotId, version: s.receiving.version, chunksReceived: s.receiving.chunksReceived, chunks: s.receiving.chunks },
      lastRequest: s.lastRequest,
      rejected: { ...s.rejected },
    };
  }

  #onConnected(): void {
    this.#connections++;
    this.requestSnapshot(this.#connections === 1 ? 'boot' : 'reconnect');
    this.#publishState();
  }

  /** Milliseconds until a request may go out (0: now). */
  #waitForToken(): number {
    // Monotonic, not the (injectable, adjustable) wall clock: a clock step must not open or shut the throttle.
    const now = performance.now();
    if (this.#tokens < REQUEST_BURST) {
      const refills = Math.floor((now - this.#refilledAt) / this.#minIntervalMs);
      if (refills > 0) {
        this.#tokens = Math.min(REQUEST_BURST, this.#tokens + refills);
        this.#refilledAt = this.#tokens === REQUEST_BURST ? now : this.#refilledAt + refills * this.#minIntervalMs;
      }
    } else {
      this.#refilledAt = now;
    }
    return this.#tokens > 0 ? 0 : this.#refilledAt + this.#minIntervalMs - now;
  }

  #scheduleState(): void {
    if (this.#stateTimer !== null) return;
    this.#stateTimer = setTimeout(() => {
      this.#stateTimer = null;
      this.#publishState();
    }, STATE_DEBOUNCE_MS);
    this.#stateTimer.unref();
  }

  #publishState(): void {
    if (this.#o.transport.state !== 'connected') return;
    const state = this.buildState();
    this.#lastStale = state.stale;
    this.#o.transport.publish(this.#topics.state, JSON.stringify(state), { retain: true }).catch((error: unknown) => {
      this.#log.debug({ err: error }, 'sync state not delivered; sent again on the next change or connection');
    });
  }

  #check(): void {
    const s = this.#o.engine.status();
    if (s.stale !== this.#lastStale) this.#publishState();
    const refreshAfter = this.#o.refreshAfterMs;
    if (refreshAfter === null || this.#o.transport.state !== 'connected' || s.state !== 'idle') return;
    const ageMs = s.ageS === null ? Number.POSITIVE_INFINITY : s.ageS * 1000;
    // Data age and request spacing are wall-clock matters; the throttle above is not.
    if (ageMs >= refreshAfter && this.#now() - this.#lastRequestAt >= Math.min(refreshAfter, 3_600_000)) this.requestSnapshot('refresh');
  }
}
