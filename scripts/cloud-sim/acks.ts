/**
 * The cloud's side of event delivery, for the simulator and the tests: store
 * every event a gateway publishes (deduplicated by eventId, as the contract
 * requires), then acknowledge it with a signed `events.ack`, so the gateway
 * can drop it from its pending set.
 *
 * Standalone: it needs only an mqtt.js client and a signing key.
 *
 *   const acker = new EventAcker(client, { topicPrefix: 'gatehouse/v1', signer });
 *   await acker.start();           // subscribes to <prefix>/+/events/+
 *   acker.pause();                 // a cloud that stores but does not ack yet
 *   acker.resume();
 *
 * Modes: `ids` acks exactly the event ids received (replay-safe, the
 * default); `through-seq` acks cumulatively up to the highest seq received
 * without a gap, counting from seq 1 (a cloud that joins a gateway with a
 * pruned history should use ids).
 */
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { MAX_ACK_EVENT_IDS, type EventsAck } from '../../daemon/cloud/link-messages.js';
import { signPayload } from '../../daemon/cloud/signed-message.js';
import type { CloudSimContext, CloudSimModule } from './cloud-sim.js';
import type { CloudSigner } from './commands.js';

export function buildAck(gatewayId: string, ack: { eventIds?: readonly string[]; throughSeq?: number }): EventsAck {
  return {
    type: 'events.ack',
    gatewayId,
    ...(ack.eventIds === undefined ? {} : { eventIds: [...ack.eventIds] }),
    ...(ack.throughSeq === undefined ? {} : { throughSeq: ack.throughSeq }),
  };
}

export function signAck(signer: CloudSigner, ack: EventsAck | Record<string, unknown>): string {
  return signPayload(signer.privateKey, signer.keyId, ack);
}

export function ackTopic(topicPrefix: string, gatewayId: string): string {
  return `${topicPrefix}/${gatewayId}/events/ack`;
}

/** What every event payload carries, whatever its schema. */
const eventHeader = z.looseObject({ eventId: z.string().min(1), seq: z.number().int().positive(), gatewayId: z.string().min(1) });

export interface StoredEvent {
  readonly topic: string;
  readonly eventId: string;
  readonly seq: number;
  readonly payload: unknown;
}

export interface EventAckerOptions {
  readonly topicPrefix: string;
  readonly signer: CloudSigner;
  readonly mode?: 'ids' | 'through-seq';
  /** Ack after this much quiet, batching what arrived; default 20 ms. */
  readonly batchMs?: number;
  /**
   * Subscribe to `<prefix>/+/events/+` (default). Pass false when the client
   * already subscribes to the events another way: an overlapping second
   * subscription would make the broker deliver every event twice.
   */
  readonly subscribe?: boolean;
}

interface GatewayState {
  readonly stored: Map<string, StoredEvent>;
  readonly unacked: Set<string>;
  readonly seqs: Set<number>;
  /** Highest seq received with every seq from 1 up to it; 0 before seq 1. */
  contiguous: number;
  ackedThrough: number;
}

export class EventAcker {
  readonly #client: MqttClient;
  readonly #o: EventAckerOptions;
  readonly #gateways = new Map<string, GatewayState>();
  #paused = false;
  #timer: NodeJS.Timeout | null = null;
  #duplicates = 0;
  #acksSent = 0;
  readonly #onMessage = (topic: string, payload: Buffer) => this.#receive(topic, payload);

  constructor(client: MqttClient, options: EventAckerOptions) {
    this.#client = client;
    this.#o = options;
  }

  /** Copies of an event received again (resends), across all gateways. */
  get duplicates(): number {
    return this.#duplicates;
  }

  get acksSent(): number {
    return this.#acksSent;
  }

  /** Events stored for one gateway, deduplicated, in seq order. */
  stored(gatewayId: string): StoredEvent[] {
    return [...(this.#gateways.get(gatewayId)?.stored.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  async start(): Promise<void> {
    this.#client.on('message', this.#onMessage);
    if (this.#o.subscribe !== false) await this.#client.subscribeAsync(`${this.#o.topicPrefix}/+/events/+`, { qos: 1 });
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#client.off('message', this.#onMessage);
    if (this.#o.subscribe !== false) await this.#client.unsubscribeAsync(`${this.#o.topicPrefix}/+/events/+`);
  }

  /** Events stored and duplicates seen, per gateway, for a console. */
  summary(): string {
    const lines = [...this.#gateways].map(([gatewayId, state]) => `${gatewayId}: ${state.stored.size} event(s) stored, ${state.unacked.size} not yet acked`);
    return [...lines, `${this.#duplicates} duplicate(s) received, ${this.#acksSent} ack(s) sent${this.#paused ? ', acking paused' : ''}`].join('\n');
  }

  /** Keep storing events, but send no acks until resume(). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  /** Send the pending acks now; resolves once the broker accepted them. */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#paused) return;
    const sends: Promise<unknown>[] = [];
    for (const [gatewayId, state] of this.#gateways) {
      for (const ack of this.#acksFor(gatewayId, state)) {
        this.#acksSent += 1;
        sends.push(this.#client.publishAsync(ackTopic(this.#o.topicPrefix, gatewayId), signAck(this.#o.signer, ack), { qos: 1 }));
      }
    }
    await Promise.all(sends);
  }

  #receive(topic: string, payload: Buffer): void {
    const levels = topic.split('/');
    const prefixLevels = this.#o.topicPrefix.split('/').length;
    if (levels.length !== prefixLevels + 3 || levels[prefixLevels + 1] !== 'events' || levels[prefixLevels + 2] === 'ack') return;
    const gatewayId = levels[prefixLevels] ?? '';
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const header = eventHeader.safeParse(json);
    if (!header.success || header.data.gatewayId !== gatewayId) return;
    const state = this.#state(gatewayId);
    const { eventId, seq } = header.data;
    if (state.stored.has(eventId)) {
      this.#duplicates += 1;
      // Acked again: the resend means our earlier ack did not arrive (or was ignored).
      state.unacked.add(eventId);
      state.ackedThrough = Math.min(state.ackedThrough, seq - 1);
    } else {
      state.stored.set(eventId, { topic, eventId, seq, payload: json });
      state.unacked.add(eventId);
      state.seqs.add(seq);
      while (state.seqs.has(state.contiguous + 1)) state.contiguous += 1;
    }
    this.#schedule();
  }

  #acksFor(gatewayId: string, state: GatewayState): EventsAck[] {
    if (this.#o.mode === 'through-seq') {
      if (state.contiguous <= state.ackedThrough) return [];
      state.ackedThrough = state.contiguous;
      state.unacked.clear();
      return [buildAck(gatewayId, { throughSeq: state.contiguous })];
    }
    const ids = [...state.unacked];
    state.unacked.clear();
    const acks: EventsAck[] = [];
    for (let i = 0; i < ids.length; i += MAX_ACK_EVENT_IDS) acks.push(buildAck(gatewayId, { eventIds: ids.slice(i, i + MAX_ACK_EVENT_IDS) }));
    return acks;
  }

  #state(gatewayId: string): GatewayState {
    let state = this.#gateways.get(gatewayId);
    if (state === undefined) {
      state = { stored: new Map(), unacked: new Set(), seqs: new Set(), contiguous: 0, ackedThrough: 0 };
      this.#gateways.set(gatewayId, state);
    }
    return state;
  }

  #schedule(): void {
    if (this.#paused || this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.flush().catch(() => undefined); // the gateway resends; the next event retries the ack
    }, this.#o.batchMs ?? 20);
  }
}

/**
 * The acker as a scripts/cloud-sim module: acks every event the simulated
 * cloud receives, with console commands `acks` (summary), `acks off` (store
 * but stop acking: the gateway keeps resending on every reconnect) and
 * `acks on`.
 */
export function acksModule(options: { readonly mode?: 'ids' | 'through-seq' } = {}): CloudSimModule {
  let acker: EventAcker | null = null;
  return {
    name: 'acks',
    async start(context: CloudSimContext) {
      // CloudSim already subscribes to its gateway's events/#.
      acker = new EventAcker(context.client, { topicPrefix: context.topicPrefix, signer: context.signer, mode: options.mode ?? 'ids', subscribe: false });
      await acker.start();
    },
    async stop() {
      await acker?.stop();
      acker = null;
    },
    commands: {
      acks: {
        usage: 'acks [on|off]            ack received events (default on); without an argument, a summary',
        run: ([state]) => {
          if (acker === null) throw new Error('not connected');
          if (state === 'off') acker.pause();
          else if (state === 'on') acker.resume();
          console.log(acker.summary());
        },
      },
    },
  };
}
