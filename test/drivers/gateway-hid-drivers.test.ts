/**
 * The HID drivers wired through the daemon: a keyboard-wedge read grants and
 * pulses a door on a USBRelay board, with node-hid replaced by the fake at
 * the library boundary (USB devices cannot exist here).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { waitFor } from '../support/pty.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { RELAY_1_OFF, RELAY_1_ON, typeReports } from './hid-test-vectors.js';
import { FakeHid, FakeUsbRelayBoard, fakeWedgeReader } from './support/fake-hid.js';

describe('gateway with a keyboard-wedge reader and a USB HID relay', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway | undefined;

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    dir.remove();
  });

  it('a wedge read grants and pulses the door; counters show in status; the door locks on shutdown', async () => {
    const hid = new FakeHid();
    const reader = hid.add(fakeWedgeReader('/dev/hidraw0'));
    const board = hid.add(new FakeUsbRelayBoard('QWERT', 2, '/dev/hidraw1'));
    const config = writeSite(
      dir.path,
      `doors:
  - { id: front, relay: { driver: usb-hid-relay, serial: QWERT, channel: 1 }, pulseMs: 300 }
readers:
  - { id: front-usb, driver: hid-keyboard, usbId: "ffff:0035", door: front, mode: entry }
`,
    );
    const { logger, lines } = memoryLogger('debug');
    gateway = await Gateway.start(loadConfig(config), logger, '0.0.0-test', { hidLibrary: hid });
    const g = gateway;
    await waitFor(() => g.status().readers[0]?.device.state === 'online' && g.status().doors[0]?.relay.state === 'online', 'devices online');
    await waitFor(() => board.commands.length >= 1, 'relay put into its boot state');
    const before = board.commands.length;

    reader.send(typeReports(`${demo.ada.card}\n`));
    // The command history, not the live state, so a stalled test process cannot miss a 300 ms pulse.
    const pulsed = () => {
      const sent = board.commands.slice(before).map((command) => [...command]);
      const on = sent.findIndex((command) => command[1] === RELAY_1_ON[1]);
      return on >= 0 && sent.slice(on + 1).some((command) => command[1] === RELAY_1_OFF[1]);
    };
    await waitFor(pulsed, 'relay energised for the grant, then released');
    await waitFor(() => g.journal.depth().pending === 1, 'decision journaled');
    expect(board.energised(1)).toBe(false);

    const status = g.status();
    expect(status.readers[0]?.counters).toMatchObject({ readsEmitted: 1, lines: 1 });
    expect(status.doors[0]?.relayCounters).toMatchObject({ commandFailures: 0, verifiedEnergised: false, lastError: null });
    expect(status.doors[0]?.relayCounters?.commandsSent).toBeGreaterThanOrEqual(3);
    expect(lines.join('\n')).not.toContain(demo.ada.card);

    board.mask = 0b1; // someone switched it on by hand; shutdown must still leave it locked
    await g.stop();
    expect(board.energised(1)).toBe(false);
  });

  it('an unplugged reader goes offline and the door keeps working for the other reader', async () => {
    const hid = new FakeHid();
    const wedge = hid.add(fakeWedgeReader('/dev/hidraw0', { serialNumber: 'R1' }));
    const spare = hid.add(fakeWedgeReader('/dev/hidraw2', { serialNumber: 'R2' }));
    const board = hid.add(new FakeUsbRelayBoard('QWERT', 1, '/dev/hidraw1'));
    const config = writeSite(
      dir.path,
      `doors:
  - { id: front, relay: { driver: usb-hid-relay, serial: QWERT, channel: 1 }, pulseMs: 200 }
readers:
  - { id: a, driver: hid-keyboard, usbId: "ffff:0035", serialNumber: R1, door: front, mode: entry }
  - { id: b, driver: hid-keyboard, usbId: "ffff:0035", serialNumber: R2, door: front, mode: exit }
`,
    );
    gateway = await Gateway.start(loadConfig(config), memoryLogger('silent').logger, '0.0.0-test', { hidLibrary: hid });
    const g = gateway;
    const state = (id: string) => g.status().readers.find((r) => r.id === id)?.device.state;
    await waitFor(() => state('a') === 'online' && state('b') === 'online', 'readers online');
    wedge.unplug();
    await waitFor(() => state('a') === 'offline', 'reader a offline');
    const before = board.commands.length;
    spare.send(typeReports(`${demo.ada.card}\n`));
    await waitFor(() => board.commands.slice(before).some((command) => command[1] === RELAY_1_ON[1]), 'door opened from reader b');
    wedge.replug();
    await waitFor(() => state('a') === 'online', 'reader a back');
  });
});
