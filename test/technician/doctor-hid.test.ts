/** gatehouse doctor's HID section, against a fake node-hid (USB devices cannot exist on a test machine). */
import { describe, expect, it } from 'vitest';
import { hidCheck } from '../../daemon/cli/doctor-hid.js';
import { serialSnippet } from '../../daemon/cli/doctor.js';
import type { CliOptions } from '../../daemon/cli/main.js';
import type { LoadedConfig } from '../../daemon/config/load.js';
import { configSchema } from '../../daemon/config/schema.js';
import { FakeHid, FakeUsbRelayBoard, fakeWedgeReader } from '../drivers/support/fake-hid.js';

function loaded(extra: object): LoadedConfig {
  const config = configSchema.parse({ site: { id: 's', timezone: 'UTC' }, gateway: { id: 'g' }, secretsFile: 's.yaml', store: { path: 'x.db' }, ...extra });
  return { config } as LoadedConfig;
}

const options: CliOptions = { config: 'unused.yaml', json: false, reader: undefined, limit: 20, force: false, name: 'kiosk' };

describe('doctor: USB HID devices', () => {
  it('lists readers and relay boards, and finds each configured reader', async () => {
    const hid = new FakeHid();
    hid.add(fakeWedgeReader('/dev/hidraw0', { serialNumber: 'A1' }));
    hid.add(new FakeUsbRelayBoard('QWERT', 2, '/dev/hidraw1'));
    const site = loaded({
      readers: [{ id: 'desk', driver: 'hid-keyboard', usbId: 'ffff:0035', mode: 'toggle' }],
      doors: [{ id: 'front', relay: { driver: 'usb-hid-relay', serial: 'QWERT', channel: 1 } }],
    });
    const results = await hidCheck({ options, loaded: site }, hid);
    expect(results.every((r) => r.level === 'ok')).toBe(true);
    expect(results.map((r) => r.detail)).toEqual(
      expect.arrayContaining([expect.stringContaining('ffff:0035 keyboard'), expect.stringContaining('16c0:05df relay (2 relays)'), expect.stringContaining('reader desk: ffff:0035')]),
    );
  });

  it('fails for a configured reader or relay board that is not attached', async () => {
    const site = loaded({
      readers: [{ id: 'desk', driver: 'hid-keyboard', usbId: 'ffff:0035', mode: 'toggle' }],
      doors: [{ id: 'front', relay: { driver: 'usb-hid-relay', serial: 'QWERT', channel: 1 } }],
    });
    const results = await hidCheck({ options, loaded: site }, new FakeHid());
    expect(results.filter((r) => r.level === 'fail').map((r) => r.detail)).toEqual([
      expect.stringContaining('reader desk: no HID device ffff:0035'),
      expect.stringContaining('no USBRelay board'),
    ]);
  });

  it('a library that cannot enumerate is a failure only when HID devices are configured', async () => {
    const hid = new FakeHid();
    hid.failNextEnumeration = new Error('libudev.so.1: cannot open shared object file');
    expect(await hidCheck({ options, loaded: loaded({}) }, hid)).toEqual([{ check: 'hid', level: 'warn', detail: expect.stringContaining('libudev') as string }]);
  });

  it('prints a config line for each recognised device the config does not use yet, with the relay board\'s own serial', async () => {
    const hid = new FakeHid();
    hid.add(fakeWedgeReader('/dev/hidraw0', { serialNumber: 'A1' }));
    hid.add(new FakeUsbRelayBoard('QWERT', 4, '/dev/hidraw1'));
    const details = (await hidCheck({ options, loaded: loaded({}) }, hid)).map((r) => r.detail);
    expect(details).toContain('  not in the config yet; for example: readers: - { id: desk-reader, driver: hid-keyboard, usbId: "ffff:0035", serialNumber: "A1", mode: toggle }');
    expect(details).toContain('  not in the config yet; for example: relay: { driver: usb-hid-relay, serial: "QWERT", channel: 1 }   (channels 1-4)');
  });

  it('names the usual devices for a serial adapter\'s chip', () => {
    const path = '/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0';
    expect(serialSnippet('usb-1a86_USB_Serial-if00-port0', path)).toContain(`relay: { driver: lcus, path: ${path}, channel: 1 }`);
    expect(serialSnippet('usb-Silicon_Labs_CP2102_USB_to_UART_Bridge_Controller_0001-if00-port0', path)).toContain('driver: pn532');
    expect(serialSnippet('usb-FTDI_FT232R_USB_UART_A1-if00-port0', path)).toContain('driver: modbus-rtu');
    expect(serialSnippet('usb-Honeywell_Scanner-if00', path)).toContain('driver: serial-line');
  });
});
