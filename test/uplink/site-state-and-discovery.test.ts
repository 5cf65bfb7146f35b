/**
 * The retained `state` topic and Home Assistant discovery, through the real
 * gateway and a real broker: discovery configs are retained and point at the
 * state and status topics; a granted card shows the door unlocked and then
 * locked again, a check-in shows in the occupancy, an opened contact shows open.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { siteStateSchema, type SiteState } from '../../daemon/uplink/payloads.js';
import { startMosquitto, subscribe, type Mosquitto, type Subscriber } from '../support/mosquitto.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const WAIT = 15_000;

describe('site state and Home Assistant discovery', () => {
  let dir: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let gateway: Gateway | undefined;
  let sub: Subscriber | undefined;

  beforeEach(async () => {
    dir = tempDir();
    broker = await startMosquitto();
  });
  afterEach(async () => {
    await sub?.close();
    await gateway?.stop();
    gateway = undefined;
    await broker.dispose();
    dir.remove();
  });

  it('publishes retained discovery configs and the live door and occupancy state', async () => {
    const config = writeSite(
      dir.path,
      `mqtt: { url: ${broker.url} }
homeAssistant: { discovery: true }
doors:
  - { id: front, name: Front door, relay: { driver: sim }, pulseMs: 400, contact: { driver: sim } }
readers:
  - { id: front-in, driver: sim, door: front, mode: entry }
`,
    );
    gateway = await Gateway.start(loadConfig(config), memoryLogger('error').logger, '0.0.0-test');
    const g = gateway;
    sub = await subscribe(broker.url, ['homeassistant/#', 'gatehouse/v1/+/state']);
    const s = sub;
    const states = (): SiteState[] => s.on(`gatehouse/v1/${g.status().gateway.id}/state`).map((m) => siteStateSchema.parse(JSON.parse(m.payload)));
    const front = () => states().at(-1)?.doors.find((d) => d.id === 'front');

    // Retained: a subscriber that arrives after the connect still gets them.
    await s.waitFor((ms) => ms.filter((m) => m.topic.startsWith('homeassistant/')).length >= 5, WAIT, 'discovery configs');
    const configs = s.messages.filter((m) => m.topic.startsWith('homeassistant/'));
    expect(configs.every((m) => m.retain)).toBe(true);
    const parsed = configs.map((m) => ({ topic: m.topic, body: JSON.parse(m.payload) as Record<string, unknown> }));
    expect(parsed.map((p) => p.topic).sort()).toEqual([
      'homeassistant/binary_sensor/gatehouse_gw1/front_alarm/config',
      'homeassistant/binary_sensor/gatehouse_gw1/front_lock/config',
      'homeassistant/binary_sensor/gatehouse_gw1/front_open/config',
      'homeassistant/sensor/gatehouse_gw1/front_mode/config',
      'homeassistant/sensor/gatehouse_gw1/occupancy/config',
    ]);
    expect(new Set(parsed.map((p) => p.body.unique_id)).size).toBe(5);
    for (const { body } of parsed) {
      expect(body).toMatchObject({ state_topic: 'gatehouse/v1/gw1/state', availability_topic: 'gatehouse/v1/gw1/status', payload_available: 'online' });
      // Read-only: nothing here can command a door.
      expect(body).not.toHaveProperty('command_topic');
    }
    await s.waitFor(() => front()?.lock === 'locked', WAIT, 'initial state');

    expect(g.simulate('card', demo.ada.card, 'front-in').decision.outcome).toBe('granted');
    await s.waitFor(() => front()?.lock === 'unlocked' && states().at(-1)?.occupancy === 1, WAIT, 'unlocked, one person on site');
    await s.waitFor(() => front()?.lock === 'locked', WAIT, 'locked again after the pulse');

    g.simulateInput('front', 'contact', 'open');
    await s.waitFor(() => front()?.open === true, WAIT, 'contact open');
    expect(states().every((st) => st.gatewayId === 'gw1')).toBe(true);
  });
});
