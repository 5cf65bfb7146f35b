/**
 * Door supervision through the whole daemon: a simulated relay, contact and
 * exit button driven over the real control socket (as `gatehouse sim input`
 * does), the journal in a real SQLite file, and a real Mosquitto carrying the
 * door events to a subscriber.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { sendControlRequest } from '../../daemon/control/control-server.js';
import type { ControlRequest } from '../../daemon/control/protocol.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { doorEventSchema, type DoorEvent } from '../../daemon/uplink/payloads.js';
import { disposeAll, startMosquitto, subscribe, waitUntil, type Subscriber } from '../support/mosquitto.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const WAIT_MS = 20_000;
const DOOR_TOPIC = 'gatehouse/v1/gw1/events/door';

describe('door events through the gateway', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway;
  let cloud: Subscriber;
  let socket: string;

  beforeEach(async () => {
    dir = tempDir();
    const broker = await startMosquitto();
    cloud = await subscribe(broker.url, [DOOR_TOPIC]);
    const loaded = loadConfig(
      writeSite(
        dir.path,
        `mqtt: { url: "${broker.url}", reconnectMs: 200 }
doors:
  - id: front
    relay: { driver: sim }
    pulseMs: 2000
    contact: { driver: sim }
    rex: { driver: sim }
readers:
  - { id: front-in, driver: sim, door: front, mode: access-only }
`,
      ),
    );
    socket = loaded.config.control.socket;
    gateway = await Gateway.start(loaded, memoryLogger('fatal').logger, '0.0.0-test');
    await waitUntil(() => gateway.status().doors[0]?.contact?.device.state === 'online', WAIT_MS, 'contact online');
  });

  afterEach(async () => {
    await gateway.stop();
    await disposeAll();
    dir.remove();
  });

  const input = async (role: 'contact' | 'rex', action: 'open' | 'closed' | 'press') => {
    const request: ControlRequest = { op: 'sim-input', door: 'front', input: role, action };
    const response = await sendControlRequest(socket, request);
    if (!response.ok) throw new Error(response.error);
    return response.data as { state: string; alarm: string | null; lock: string };
  };
  const journaled = (): DoorEvent[] =>
    gateway.journal
      .recent(100)
      .filter((e) => e.type === 'door')
      .reverse()
      .map((e) => doorEventSchema.parse(JSON.parse(e.payload)));

  it('a forced door is journaled and reaches the broker; closing it restores the alarm', async () => {
    expect(await input('contact', 'open')).toMatchObject({ state: 'forced-open', alarm: 'forced-open', lock: 'locked' });
    expect(await input('contact', 'closed')).toMatchObject({ state: 'locked', alarm: null });
    expect(journaled().map((e) => e.event)).toEqual(['forced-open', 'closed-after-alarm']);
    const [forced] = journaled();
    expect(forced).toMatchObject({ schema: 'gatehouse.door/1', siteId: 'test', gatewayId: 'gw1', doorId: 'front', mode: 'normal', alarm: 'forced-open', input: null, bootId: gateway.bootId });

    await cloud.waitFor((ms) => ms.length >= 2, WAIT_MS, 'both door events on the broker');
    const published = cloud.on(DOOR_TOPIC).map((m) => doorEventSchema.parse(JSON.parse(m.payload)));
    expect(published.map((e) => [e.event, e.eventId, e.seq])).toEqual(journaled().map((e) => [e.event, e.eventId, e.seq]));
    await waitUntil(() => gateway.status().journal.pending === 0, WAIT_MS, 'delivered');
  });

  it('a granted card then opening is no alarm; a REX press is an event and pulses the lock; status shows the inputs', async () => {
    expect(gateway.simulate('card', demo.ada.card, 'front-in').decision.outcome).toBe('granted');
    expect(await input('contact', 'open')).toMatchObject({ state: 'open', lock: 'locked' });
    expect(await input('contact', 'closed')).toMatchObject({ state: 'locked' });
    expect(await input('rex', 'press')).toMatchObject({ state: 'unlocked', lock: 'unlocked' });
    expect(journaled().map((e) => e.event)).toEqual(['rex']);
    expect(gateway.status().doors[0]).toMatchObject({ contact: { active: false, device: { state: 'online' } }, rex: { active: false }, lock: 'unlocked' });
    await expect(sendControlRequest(socket, { op: 'sim-input', door: 'back', input: 'rex', action: 'press' })).resolves.toEqual({
      ok: false,
      error: 'door "back" has no simulated rex input',
    });
  });
});
