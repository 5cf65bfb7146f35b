/**
 * Application-level acknowledgements through the whole daemon: with a cloud
 * section an event stays pending after its PUBACK until the cloud acks it,
 * is sent again (once) on every new connection until then, and a forged ack
 * changes nothing. The gateway reaches the broker through a TCP proxy so a
 * test can cut the connection the way a network does.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { ackTopic, buildAck, EventAcker, signAck } from '../../scripts/cloud-sim/acks.js';
import { cloudKey } from '../support/cloud-keys.js';
import { cloudClient, PREFIX, testCloudKey, writeCloudSite } from '../support/cloud-site.js';
import { disposeAll, startMosquitto, startTcpProxy, subscribe, waitUntil, type Mosquitto, type Subscriber, type TcpProxy } from '../support/mosquitto.js';
import { demo, memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const WAIT_MS = 20_000;
const key = testCloudKey();
const signer = { keyId: key.id, privateKey: key.privateKey };
const eventsTopic = `${PREFIX}/gw1/events/access`;

describe('event acknowledgements from the cloud', () => {
  let dir: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let proxy: TcpProxy;
  let gateway: Gateway | undefined;
  let client: MqttClient;
  let acker: EventAcker;
  /** Every copy the broker delivers, resends included. */
  let wire: Subscriber;

  beforeEach(async () => {
    dir = tempDir();
    broker = await startMosquitto();
    proxy = await startTcpProxy(broker.port);
    client = await cloudClient(broker.url);
    wire = await subscribe(broker.url, [eventsTopic]);
  });

  afterEach(async () => {
    await acker.stop().catch(() => undefined);
    await gateway?.stop();
    gateway = undefined;
    await new Promise<void>((resolve) => client.end(true, () => resolve()));
    await disposeAll();
    dir.remove();
  });

  const start = async (mode: 'ids' | 'through-seq' = 'ids') => {
    acker = new EventAcker(client, { topicPrefix: PREFIX, signer, mode });
    await acker.start();
    gateway = await Gateway.start(loadConfig(writeCloudSite(dir.path, proxy.url, key)), memoryLogger('warn').logger, '0.0.0-test');
    await waitUntil(() => gateway?.status().uplink.state === 'connected', WAIT_MS, 'gateway connected');
  };
  const gw = (): Gateway => {
    if (gateway === undefined) throw new Error('gateway not started');
    return gateway;
  };
  const journal = () => gw().status().journal;
  const copies = (eventId: string) => wire.messages.filter((m) => m.payload.includes(eventId)).length;
  const reconnect = async () => {
    const connects = gw().status().uplink;
    const before = connects.state === 'disabled' ? 0 : connects.link.connects;
    proxy.cut();
    await waitUntil(() => {
      const u = gw().status().uplink;
      return u.state === 'connected' && u.link.connects > before;
    }, WAIT_MS, 'the gateway to reconnect');
  };

  it('events acked by id leave the pending set; PUBACK alone does not', async () => {
    await start();
    acker.pause();
    gw().simulate('card', demo.ada.card, 'front-in');
    gw().simulate('card', demo.alanNoPass.card, 'front-in');
    await waitUntil(() => journal().awaitingPuback === 0 && journal().awaitingCloudAck === 2, WAIT_MS, 'both events PUBACKed');
    expect(journal()).toMatchObject({ delivery: 'cloud-ack', pending: 2 });

    acker.resume();
    await waitUntil(() => journal().pending === 0, WAIT_MS, 'the cloud ack');
    expect(journal()).toMatchObject({ awaitingPuback: 0, awaitingCloudAck: 0 });
    expect(gw().journal.recent(10).every((e) => e.ackedAt !== null && e.publishedAt !== null)).toBe(true);
    expect(gw().status().cloud?.acks).toMatchObject({ eventsAcked: 2, unknownIds: 0, ignored: {} });
    expect(acker.stored('gw1').map((e) => e.seq)).toEqual([1, 2]);
  });

  it('unacknowledged events are sent again after a reconnect, once per connection, and stop once acked', async () => {
    await start();
    acker.pause();
    for (const card of [demo.ada.card, demo.grace.card, demo.alanNoPass.card]) gw().simulate('card', card, 'front-in');
    await waitUntil(() => journal().awaitingCloudAck === 3, WAIT_MS, 'three events PUBACKed, none acked');
    const ids = gw().journal.recent(3).map((e) => e.id).reverse();
    await wire.sync();
    expect(ids.map(copies)).toEqual([1, 1, 1]);

    await reconnect();
    await wire.waitFor(() => ids.every((id) => copies(id) >= 2), WAIT_MS, 'the resends');
    await wire.sync();
    expect(ids.map(copies)).toEqual([2, 2, 2]);
    // Resent in seq order, before anything newer.
    const resent = wire.messages.slice(3).map((m) => (JSON.parse(m.payload) as { seq: number }).seq);
    expect(resent).toEqual([1, 2, 3]);

    await reconnect();
    await wire.waitFor(() => ids.every((id) => copies(id) >= 3), WAIT_MS, 'the second resends');
    await wire.sync();
    expect(ids.map(copies)).toEqual([3, 3, 3]);

    acker.resume();
    await waitUntil(() => journal().pending === 0, WAIT_MS, 'the acks');
    expect(acker.duplicates).toBe(6); // the cloud deduplicated by eventId
    await reconnect();
    await wire.sync();
    expect(ids.map(copies)).toEqual([3, 3, 3]);
  });

  it('a cumulative ack (throughSeq) completes every event up to it', async () => {
    await start('through-seq');
    for (const card of [demo.ada.card, demo.grace.card, demo.alanNoPass.card]) gw().simulate('card', card, 'front-in');
    await waitUntil(() => journal().pending === 0, WAIT_MS, 'the cumulative ack');
    expect(gw().status().cloud?.acks).toMatchObject({ eventsAcked: 3 });
  });

  it('ignores forged, misaddressed and unknown acks: the event stays pending', async () => {
    await start();
    acker.pause();
    gw().simulate('card', demo.ada.card, 'front-in');
    await waitUntil(() => journal().awaitingCloudAck === 1, WAIT_MS, 'the event PUBACKed');
    const eventId = gw().journal.recent(1)[0]?.id ?? '';
    const topic = ackTopic(PREFIX, 'gw1');
    const impostor = cloudKey(key.id);
    const publish = (message: string) => client.publishAsync(topic, message, { qos: 1 });

    await publish(JSON.stringify(buildAck('gw1', { eventIds: [eventId] }))); // unsigned
    await publish(signAck({ keyId: key.id, privateKey: impostor.privateKey }, buildAck('gw1', { eventIds: [eventId] }))); // wrong key
    await publish(signAck(signer, buildAck('gw2', { eventIds: [eventId] }))); // another gateway's
    await publish(signAck(signer, { type: 'events.ack', gatewayId: 'gw1' })); // names nothing
    await publish(signAck(signer, buildAck('gw1', { throughSeq: 99 }))); // beyond the last seq
    await publish(signAck(signer, buildAck('gw1', { eventIds: ['019a0000-0000-7000-8000-000000000000'] }))); // unknown id
    await waitUntil(() => (gw().status().cloud?.acks.received ?? 0) >= 6, WAIT_MS, 'all six acks handled');

    expect(journal()).toMatchObject({ pending: 1, awaitingCloudAck: 1 });
    expect(gw().status().cloud?.acks).toMatchObject({
      applied: 2,
      eventsAcked: 0,
      unknownIds: 1,
      throughSeqAhead: 1,
      ignored: { unsigned: 1, bad_signature: 1, wrong_gateway: 1, invalid_ack: 1 },
    });

    // The genuine ack still works, and repeating it changes nothing.
    await publish(signAck(signer, buildAck('gw1', { eventIds: [eventId] })));
    await publish(signAck(signer, buildAck('gw1', { eventIds: [eventId] })));
    await waitUntil(() => (gw().status().cloud?.acks.alreadyAcked ?? 0) === 1, WAIT_MS, 'the repeated ack');
    expect(journal().pending).toBe(0);
  });
});
