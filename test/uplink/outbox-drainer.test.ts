/**
 * The outbox end to end: a real SQLite journal, MqttLink and OutboxDrainer,
 * a real Mosquitto, and a subscriber standing in for the cloud.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttConfig } from '../../daemon/config/schema.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { Journal, type JournalEntry } from '../../daemon/store/journal.js';
import { MqttLink } from '../../daemon/uplink/mqtt-link.js';
import { OutboxDrainer, type DrainerLink, type OutboxDrainerOptions } from '../../daemon/uplink/outbox-drainer.js';
import { accessEventSchema, type AccessEvent } from '../../daemon/uplink/payloads.js';
import { accessTopic, statusTopic } from '../../daemon/uplink/topics.js';
import {
  createMosquitto,
  disposeAll,
  startMosquitto,
  startTcpProxy,
  subscribe,
  waitUntil,
  type ReceivedMessage,
  type Subscriber,
} from '../support/mosquitto.js';
import { tempDir } from '../support/temp-dir.js';

const WAIT_MS = 30_000;
const PREFIX = 'gatehouse/v1';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  // Reverse order: drainer, link, database, then brokers and subscribers.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await disposeAll();
});

function openJournal(delivery: 'puback' | 'cloud-ack' = 'puback'): { db: Db; journal: Journal } {
  const dir = tempDir('gatehouse-uplink-');
  const db = openDatabase(join(dir.path, 'gatehouse.db'));
  cleanups.push(() => {
    db.close();
    dir.remove();
  });
  return { db, journal: new Journal(db, randomUUID(), { delivery }) };
}

function appendAccess(journal: Journal, gatewayId: string, topic = accessTopic(PREFIX, gatewayId)): JournalEntry {
  const at = Date.now();
  return journal.append('access', topic, at, (stamp): AccessEvent => ({
    schema: 'gatehouse.access/1',
    eventId: stamp.eventId,
    bootId: stamp.bootId,
    seq: stamp.seq,
    ts: new Date(at).toISOString(),
    siteId: 'site-1',
    gatewayId,
    readerId: 'front-in',
    doorId: 'front',
    channel: 'door',
    credential: { kind: 'card', fingerprint: '0a1b2c3d' },
    person: { id: 'p-1', kind: 'member' },
    decision: { outcome: 'granted', reason: 'granted' },
    checkin: 'checked_in',
    sessionId: null,
    unlockMs: 3000,
    flags: [],
    cache: { version: 1, syncedAt: null, ageS: null, stale: false },
  }));
}

/** Seqs of the access events a subscriber received (broker redeliveries to the subscriber excluded). */
function seqs(messages: readonly ReceivedMessage[], topic: string): number[] {
  return messages.filter((m) => m.topic === topic && !m.dup).map((m) => accessEventSchema.parse(JSON.parse(m.payload)).seq);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function copies(values: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function mqttConfig(url: string, overrides: Partial<MqttConfig> = {}): MqttConfig {
  return { url, topicPrefix: PREFIX, keepaliveS: 30, reconnectMs: 200, connectTimeoutMs: 5_000, maxInflight: 64, ...overrides };
}

/** Wraps the link to observe what the drainer does with it. */
function observed(link: MqttLink): DrainerLink & { outstanding: () => number; maxOutstanding: () => number } {
  let outstanding = 0;
  let max = 0;
  return {
    get state() {
      return link.state;
    },
    onStateChange: (listener) => link.onStateChange(listener),
    publish: (topic, payload) => {
      outstanding += 1;
      max = Math.max(max, outstanding);
      return link.publish(topic, payload).finally(() => {
        outstanding -= 1;
      });
    },
    outstanding: () => outstanding,
    maxOutstanding: () => max,
  };
}

function startUplink(options: {
  url: string;
  gatewayId: string;
  journal: Journal;
  config?: Partial<MqttConfig>;
  drainer?: Pick<OutboxDrainerOptions, 'markFlushMs' | 'markSliceRows'>;
  /** Wraps the link the drainer sees (after observed()). */
  wrap?: (link: DrainerLink) => DrainerLink;
}) {
  const config = mqttConfig(options.url, options.config);
  const logger = pino({ level: 'silent' });
  const link = new MqttLink({ config, gatewayId: options.gatewayId, siteId: 'site-1', bootId: options.journal.bootId, version: '0.0.0-test', logger });
  const observedLink = observed(link);
  const drainer = new OutboxDrainer({
    journal: options.journal,
    link: options.wrap?.(observedLink) ?? observedLink,
    logger,
    maxInflight: config.maxInflight,
    ...options.drainer,
  });
  cleanups.push(async () => {
    drainer.stop();
    await link.stop(2_000);
  });
  drainer.start();
  link.start();
  return { link, drainer, observedLink };
}

/** The seqs of every markPublished call, in order. */
function recordMarks(journal: Journal): number[][] {
  const calls: number[][] = [];
  const markPublished = journal.markPublished.bind(journal);
  journal.markPublished = (seqs, at) => {
    calls.push([...seqs]);
    markPublished(seqs, at);
  };
  return calls;
}

async function drained(journal: Journal): Promise<void> {
  await waitUntil(() => journal.depth().pending === 0, WAIT_MS, 'the journal to drain');
}

async function eventsArrived(sub: Subscriber, topic: string, count: number): Promise<void> {
  await sub.waitFor((m) => seqs(m, topic).length >= count, WAIT_MS, `${count} access events`);
}

describe('OutboxDrainer', () => {
  it('publishes appended events once each, in seq order, and marks them published after PUBACK', async () => {
    const broker = await startMosquitto();
    const topic = accessTopic(PREFIX, 'gw-order');
    const sub = await subscribe(broker.url, [topic]);
    const { journal } = openJournal();
    for (let i = 0; i < 3; i++) appendAccess(journal, 'gw-order'); // backlog from before the uplink started

    const { link, drainer } = startUplink({ url: broker.url, gatewayId: 'gw-order', journal });
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');
    for (let i = 0; i < 17; i++) appendAccess(journal, 'gw-order');

    await eventsArrived(sub, topic, 20);
    await drained(journal);
    expect(seqs(sub.messages, topic)).toEqual(range(1, 20));
    const events = sub.on(topic).map((m) => accessEventSchema.parse(JSON.parse(m.payload)));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(20);
    expect(events.every((e) => e.bootId === journal.bootId && e.gatewayId === 'gw-order')).toBe(true);
    expect(sub.on(topic).every((m) => !m.retain)).toBe(true);
    expect(range(1, 20).every((seq) => journal.get(seq)?.publishedAt !== null)).toBe(true);
    expect(drainer.counters).toMatchObject({ published: 20, acked: 20, resent: 0, rejected: 0, inflight: 0 });
    expect(drainer.stats()).toMatchObject({ pending: 0, oldestPendingAt: null });
  });

  it('redelivers on request: rows waiting for the cloud\'s ack go again on the same connection, acked ones never', async () => {
    const broker = await startMosquitto();
    const topic = accessTopic(PREFIX, 'gw-retry');
    const sub = await subscribe(broker.url, [topic]);
    const { journal } = openJournal('cloud-ack');
    const { link, drainer } = startUplink({ url: broker.url, gatewayId: 'gw-retry', journal });
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');
    for (let i = 0; i < 6; i++) appendAccess(journal, 'gw-retry');
    await eventsArrived(sub, topic, 6);
    await waitUntil(() => journal.depth().awaitingCloudAck === 6, WAIT_MS, 'six PUBACKs recorded');
    // The cloud stored the first two; the consumer lost the other four.
    journal.acknowledge({ throughSeq: 2 }, Date.now());
    const connection = link.counters;

    const result = drainer.redeliver();
    expect(result).toMatchObject({ started: true, pending: 4 });
    await eventsArrived(sub, topic, 10);
    await waitUntil(() => drainer.counters.inflight === 0, WAIT_MS, 'the resends to be acknowledged');
    expect(seqs(sub.messages, topic)).toEqual([...range(1, 6), ...range(3, 6)]);
    expect(drainer.counters).toMatchObject({ published: 10, resent: 4, rejected: 0 });
    // No reconnect was needed: the same connection carried the resends.
    expect(link.counters).toMatchObject({ connects: connection.connects, disconnects: connection.disconnects });
    expect(journal.depth()).toMatchObject({ pending: 4, awaitingPuback: 0, awaitingCloudAck: 4 });
    // Once the cloud has them all, a retry has nothing to send.
    journal.acknowledge({ throughSeq: 6 }, Date.now());
    expect(drainer.redeliver()).toMatchObject({ started: true, pending: 0 });
    await new Promise((r) => setTimeout(r, 200));
    expect(seqs(sub.messages, topic)).toHaveLength(10);
  });

  it('says why a redelivery cannot start while the broker is unreachable, and delivers when it is back', async () => {
    const broker = await startMosquitto();
    const topic = accessTopic(PREFIX, 'gw-retry-down');
    const { journal } = openJournal();
    const { link, drainer } = startUplink({ url: broker.url, gatewayId: 'gw-retry-down', journal });
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');
    await broker.stop();
    await waitUntil(() => link.state !== 'connected', WAIT_MS, 'the link to notice the broker is gone');
    appendAccess(journal, 'gw-retry-down');
    appendAccess(journal, 'gw-retry-down');
    expect(drainer.redeliver()).toEqual({ started: false, reason: 'not-connected', pending: 2 });
    await broker.start();
    const sub = await subscribe(broker.url, [topic]);
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to come back');
    await drained(journal);
    drainer.stop();
    expect(drainer.redeliver()).toEqual({ started: false, reason: 'not-running', pending: 0 });
    expect(sub.messages.length).toBeLessThanOrEqual(2);
  });

  it('keeps events while the broker is down and delivers each once, in order, when it is back', async () => {
    // Persistence and a clean: false subscriber stand in for a cloud consumer
    // with a durable session, so it misses nothing while the broker restarts.
    const broker = await startMosquitto({ persistence: true });
    const topic = accessTopic(PREFIX, 'gw-restart');
    const sub = await subscribe(broker.url, [topic], { clientId: 'cloud-restart', clean: false });
    const { journal } = openJournal();
    const { link } = startUplink({ url: broker.url, gatewayId: 'gw-restart', journal });
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');
    for (let i = 0; i < 5; i++) appendAccess(journal, 'gw-restart');
    await eventsArrived(sub, topic, 5);
    await drained(journal);
    await sub.sync();

    await broker.stop();
    await waitUntil(() => link.state !== 'connected', WAIT_MS, 'the link to notice the broker is gone');
    for (let i = 0; i < 10; i++) {
      expect(() => appendAccess(journal, 'gw-restart')).not.toThrow();
      await yieldToLoop(); // let the drainer wake up and find the link down
    }
    expect(journal.depth().pending).toBe(10);
    expect(link.state).not.toBe('connected');

    await broker.start();
    await eventsArrived(sub, topic, 15);
    await drained(journal);
    expect(seqs(sub.messages, topic)).toEqual(range(1, 15));
    expect(link.counters.connects).toBe(2);
  });

  it('retries a broker that is unreachable at start and drains once one listens on the port', async () => {
    const broker = await createMosquitto({ persistence: true });
    const topic = accessTopic(PREFIX, 'gw-late');
    // Create the consumer's durable session first, then take the broker away.
    await broker.start();
    const sub = await subscribe(broker.url, [topic], { clientId: 'cloud-late', clean: false });
    await broker.stop();

    const { journal } = openJournal();
    for (let i = 0; i < 4; i++) appendAccess(journal, 'gw-late');
    const { link, drainer } = startUplink({ url: broker.url, gatewayId: 'gw-late', journal });
    await waitUntil(() => link.counters.connectFailures >= 3, WAIT_MS, 'three failed attempts');
    expect(link.lastError).toMatchObject({ kind: 'network' });
    appendAccess(journal, 'gw-late');
    expect(drainer.stats().pending).toBe(5);
    expect(drainer.counters.published).toBe(0);

    await broker.start();
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');
    await eventsArrived(sub, topic, 5);
    await drained(journal);
    expect(seqs(sub.messages, topic)).toEqual(range(1, 5));
  });

  it('resends rows whose PUBACK was lost once on the next connection, with no mqtt.js replay on top', async () => {
    const broker = await startMosquitto();
    const proxy = await startTcpProxy(broker.port);
    const topic = accessTopic(PREFIX, 'gw-lost-ack');
    const sub = await subscribe(broker.url, [topic, statusTopic(PREFIX, 'gw-lost-ack')]);
    const { journal } = openJournal();
    const { link, drainer, observedLink } = startUplink({ url: proxy.url, gatewayId: 'gw-lost-ack', journal, config: { maxInflight: 8 } });
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');
    for (let i = 0; i < 3; i++) appendAccess(journal, 'gw-lost-ack');
    await eventsArrived(sub, topic, 3);
    await drained(journal);

    // The broker gets rows 4..11 (the window), but its PUBACKs never come back.
    proxy.dropDownstream(true);
    for (let i = 0; i < 20; i++) appendAccess(journal, 'gw-lost-ack');
    await eventsArrived(sub, topic, 11);
    await waitUntil(() => observedLink.outstanding() === 8, WAIT_MS, 'a full window');
    expect(seqs(sub.messages, topic)).toEqual(range(1, 11));
    // Delivered but not acknowledged: still pending.
    expect(journal.depth().pending).toBe(20);
    expect(journal.get(4)?.publishedAt).toBeNull();

    proxy.refuse(true);
    proxy.dropDownstream(false);
    proxy.cut();
    await waitUntil(() => link.state !== 'connected', WAIT_MS, 'the link to notice the cut');
    proxy.refuse(false);
    await drained(journal);
    appendAccess(journal, 'gw-lost-ack'); // seq 24: anything sent before it has arrived once it has
    await sub.waitFor((m) => seqs(m, topic).includes(24), WAIT_MS, 'the sentinel event');
    await drained(journal);

    const received = seqs(sub.messages, topic);
    const counts = copies(received);
    expect(range(1, 3).map((s) => counts.get(s))).toEqual(Array<number>(3).fill(1));
    // In flight at the cut: sent on both connections, exactly once each (mqtt.js's own replay would make 3).
    expect(range(4, 11).map((s) => counts.get(s))).toEqual(Array<number>(8).fill(2));
    expect(range(12, 24).map((s) => counts.get(s))).toEqual(Array<number>(13).fill(1));
    // The second connection sends in seq order: the resends first, then the rest.
    expect(received.slice(11)).toEqual(range(4, 24));
    expect(drainer.counters).toMatchObject({ resent: 8, acked: 24 });
    expect(observedLink.maxOutstanding()).toBeLessThanOrEqual(8);
    expect(observedLink.outstanding()).toBe(0); // the cut's in-flight publishes were failed, not left hanging
    // The broker published the Will when the connection died, and online again after.
    const statuses = sub.on(statusTopic(PREFIX, 'gw-lost-ack')).map((m) => (JSON.parse(m.payload) as { state: string }).state);
    expect(statuses.slice(-2)).toEqual(['offline', 'online']);
  });

  it('drains 2,000 events with maxInflight 64: all arrive, in order, none twice', { timeout: 180_000 }, async () => {
    const broker = await startMosquitto();
    const topic = accessTopic(PREFIX, 'gw-bulk');
    const sub = await subscribe(broker.url, [topic]);
    const { journal } = openJournal();
    const { link, drainer, observedLink } = startUplink({ url: broker.url, gatewayId: 'gw-bulk', journal, config: { maxInflight: 64 } });
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');

    for (let i = 0; i < 2_000; i++) {
      appendAccess(journal, 'gw-bulk');
      if (i % 50 === 49) await yieldToLoop(); // interleave producing and draining
    }
    await sub.waitFor((m) => seqs(m, topic).length >= 2_000, 150_000, '2,000 access events');
    await waitUntil(() => journal.depth().pending === 0, 60_000, 'the journal to drain');
    expect(seqs(sub.messages, topic)).toEqual(range(1, 2_000));
    expect(drainer.counters).toMatchObject({ published: 2_000, acked: 2_000, resent: 0 });
    expect(observedLink.maxOutstanding()).toBeLessThanOrEqual(64);
  });

  it('skips a row whose topic no broker would accept, leaves it pending, and delivers the rest', async () => {
    const broker = await startMosquitto();
    const topic = accessTopic(PREFIX, 'gw-poison');
    const sub = await subscribe(broker.url, [topic]);
    const { journal } = openJournal();
    appendAccess(journal, 'gw-poison');
    appendAccess(journal, 'gw-poison', `${PREFIX}/gw-poison/events/#`);
    appendAccess(journal, 'gw-poison');
    const { link, drainer } = startUplink({ url: broker.url, gatewayId: 'gw-poison', journal });

    await eventsArrived(sub, topic, 2);
    await waitUntil(() => journal.depth().pending === 1, WAIT_MS, 'the valid rows to be marked');
    expect(seqs(sub.messages, topic)).toEqual([1, 3]);
    expect(journal.get(2)?.publishedAt).toBeNull();
    expect(drainer.counters).toMatchObject({ rejected: 1, acked: 2 });
    expect(link.counters.disconnects).toBe(0);
  });

  it('marks PUBACKed rows on a timer, in slices, and never sends one of them again on the same connection', async () => {
    const broker = await startMosquitto();
    const topic = accessTopic(PREFIX, 'gw-marks');
    const sub = await subscribe(broker.url, [topic]);
    const { journal } = openJournal();
    const markCalls = recordMarks(journal);
    const { link, drainer } = startUplink({ url: broker.url, gatewayId: 'gw-marks', journal, drainer: { markFlushMs: 600_000, markSliceRows: 7 } });
    await waitUntil(() => link.state === 'connected', WAIT_MS, 'the link to connect');
    for (let i = 0; i < 30; i++) appendAccess(journal, 'gw-marks');
    await eventsArrived(sub, topic, 30);
    await waitUntil(() => drainer.counters.acked === 30, WAIT_MS, 'every PUBACK');
    // Acknowledged but not yet marked: still pending in the journal, and not sent twice.
    expect(markCalls).toEqual([]);
    expect(journal.depth().pending).toBe(30);
    appendAccess(journal, 'gw-marks');
    await eventsArrived(sub, topic, 31);
    await waitUntil(() => drainer.counters.acked === 31, WAIT_MS, 'the PUBACK of the 31st');
    expect(seqs(sub.messages, topic)).toEqual(range(1, 31));
    expect(drainer.counters).toMatchObject({ published: 31, resent: 0 });

    drainer.flush();
    expect(journal.depth().pending).toBe(0);
    expect(markCalls.flat().sort((a, b) => a - b)).toEqual(range(1, 31));
  });

  it('writes marks in transactions of at most markSliceRows rows, one per loop turn', async () => {
    const broker = await startMosquitto();
    const topic = accessTopic(PREFIX, 'gw-slices');
    const sub = await subscribe(broker.url, [topic]);
    const { journal } = openJournal();
    const markCalls = recordMarks(journal);
    for (let i = 0; i < 100; i++) appendAccess(journal, 'gw-slices');
    startUplink({ url: broker.url, gatewayId: 'gw-slices', journal, drainer: { markFlushMs: 1, markSliceRows: 16 } });
    await eventsArrived(sub, topic, 100);
    await drained(journal);
    expect(markCalls.every((call) => call.length <= 16)).toBe(true);
    expect(markCalls.flat().sort((a, b) => a - b)).toEqual(range(1, 100));
  });

  it('a mark lost with the process only means the row is sent again, with the same eventId', async () => {
    const broker = await startMosquitto();
    const topic = accessTopic(PREFIX, 'gw-crash');
    const sub = await subscribe(broker.url, [topic]);
    const { journal } = openJournal();
    // The first process dies after its PUBACKs and before writing their marks: nothing more reaches its drainer.
    let severed = false;
    const first = startUplink({
      url: broker.url,
      gatewayId: 'gw-crash',
      journal,
      drainer: { markFlushMs: 600_000 },
      wrap: (link) => ({
        get state() {
          return severed ? 'disconnected' : link.state;
        },
        onStateChange: (listener) =>
          link.onStateChange((state, previous) => {
            if (!severed) listener(state, previous);
          }),
        publish: (t, payload) => (severed ? new Promise<void>(() => undefined) : link.publish(t, payload)),
      }),
    });
    await waitUntil(() => first.link.state === 'connected', WAIT_MS, 'the first link to connect');
    for (let i = 0; i < 5; i++) appendAccess(journal, 'gw-crash');
    await waitUntil(() => first.drainer.counters.acked === 5, WAIT_MS, 'five PUBACKs');
    severed = true;
    await first.link.stop(2_000);
    expect(journal.depth().pending).toBe(5);

    const second = startUplink({ url: broker.url, gatewayId: 'gw-crash', journal });
    await waitUntil(() => second.link.state === 'connected', WAIT_MS, 'the second link to connect');
    await eventsArrived(sub, topic, 10);
    await drained(journal);
    expect(seqs(sub.messages, topic)).toEqual([...range(1, 5), ...range(1, 5)]);
    const ids = sub.on(topic).map((m) => accessEventSchema.parse(JSON.parse(m.payload)).eventId);
    expect(ids.slice(5)).toEqual(ids.slice(0, 5));
  });
});
