/**
 * BLE through the whole daemon: the scanner child runs the fake noble (no
 * adapter here) fed with Ada's iBeacon and her phone's tap token. Presence
 * checks her in without a door; the tap at the reader opens the sim door.
 * Then presence and inactivity with fake timers on the same pipeline.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { BleService } from '../../daemon/ble/ble-service.js';
import { TapVerifier } from '../../daemon/ble/tap-verifier.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import type { AccessEvent, CheckoutEvent } from '../../daemon/uplink/payloads.js';
import { parseAdvertisement } from '../../drivers/ble/parse-advertisement.js';
import type { BleAdvertisement } from '../../drivers/ble/frames.js';
import { ALTBEACON, IBEACON_1, IBEACON_2 } from '../drivers/ble-test-vectors.js';
import { FAKE_NOBLE, fakeNobleEnv } from '../drivers/support/ble-scanner-harness.js';
import { BLE, writeBleSite } from '../support/ble-site.js';
import { sequence } from '../support/ble-sequences.js';
import { waitFor } from '../support/pty.js';
import { demo, memoryLogger, TEST_SITE_KEY } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const body = `
doors:
  - { id: front, relay: { driver: sim }, pulseMs: 300 }
ble:
  readers:
    - { id: ble-front, door: front, mode: entry, tapRssi: -50 }
`;

const events = (g: Gateway) =>
  g.journal
    .recent(100)
    .map((e) => JSON.parse(e.payload) as AccessEvent | CheckoutEvent)
    .reverse();

describe('gateway with a BLE reader', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await gateway?.stop();
    gateway = undefined;
    dir.remove();
  });

  it('presence checks Ada in (no door); her phone tap at the reader opens the sim door once', async () => {
    const config = writeBleSite(dir.path, body);
    const tap = { key: BLE.adaKey.toString('base64'), keyId: BLE.adaKeyId };
    const env = fakeNobleEnv(dir.path, {
      events: [
        { afterMs: 0, address: 'c0:00:00:00:00:01', rssi: -60, manufacturerData: IBEACON_1.toString('hex'), repeat: { everyMs: 100, times: 50 } },
        // Passing by in a pocket: too weak to act.
        { afterMs: 300, address: '5a:00:00:00:00:02', rssi: -80, tap },
        // Held at the reader: the phone repeats its token; only the first acts.
        { afterMs: 600, address: '5a:00:00:00:00:02', rssi: -42, tap, repeat: { everyMs: 20, times: 5 } },
      ],
    });
    const { logger, lines } = memoryLogger('debug');
    const g = (gateway = await Gateway.start(loadConfig(config), logger, '0.0.0-test', { nobleModule: FAKE_NOBLE, bleEnv: env }));
    await waitFor(() => (g.status().ble?.counters.tapsReplayed ?? 0) === 4, 'the tap and its repeats', 15_000);

    const access = events(g).filter((e): e is AccessEvent => e.schema === 'gatehouse.access/1');
    expect(access.map((e) => [e.channel, e.doorId, e.credential.kind, e.decision.outcome, e.checkin])).toEqual([
      ['ble', null, 'ble', 'granted', 'checked_in'],
      ['ble', 'front', 'ble', 'granted', 'none'],
    ]);
    expect(access[1]?.unlockMs).toBe(300);
    expect(access.every((e) => e.person?.id === demo.ada.id && e.readerId === 'ble-front')).toBe(true);
    const status = g.status();
    expect(status.ble?.counters).toMatchObject({ arrivals: 1, checkins: 1, tapsAccepted: 1, tapsTooFar: 1, tapsReplayed: 4 });
    expect(status.ble?.readers[0]).toMatchObject({ id: 'ble-front', device: { state: 'online' }, unavailable: null });
    expect(status.occupancy.people.map((p) => p.personId)).toEqual([demo.ada.id]);
    expect(lines.join('\n')).not.toContain(BLE.adaKey.toString('base64'));
  });

  it('an unusable adapter shows the fix in status while the doors keep working', async () => {
    const config = writeBleSite(dir.path, `${body}readers:
  - { id: front-card, driver: sim, door: front, mode: entry }
`);
    const env = fakeNobleEnv(dir.path, { state: 'unauthorized', events: [] });
    const g = (gateway = await Gateway.start(loadConfig(config), memoryLogger().logger, '0.0.0-test', { nobleModule: FAKE_NOBLE, bleEnv: env }));
    await waitFor(() => g.status().ble?.readers[0]?.device.state === 'offline', 'adapter reported');
    expect(g.status().ble?.readers[0]?.unavailable?.fix).toMatch(/CAP_NET_RAW/);
    expect(g.status().ble?.readers[0]?.device.state).toBe('offline');
    expect(g.simulate('card', demo.ada.card).decision).toMatchObject({ outcome: 'granted', checkin: 'checked_in' });
  });

  it('presence with fake timers: arrival checks in, a failed check-in without a pass, inactivity checks out after 15 minutes', async () => {
    // No BLE readers in the config: the service is fed in-process, with the gateway's pipeline and store.
    const config = writeBleSite(dir.path, body.replace(/ble:[\s\S]*/, ''));
    const g = (gateway = await Gateway.start(loadConfig(config), memoryLogger().logger, '0.0.0-test'));
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const loaded = loadConfig(writeBleSite(dir.path, body));
    const hasher = new CredentialHasher(Buffer.from(TEST_SITE_KEY, 'base64'));
    const service = new BleService({
      config: { ...loaded.config.ble, readers: [] },
      pipeline: g.pipeline,
      hasher,
      sessions: g.sessions,
      autoCheckout: g.autoCheckout,
      verifier: new TapVerifier(g.db, hasher, g.cache),
      logger: memoryLogger().logger,
    });
    service.start();
    const reader = loaded.config.ble.readers[0]!;
    const ad = (m: Buffer, rssi: number): BleAdvertisement => ({ ...parseAdvertisement({ manufacturerData: m }).frames[0]!, address: 'x', rssi, at: 0 });
    const play = async (m: Buffer, samples: [number, number][]) => {
      let t = 0;
      for (const [at, rssi] of samples) {
        await vi.advanceTimersByTimeAsync(at - t);
        t = at;
        service.handle(reader, ad(m, rssi));
      }
    };

    await play(IBEACON_1, sequence('arrive'));
    await play(IBEACON_2, sequence('arrive')); // Alan: no valid pass
    await play(ALTBEACON, sequence('arrive')); // nobody's beacon: not journaled
    await play(IBEACON_1, sequence('linger'));
    expect(g.sessions.openSessionOf(demo.ada.id)).not.toBeNull();
    await play(IBEACON_1, sequence('leave'));
    // Last here 2 to 7 s before the leave sequence ends: checked out 15 minutes after that, not before.
    await vi.advanceTimersByTimeAsync(15 * 60_000 - 10_000);
    expect(g.sessions.openSessionOf(demo.ada.id)).not.toBeNull();
    await vi.advanceTimersByTimeAsync(12_000);
    expect(g.sessions.openSessionOf(demo.ada.id)).toBeNull();
    await service.stop();

    const journal = events(g);
    expect(journal.map((e) => (e.schema === 'gatehouse.access/1' ? [e.person?.id, e.decision.reason, e.checkin, e.doorId] : [e.person.id, e.reason]))).toEqual([
      [demo.ada.id, 'granted', 'checked_in', null],
      [demo.alanNoPass.id, 'no_valid_pass', 'failed', null],
      [demo.ada.id, 'inactivity'],
    ]);
    expect(service.status().counters).toMatchObject({ arrivals: 3, checkins: 1, failedCheckins: 1, unknownBeacons: 1, inactivityCheckouts: 1 });
  });
});
