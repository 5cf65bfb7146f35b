/**
 * Outbox drain rate: N queued journal rows to a real Mosquitto at QoS 1, with
 * the journal bookkeeping (read in batches, PUBACK, mark published), against
 * mqtt.js alone publishing the same payloads at QoS 1 with the same in-flight
 * window and no journal, in the same run.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect } from 'mqtt';
import { pino } from 'pino';
import { openDatabase, type Db } from '../daemon/store/database.js';
import { Journal } from '../daemon/store/journal.js';
import { MqttLink } from '../daemon/uplink/mqtt-link.js';
import { OutboxDrainer } from '../daemon/uplink/outbox-drainer.js';
import { accessTopic } from '../daemon/uplink/topics.js';
import { startMosquitto } from '../test/support/mosquitto.js';
import { tempDir } from '../test/support/temp-dir.js';

const INFLIGHT = 64;

function samplePayload(seq: number): object {
  return {
    schema: 'gatehouse.access/1',
    seq,
    ts: new Date().toISOString(),
    siteId: 'bench',
    gatewayId: 'gw1',
    readerId: 'front-in',
    doorId: 'front',
    credential: { kind: 'card', fingerprint: 'deadbeef' },
    person: { id: `m-${seq}`, kind: 'member' },
    decision: { outcome: 'granted', reason: 'granted' },
    checkin: 'checked_in',
    sessionId: null,
    unlockMs: 3000,
    cache: { version: 1 },
  };
}

/** Queues `events` access events of realistic size in the journal, in one transaction. */
export function queueSampleEvents(db: Db, journal: Journal, topic: string, events: number): void {
  db.transaction(() => {
    for (let i = 0; i < events; i++) journal.append('access', topic, Date.now(), (stamp) => ({ ...samplePayload(stamp.seq), eventId: stamp.eventId, bootId: stamp.bootId }));
  })();
}

export async function measureOutboxDrain(events: number): Promise<{ outboxEps: number; rawEps: number }> {
  const dir = tempDir('gatehouse-bench-');
  const broker = await startMosquitto();
  try {
    const db = openDatabase(join(dir.path, 'g.db'));
    const journal = new Journal(db, 'bench-boot');
    const topic = accessTopic('gatehouse/v1', 'gw1');
    queueSampleEvents(db, journal, topic, events);

    // Raw baseline first, on a fresh connection, same payload sizes and window.
    const payloads = journal.pending(0, events).map((e) => e.payload);
    const rawEps = await new Promise<number>((resolve, reject) => {
      const client = connect(broker.url, { clean: true, protocolVersion: 4 });
      client.on('error', reject);
      client.on('connect', () => {
        const started = performance.now();
        let next = 0;
        let acked = 0;
        const pump = (): void => {
          while (next < payloads.length && next - acked < INFLIGHT) {
            client.publish(topic, payloads[next++] as string, { qos: 1 }, (error) => {
              if (error) reject(error);
              acked++;
              if (acked === payloads.length) {
                const eps = payloads.length / ((performance.now() - started) / 1000);
                client.end(false, {}, () => resolve(eps));
              } else pump();
            });
          }
        };
        pump();
      });
    });

    const logger = pino({ level: 'silent' });
    const link = new MqttLink({
      config: { url: broker.url, topicPrefix: 'gatehouse/v1', keepaliveS: 30, reconnectMs: 500, connectTimeoutMs: 5000, maxInflight: INFLIGHT },
      gatewayId: 'gw1',
      siteId: 'bench',
      bootId: 'bench-boot',
      version: 'bench',
      logger,
    });
    const drainer = new OutboxDrainer({ journal, link, logger, maxInflight: INFLIGHT });
    link.start();
    await new Promise<void>((resolve) => {
      if (link.state === 'connected') resolve();
      else link.onStateChange((s) => s === 'connected' && resolve());
    });
    const started = performance.now();
    drainer.start();
    // Poll the drainer's counter, not the journal: a COUNT over the pending rows
    // every few milliseconds would be the benchmark measuring itself.
    while (drainer.counters.acked < events) await new Promise((r) => setTimeout(r, 5));
    // Marks still waiting for their timer are written by stop(): part of the drain's cost.
    drainer.stop();
    const outboxEps = events / ((performance.now() - started) / 1000);
    await link.stop();
    db.close();
    return { outboxEps, rawEps };
  } finally {
    await broker.dispose();
    dir.remove();
  }
}
