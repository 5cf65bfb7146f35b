/**
 * Faults stay small: a reader missing at start, unplugged or replugged is
 * supervised on its own while the other door keeps working, and a relay
 * that comes back is put back into the state its door intends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { gatewayStatusSchema } from '../../daemon/uplink/payloads.js';
import { startMosquitto, subscribe } from '../support/mosquitto.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const ADA = Buffer.from([0x02, ...ascii('0E00466AD3F1'), 0x03]);
const GRACE = Buffer.from([0x02, ...ascii('67003B51C6CB'), 0x03]);
const CH1_OFF = Buffer.from([0xa0, 0x01, 0x00, 0xa1]);
const CH2_ON = Buffer.from([0xa0, 0x02, 0x01, 0xa3]);
const CH2_OFF = Buffer.from([0xa0, 0x02, 0x00, 0xa2]);

describe('device faults', () => {
  let dir: ReturnType<typeof tempDir>;
  let front: PtyPair;
  let back: PtyPair;
  let board: PtyPair;
  let relay: HostPort;
  let gateway: Gateway | undefined;

  beforeEach(async () => {
    dir = tempDir();
    front = await createPty(dir.path, 'front-reader');
    back = await createPty(dir.path, 'back-reader');
    board = await createPty(dir.path, 'lcus');
    relay = await openHost(board.hostPath);
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await relay.close();
    for (const p of [front, back, board]) await p.close();
    dir.remove();
  });

  const start = async (mqttUrl?: string): Promise<Gateway> => {
    const config = writeSite(
      dir.path,
      `${mqttUrl === undefined ? '' : `mqtt: { url: ${mqttUrl} }\n`}doors:
  - { id: front, relay: { driver: lcus, path: ${board.devicePath}, channel: 1 }, pulseMs: 300 }
  - { id: back, relay: { driver: lcus, path: ${board.devicePath}, channel: 2 }, pulseMs: 300 }
readers:
  - { id: front-in, driver: rdm6300, path: ${front.devicePath}, door: front, mode: entry }
  - { id: back-in, driver: rdm6300, path: ${back.devicePath}, door: back, mode: entry }
`,
    );
    gateway = await Gateway.start(loadConfig(config), memoryLogger('error').logger, '0.0.0-test');
    return gateway;
  };
  const reader = (g: Gateway, id: string) => g.status().readers.find((r) => r.id === id)?.device;

  it('a reader missing at start is offline in status, the other door works, and it is picked up when plugged in', async () => {
    await front.unplug();
    const g = await start();
    await waitFor(() => reader(g, 'back-in')?.state === 'online', 'back reader online');
    await waitFor(() => reader(g, 'front-in')?.state === 'offline', 'front reader offline');
    expect(reader(g, 'front-in')?.lastError).toMatch(/no such device/);
    // Both channels are written "locked" at boot.
    const boot = await relay.readBytes(8);
    expect([boot.subarray(0, 4), boot.subarray(4, 8)]).toEqual(expect.arrayContaining([CH1_OFF, CH2_OFF]));

    const backHost = await openHost(back.hostPath);
    await backHost.write(GRACE);
    expect(await relay.readBytes(4)).toEqual(CH2_ON);
    expect(await relay.readBytes(4)).toEqual(CH2_OFF);
    await backHost.close();

    await front.replug();
    await waitFor(() => reader(g, 'front-in')?.state === 'online', 'front reader back online', 15_000);
    const frontHost = await openHost(front.hostPath);
    await frontHost.write(ADA);
    await waitFor(() => g.journal.depth().pending === 2, 'second decision journaled');
    await frontHost.close();
    expect(g.sessions.openSessions().map((s) => s.personId).sort()).toEqual([demo.ada.id, demo.grace.id].sort());
  });

  it('unplugging a reader while running faults only that reader; replugging brings it back', async () => {
    const g = await start();
    await waitFor(() => reader(g, 'front-in')?.state === 'online' && reader(g, 'back-in')?.state === 'online', 'readers online');
    await front.unplug();
    await waitFor(() => reader(g, 'front-in')?.state === 'offline', 'front reader offline after unplug');
    expect(reader(g, 'front-in')?.faults).toBe(1);
    expect(reader(g, 'back-in')?.state).toBe('online');

    await front.replug();
    await waitFor(() => reader(g, 'front-in')?.state === 'online', 'front reader online after replug', 15_000);
    const host = await openHost(front.hostPath);
    await host.write(ADA);
    await waitFor(() => g.journal.depth().pending === 1, 'read after replug decided');
    await host.close();
  });

  it('the retained MQTT status carries every device and is republished when one goes offline and back', async () => {
    const broker = await startMosquitto();
    const sub = await subscribe(broker.url, ['gatehouse/v1/+/status']);
    try {
      const g = await start(broker.url);
      const latest = () => {
        const all = sub.messages.map((m) => gatewayStatusSchema.parse(JSON.parse(m.payload)));
        return all.at(-1)?.devices ?? [];
      };
      const stateOf = (id: string) => latest().find((d) => d.id === id)?.state;
      await sub.waitFor(() => stateOf('front-in') === 'online' && stateOf('door:front') === 'online', 15_000, 'all devices online in the status');
      expect(latest().map((d) => `${d.kind} ${d.id}`).sort()).toEqual(['reader back-in', 'reader front-in', 'relay door:back', 'relay door:front']);
      await front.unplug();
      await sub.waitFor(() => stateOf('front-in') === 'offline', 15_000, 'front reader offline in the status');
      expect(stateOf('back-in')).toBe('online');
      await front.replug();
      await sub.waitFor(() => stateOf('front-in') === 'online', 15_000, 'front reader online again');
      expect(g.status().readers.find((r) => r.id === 'front-in')?.device.state).toBe('online');
    } finally {
      await sub.close();
      await gateway?.stop();
      gateway = undefined;
      await broker.dispose();
    }
  });
});
