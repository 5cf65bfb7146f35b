/**
 * Shared parts of the fault suite: the profile (short in CI, full by
 * command), a seeded random source so a failing run can be repeated, reads
 * through the daemon's control socket, and the delivery check a cloud would
 * make (distinct event ids, one per sequence number, in order).
 */
import { sendControlRequest } from '../../daemon/control/control-server.js';
import type { GatewayStatusReport } from '../../daemon/runtime/gateway.js';
import type { ReceivedMessage } from '../support/mosquitto.js';

export interface FaultProfile {
  readonly name: 'short' | 'full';
  /** How long the broker stays down under load. */
  readonly brokerOutageMs: number;
  /** SIGKILLs of the daemon under load. */
  readonly kills: number;
  /** Longest run of load before a kill (the moment is random within it). */
  readonly maxLoadBeforeKillMs: number;
}

export const profile: FaultProfile =
  process.env.FAULTS_PROFILE === 'full'
    ? { name: 'full', brokerOutageMs: 20_000, kills: 12, maxLoadBeforeKillMs: 4_000 }
    : { name: 'short', brokerOutageMs: 3_000, kills: 3, maxLoadBeforeKillMs: 1_500 };

/** FAULTS_SEED repeats a run; the default is fixed so CI is reproducible. */
export const FAULTS_SEED = Number(process.env.FAULTS_SEED ?? 20261122);

/** mulberry32: a small, good-enough PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimAnswer {
  readonly outcome: string;
  readonly reason: string;
  readonly seq: number | null;
}

/** Presents a card at the daemon's sim reader; the answer says which journal seq recorded it. */
export async function simCard(socket: string, card: string): Promise<SimAnswer> {
  const response = await sendControlRequest(socket, { op: 'sim', kind: 'card', value: card });
  if (!response.ok) throw new Error(response.error);
  return response.data as SimAnswer;
}

export async function daemonStatus(socket: string): Promise<GatewayStatusReport> {
  const response = await sendControlRequest(socket, { op: 'status' });
  if (!response.ok) throw new Error(response.error);
  return response.data as GatewayStatusReport;
}

/** Cards that give every kind of decision: granted members, a member without a pass, an unknown card. */
export const LOAD_CARDS = ['0004614867', '0003887558', '0009357203', '0000000001'] as const;

export interface DeliveryReport {
  /** Distinct event ids received. */
  readonly distinct: number;
  /** Sequence numbers in the order of their first delivery. */
  readonly firstSeen: number[];
  /** Messages received more than once (QoS 1 may redeliver; the cloud dedups by eventId). */
  readonly redelivered: number;
}

/** What a cloud sees once it dedups by eventId: each event's seq, in the order it first arrived. */
export function deliveryReport(messages: readonly ReceivedMessage[]): DeliveryReport {
  const seqById = new Map<string, number>();
  const firstSeen: number[] = [];
  let redelivered = 0;
  for (const message of messages) {
    const body = JSON.parse(message.payload) as { eventId?: unknown; seq?: unknown };
    if (typeof body.eventId !== 'string' || typeof body.seq !== 'number') continue;
    const known = seqById.get(body.eventId);
    if (known !== undefined) {
      if (known !== body.seq) throw new Error(`event ${body.eventId} arrived with seq ${known} and ${body.seq}`);
      redelivered++;
      continue;
    }
    seqById.set(body.eventId, body.seq);
    firstSeen.push(body.seq);
  }
  return { distinct: seqById.size, firstSeen, redelivered };
}

/** 1..n */
export const seqRange = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** Polls an asynchronous condition (a status over the control socket) until it holds. */
export async function pollUntil(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
