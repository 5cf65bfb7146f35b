/**
 * A small stand-in for the cloud, for the demo, manual testing and the end-
 * to-end tests: it holds a site's data set, signs and publishes snapshots
 * (chunked) and deltas, answers the gateway's snapshot requests, and listens
 * to what the gateway publishes (events, status, sync state), keeping track
 * of who is checked in.
 *
 * Modules (CloudSimModule) get the connected client and the signing key and
 * may subscribe, publish and add console commands: the extension point for
 * the command and acknowledgement side (commands.ts, acks.ts).
 */
import { randomUUID } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import type { Dataset, PersonRecord } from '../../daemon/sync/dataset.js';
import { syncRequestSchema, syncStateSchema, type DeltaOp, type SyncRequest, type SyncState } from '../../daemon/sync/messages.js';
import { accessEventSchema, type AccessEvent } from '../../daemon/uplink/payloads.js';
import { CloudDataset } from './cloud-dataset.js';
import { deltaPayload, signAll, snapshotChunks, type SigningKey } from './protocol.js';

export interface CloudSimContext {
  readonly client: MqttClient;
  readonly signer: SigningKey;
  readonly topicPrefix: string;
  readonly gatewayId: string;
  readonly siteId: string;
  /** `<prefix>/<gatewayId>/<name>` */
  topic(name: string): string;
  log(line: string): void;
}

export interface CloudSimCommand {
  readonly usage: string;
  run(args: readonly string[]): void | Promise<void>;
}

export interface CloudSimModule {
  readonly name: string;
  start(context: CloudSimContext): void | Promise<void>;
  stop?(): void | Promise<void>;
  /** Console commands this module adds, by name. */
  readonly commands?: Readonly<Record<string, CloudSimCommand>>;
}

export interface CloudSimOptions {
  readonly url: string;
  readonly topicPrefix?: string;
  readonly gatewayId: string;
  readonly siteId: string;
  readonly signer: SigningKey;
  readonly dataset: Dataset;
  /** Target bytes of one chunk's data (default 64 KiB). */
  readonly chunkBytes?: number;
  /** Answer sync/request messages (default true). */
  readonly answerRequests?: boolean;
  readonly modules?: readonly CloudSimModule[];
  readonly log?: (line: string) => void;
  /**
   * A persistent session under this client id: the broker keeps the
   * subscriptions and queues what the gateway publishes while the simulator
   * is away (a real cloud does this; requests are not retained).
   */
  readonly persistentClientId?: string;
}

export interface Presence {
  readonly personId: string;
  readonly since: string;
  readonly readerId: string;
}

export class CloudSim {
  readonly data: CloudDataset;
  readonly requests: SyncRequest[] = [];
  readonly events: AccessEvent[] = [];
  readonly states: SyncState[] = [];
  answerRequests: boolean;
  readonly #o: CloudSimOptions;
  readonly #prefix: string;
  readonly #presence = new Map<string, Presence>();
  readonly #waiters = new Set<() => void>();
  #client: MqttClient | null = null;

  constructor(options: CloudSimOptions) {
    this.#o = options;
    this.#prefix = options.topicPrefix ?? 'gatehouse/v1';
    this.data = new CloudDataset(options.dataset);
    this.answerRequests = options.answerRequests ?? true;
  }

  get version(): number {
    return this.data.version;
  }

  topic(name: string): string {
    return `${this.#prefix}/${this.#o.gatewayId}/${name}`;
  }

  async start(): Promise<void> {
    const persistent = this.#o.persistentClientId;
    const client = connect(this.#o.url, {
      clientId: persistent ?? `cloud-sim-${randomUUID().slice(0, 8)}`,
      protocolVersion: 4,
      reconnectPeriod: 200,
      clean: persistent === undefined,
    });
    this.#client = client;
    client.on('error', (error) => this.#log(`mqtt: ${error.message}`));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => {
        client.subscribe(
          [this.topic('sync/request'), this.topic('sync/state'), this.topic('status'), this.topic('events/#')],
          { qos: 1 },
          (error) => (error ? reject(error) : resolve()),
        );
      });
    });
    const context: CloudSimContext = {
      client,
      signer: this.#o.signer,
      topicPrefix: this.#prefix,
      gatewayId: this.#o.gatewayId,
      siteId: this.#o.siteId,
      topic: (name) => this.topic(name),
      log: (line) => this.#log(line),
    };
    for (const module of this.#o.modules ?? []) await module.start(context);
    this.#log(`connected to ${this.#o.url}; data set version ${this.version}, ${this.data.people.size} people`);
  }

  async stop(): Promise<void> {
    for (const module of this.#o.modules ?? []) await module.stop?.();
    const client = this.#client;
    this.#client = null;
    if (client !== null) await new Promise<void>((resolve) => client.end(false, () => resolve()));
  }

  /** Sign and publish the whole data set as a snapshot, in order, each chunk awaiting its PUBACK. */
  async publishSnapshot(options: { readonly requestId?: string | null; readonly chunkBytes?: number } = {}): Promise<{ snapshotId: string; chunks: number }> {
    const chunks = snapshotChunks(this.data.toDataset(), {
      gatewayId: this.#o.gatewayId,
      siteId: this.#o.siteId,
      requestId: options.requestId ?? null,
      chunkBytes: options.chunkBytes ?? this.#o.chunkBytes,
    });
    const snapshotId = chunks[0]?.snapshotId ?? '';
    for (const envelope of signAll(this.#o.signer, chunks)) await this.publishRaw('sync/snapshot', envelope);
    this.#log(`published snapshot ${snapshotId.slice(0, 8)} (version ${this.version}, ${chunks.length} chunk(s))`);
    return { snapshotId, chunks: chunks.length };
  }

  /** Apply operations to the cloud's copy, move the version on, and publish them as one signed delta. */
  async publishDelta(ops: readonly DeltaOp[]): Promise<number> {
    const from = this.version;
    this.data.apply(ops);
    this.data.version = from + 1;
    const [envelope] = signAll(this.#o.signer, [deltaPayload({ gatewayId: this.#o.gatewayId, siteId: this.#o.siteId }, from, from + 1, ops)]);
    await this.publishRaw('sync/delta', envelope ?? '');
    this.#log(`published delta ${from} -> ${from + 1} (${ops.length === 0 ? 'heartbeat' : ops.map((o) => o.op).join(', ')})`);
    return from + 1;
  }

  /** An empty delta: moves the version on and proves the gateway's copy current. */
  heartbeat(): Promise<number> {
    return this.publishDelta([]);
  }

  upsertPerson(person: PersonRecord): Promise<number> {
    return this.publishDelta([{ op: 'person.upsert', person }]);
  }

  deletePerson(id: string): Promise<number> {
    return this.publishDelta([{ op: 'person.delete', id }]);
  }

  /** Publish anything on one of the gateway's topics (tests publish bad messages this way). */
  async publishRaw(name: string, payload: string | Buffer): Promise<void> {
    const client = this.#client;
    if (client === null) throw new Error('cloud-sim is not started');
    await client.publishAsync(this.topic(name), payload, { qos: 1 });
  }

  /** Who is checked in, from the check-in and check-out events received. */
  whoIsIn(): Presence[] {
    return [...this.#presence.values()];
  }

  /** Resolves once `predicate()` holds, re-checked on every message received. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`cloud-sim: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  #onMessage(topic: string, payload: Buffer): void {
    try {
      this.#handle(topic, payload);
    } catch (error) {
      this.#log(`cannot read a message on ${topic}: ${error instanceof Error ? error.message : String(error)}`);
    }
    for (const wake of [...this.#waiters]) wake();
  }

  #handle(topic: string, payload: Buffer): void {
    const json: unknown = JSON.parse(payload.toString('utf8'));
    if (topic === this.topic('sync/request')) {
      const request = syncRequestSchema.parse(json);
      this.requests.push(request);
      this.#log(`gateway asks for a snapshot: ${request.reason}, it has version ${request.haveVersion}`);
      if (this.answerRequests) void this.#answer(request);
    } else if (topic === this.topic('sync/state')) {
      const state = syncStateSchema.parse(json);
      this.states.push(state);
      const rejected = Object.entries(state.rejected).map(([reason, n]) => `${reason}=${n}`).join(' ');
      this.#log(`sync state: version ${state.version}, ${state.state}${state.stale ? ', STALE' : ''}, synced ${state.syncedAt ?? 'never'}${rejected === '' ? '' : `, rejected ${rejected}`}`);
    } else if (topic === this.topic('events/access')) {
      const event = accessEventSchema.parse(json);
      this.events.push(event);
      this.#track(event);
      this.#log(
        `event #${event.seq} ${event.readerId}: ${event.decision.outcome.toUpperCase()} (${event.decision.reason}) ${event.person?.id ?? '-'} ${event.checkin} [cache v${event.cache.version}${event.cache.stale ? ', stale' : ''}]`,
      );
    } else if (topic === this.topic('status')) {
      const status = json as { state?: string; bootId?: string };
      this.#log(`gateway ${status.state ?? '?'} (boot ${String(status.bootId ?? '').slice(0, 8)})`);
    } else {
      this.#log(`${topic.slice(this.topic('').length)}: ${payload.toString('utf8').slice(0, 200)}`);
    }
  }

  async #answer(request: SyncRequest): Promise<void> {
    try {
      // Nothing new since the gateway's version: a heartbeat is enough, and far cheaper than a snapshot.
      if ((request.reason === 'reconnect' || request.reason === 'refresh') && request.haveVersion === this.version) await this.heartbeat();
      else await this.publishSnapshot({ requestId: request.requestId });
    } catch (error) {
      this.#log(`could not answer the request: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #track(event: AccessEvent): void {
    const person = event.person?.id;
    if (person === undefined) return;
    if (event.checkin === 'checked_in') this.#presence.set(person, { personId: person, since: event.ts, readerId: event.readerId });
    if (event.checkin === 'checked_out') this.#presence.delete(person);
  }

  #log(line: string): void {
    this.#o.log?.(line);
  }
}
