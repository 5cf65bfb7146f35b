/**
 * The core promise, end to end with real parts: RDM6300 bytes written into a
 * pseudo-terminal become a decision, the LCUS relay on another pseudo-terminal
 * receives its bytes, and the check-in event reaches a subscriber on a real
 * Mosquitto, also when the broker was down at the time of the read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { accessEventSchema, gatewayStatusSchema, type AccessEvent } from '../../daemon/uplink/payloads.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';
import { startMosquitto, subscribe, type Mosquitto, type Subscriber } from '../support/mosquitto.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
/** RDM6300 frames from the reference (hardware-protocols.md §1). */
const frames = {
  ada: Buffer.from([0x02, ...ascii('0E00466AD3F1'), 0x03]), // 0004614867
  grace: Buffer.from([0x02, ...ascii('67003B51C6CB'), 0x03]), // 0003887558
  alan: Buffer.from([0x02, ...ascii('14008EC793CE'), 0x03]), // 0009357203, no valid pass
};
const RELAY_ON = Buffer.from([0xa0, 0x01, 0x01, 0xa2]);
const RELAY_OFF = Buffer.from([0xa0, 0x01, 0x00, 0xa1]);

describe('card read to door to cloud', () => {
  let dir: ReturnType<typeof tempDir>;
  let readerPty: PtyPair;
  let relayPty: PtyPair;
  let reader: HostPort;
  let relay: HostPort;
  let broker: Mosquitto;
  let cloud: Subscriber;
  let gateway: Gateway | undefined;
  const accessTopic = 'gatehouse/v1/gw1/events/access';

  beforeEach(async () => {
    dir = tempDir();
    readerPty = await createPty(dir.path, 'rdm6300');
    relayPty = await createPty(dir.path, 'lcus');
    // Persistent broker and subscriber session: the cloud misses nothing while the broker restarts.
    broker = await startMosquitto({ persistence: true });
    cloud = await subscribe(broker.url, ['gatehouse/v1/gw1/#'], { clientId: `cloud-${process.pid}`, clean: false });
    reader = await openHost(readerPty.hostPath);
    relay = await openHost(relayPty.hostPath);
    const config = writeSite(
      dir.path,
      `mqtt: { url: "${broker.url}", reconnectMs: 200 }
doors:
  - id: front
    relay: { driver: lcus, path: ${relayPty.devicePath}, channel: 1 }
    pulseMs: 400
readers:
  - { id: front-in, driver: rdm6300, path: ${readerPty.devicePath}, door: front, mode: entry }
`,
    );
    gateway = await Gateway.start(loadConfig(config), memoryLogger('warn').logger, '0.0.0-e2e');
    // Defined state on boot: the relay is told "locked" as soon as it opens.
    expect(await relay.readBytes(4)).toEqual(RELAY_OFF);
    await waitFor(() => gateway?.status().readers[0]?.device.state === 'online', 'reader online');
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await cloud.close();
    await reader.close();
    await relay.close();
    await readerPty.close();
    await relayPty.close();
    await broker.dispose();
    dir.remove();
  });

  const events = (): AccessEvent[] => cloud.on(accessTopic).map((m) => accessEventSchema.parse(JSON.parse(m.payload)));

  it('a granted card pulses the relay and publishes the check-in', async () => {
    await cloud.waitFor((ms) => ms.some((m) => m.topic === 'gatehouse/v1/gw1/status' && m.payload.includes('"online"')), 10_000, 'online status');
    const status = gatewayStatusSchema.parse(JSON.parse(cloud.on('gatehouse/v1/gw1/status').at(-1)?.payload ?? '{}'));
    expect(status).toMatchObject({ state: 'online', gatewayId: 'gw1', bootId: gateway?.bootId });

    await reader.write(frames.ada);
    expect(await relay.readBytes(4)).toEqual(RELAY_ON);
    expect(await relay.readBytes(4)).toEqual(RELAY_OFF); // after pulseMs

    await cloud.waitFor(() => events().length === 1, 10_000, 'check-in event');
    expect(events()[0]).toMatchObject({
      seq: 1,
      readerId: 'front-in',
      doorId: 'front',
      person: { id: demo.ada.id, kind: 'member' },
      decision: { outcome: 'granted', reason: 'granted' },
      checkin: 'checked_in',
      unlockMs: 400,
    });
    await waitFor(() => gateway?.status().journal.pending === 0, 'journal drained after PUBACK');
  });

  it('a denied card leaves the relay alone and still reaches the cloud as a failed check-in', async () => {
    await reader.write(frames.alan);
    await cloud.waitFor(() => events().length === 1, 10_000, 'failed check-in event');
    expect(events()[0]).toMatchObject({ person: { id: demo.alanNoPass.id }, decision: { outcome: 'denied', reason: 'no_valid_pass' }, checkin: 'failed', unlockMs: 0 });
    expect(relay.pending()).toEqual(Buffer.alloc(0));
  });

  it('with the broker down the door still opens, and the event arrives exactly once after it returns', async () => {
    await cloud.waitFor((ms) => ms.some((m) => m.topic.endsWith('/status')), 10_000, 'online status');
    await broker.stop();
    await waitFor(() => gateway?.status().uplink.state !== 'connected', 'link notices the broker is gone');

    await reader.write(frames.grace);
    expect(await relay.readBytes(4)).toEqual(RELAY_ON);
    await waitFor(() => gateway?.status().journal.pending === 1, 'event queued in the journal');

    await broker.start();
    await cloud.waitFor(() => events().length >= 1, 20_000, 'queued event delivered');
    await waitFor(() => gateway?.status().journal.pending === 0, 'journal drained');
    await cloud.sync();
    const delivered = events();
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ seq: 1, person: { id: demo.grace.id }, checkin: 'checked_in' });
  });
});
