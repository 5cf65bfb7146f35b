/**
 * The BLE scanner child process with the fake noble at the library boundary:
 * parsed advertisements cross the IPC channel, a crashing child is restarted
 * by the Supervisor while the daemon lives on, and an unusable adapter gives
 * a status naming the fix instead of a crash loop.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BleUnavailableError } from '../../drivers/ble/scanner.js';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import { waitFor } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { ALTBEACON, EDDYSTONE_TLM, EDDYSTONE_UID, IBEACON_1 } from './ble-test-vectors.js';
import { fakeScanner } from './support/ble-scanner-harness.js';
import type { BleScanner } from '../../drivers/ble/scanner.js';

describe('BLE scanner child process', () => {
  let dir: ReturnType<typeof tempDir>;
  let running: Supervisor<BleScanner>[] = [];
  const { logger } = memoryLogger('warn');
  const supervise = (scanner: BleScanner) => {
    const s = new Supervisor(scanner, { logger, minBackoffMs: 50, maxBackoffMs: 200 });
    running.push(s);
    s.start();
    return s;
  };

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await Promise.all(running.map((s) => s.stop()));
    running = [];
    dir.remove();
  });

  it('sends every frame parsed from what noble delivers, with address and RSSI', async () => {
    const { scanner, received } = fakeScanner(dir.path, {
      events: [
        { afterMs: 0, address: 'aa:bb:cc:00:00:01', rssi: -61, manufacturerData: IBEACON_1.toString('hex') },
        { afterMs: 5, address: 'aa:bb:cc:00:00:02', rssi: -70, manufacturerData: ALTBEACON.toString('hex') },
        {
          afterMs: 10,
          address: 'aa:bb:cc:00:00:03',
          rssi: -80,
          serviceData: [
            { uuid: 'feaa', data: EDDYSTONE_UID.toString('hex') },
            { uuid: 'feaa', data: EDDYSTONE_TLM.toString('hex') },
          ],
        },
        { afterMs: 15, address: 'aa:bb:cc:00:00:04', rssi: -90, manufacturerData: '4c000215e2c5' },
      ],
    }, logger);
    const s = supervise(scanner);
    await waitFor(() => received.length === 4 && scanner.counters().malformed === 1, 'four frames and one malformed');
    expect(s.state).toBe('online');
    expect(received.map((a) => [a.kind, a.address, a.rssi])).toEqual([
      ['ibeacon', 'aa:bb:cc:00:00:01', -61],
      ['altbeacon', 'aa:bb:cc:00:00:02', -70],
      ['eddystone-uid', 'aa:bb:cc:00:00:03', -80],
      ['eddystone-tlm', 'aa:bb:cc:00:00:03', -80],
    ]);
    expect(received[0]).toMatchObject({ fields: { uuid: 'e2c56db5-dffb-48d2-b060-d0f5a71096e0', major: 1, minor: 2, measuredPower: -59 } });
    expect(scanner.counters()).toMatchObject({ advertisements: 4, badMessages: 0, childExits: 0 });
  });

  for (const crash of ['abort', 'exit', 'throw'] as const) {
    it(`a child that crashes (${crash}) is restarted and scanning resumes; the daemon process is untouched`, async () => {
      const { scanner, received } = fakeScanner(dir.path, {
        events: [
          { afterMs: 0, address: 'aa:bb:cc:00:00:01', rssi: -60, manufacturerData: IBEACON_1.toString('hex') },
          { afterMs: 30, crash, onceFile: join(dir.path, 'crashed') },
        ],
      }, logger);
      const s = supervise(scanner);
      await waitFor(() => s.status().faults === 1, 'the crash noticed');
      const firstPid = scanner.pid;
      // The restarted child replays the sequence without crashing (the fixture crashes once).
      await waitFor(() => s.state === 'online' && received.length >= 2, 'restarted and receiving again');
      expect(scanner.pid).not.toBe(firstPid);
      expect(scanner.counters().childExits).toBe(1);
      expect(scanner.lastExit()).toMatch(crash === 'abort' ? /SIGABRT/ : /exit code/);
      expect(s.status().lastError).toBeNull();
    });
  }

  const unusable = [
    { name: 'missing capabilities (state unauthorized)', fixture: { state: 'unauthorized' as const, events: [] }, reason: 'unauthorized', fix: /setcap cap_net_raw,cap_net_admin\+eip/ },
    {
      name: 'missing capabilities (EPERM from the HCI socket)',
      fixture: { startScanningError: { code: 'EPERM', message: 'Operation not permitted' }, events: [] },
      reason: 'unauthorized',
      fix: /AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN/,
    },
    { name: 'no adapter (state unsupported)', fixture: { state: 'unsupported' as const, events: [] }, reason: 'no-adapter', fix: /hciconfig -a/ },
    { name: 'adapter powered off', fixture: { state: 'poweredOff' as const, events: [] }, reason: 'powered-off', fix: /rfkill unblock bluetooth/ },
  ];
  for (const u of unusable) {
    it(`${u.name}: a clear status naming the fix, retried slowly, never online`, async () => {
      const { scanner } = fakeScanner(dir.path, u.fixture, logger, 1);
      const s = new Supervisor(scanner, { logger, minBackoffMs: 60_000, maxBackoffMs: 60_000 });
      running.push(s);
      s.start();
      await waitFor(() => s.state === 'offline', 'reported offline');
      expect(scanner.unavailable()).toMatchObject({ reason: u.reason, fix: expect.stringMatching(u.fix) as unknown });
      expect(s.status().lastError).toMatch(u.fix);
      expect(s.status().nextRetryAt! - Date.now()).toBeGreaterThan(30_000);
      expect(scanner.pid).toBeNull();
    });
  }

  it('the unavailable error names the reason and the fix', async () => {
    const { scanner } = fakeScanner(dir.path, { state: 'poweredOff', events: [] }, logger, 2);
    await expect(scanner.open()).rejects.toThrow(BleUnavailableError);
    expect(scanner.unavailable()?.fix).toContain('hciconfig hci2 up');
  });

  it('losing the adapter while scanning ends the child with the reason; it is restarted', async () => {
    const { scanner } = fakeScanner(dir.path, { events: [{ afterMs: 20, state: 'poweredOff' }] }, logger);
    const s = supervise(scanner);
    await waitFor(() => s.status().faults >= 1, 'fault');
    expect(s.status().lastError).toMatch(/powered-off/);
  });
});
