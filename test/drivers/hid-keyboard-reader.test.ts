import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import { listHidDevices } from '../../drivers/hid/hid-devices.js';
import { nodeHidLibrary } from '../../drivers/hid/hid-library.js';
import { HidKeyboardReader, type HidKeyboardReaderOptions } from '../../drivers/hid/keyboard-reader.js';
import type { PresentedCredential } from '../../drivers/types.js';
import { waitFor } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { WEDGE_0004614867, typeReports } from './hid-test-vectors.js';
import { capturingLogger, cardNumbers } from './support/capture.js';
import { FakeHid, FakeUsbRelayBoard, fakeWedgeReader } from './support/fake-hid.js';

describe('HID keyboard-wedge reader', () => {
  const supervisors: Supervisor<HidKeyboardReader>[] = [];
  let now = 0;
  const clock = { now: () => now };

  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.stop();
  });

  function reader(hid: FakeHid, overrides: Partial<HidKeyboardReaderOptions> = {}) {
    const reads: PresentedCredential[] = [];
    const logLines: string[] = [];
    const driver = new HidKeyboardReader({
      deviceId: 'front-usb',
      device: { vendorId: 0xffff, productId: 0x0035 },
      library: () => hid,
      clock,
      logger: capturingLogger(logLines),
      ...overrides,
    });
    driver.onRead((read) => reads.push(read));
    return { driver, reads, logLines };
  }

  it('turns the reference reports into one card read, keeps the number out of the log, and filters the repeat', async () => {
    const hid = new FakeHid();
    const device = hid.add(fakeWedgeReader('/dev/hidraw3'));
    const { driver, reads, logLines } = reader(hid);
    await driver.open();
    device.send(WEDGE_0004614867);
    now += 100;
    device.send(WEDGE_0004614867);
    await waitFor(() => driver.counters().repeatsSuppressed === 1, 'repeat filtered');
    expect(cardNumbers(reads)).toEqual(['0004614867']);
    expect(logLines.join('\n')).not.toContain('4614867');
    expect(driver.counters()).toMatchObject({ reports: 44, lines: 2, readsEmitted: 1, malformedReports: 0 });
    await driver.close();
  });

  it('picks the keyboard interface by id and serial, and refuses to guess between two identical readers', async () => {
    const hid = new FakeHid();
    hid.add(fakeWedgeReader('/dev/hidraw1', { serialNumber: 'A1' }));
    const second = hid.add(fakeWedgeReader('/dev/hidraw2', { serialNumber: 'B2' }));
    hid.add(fakeWedgeReader('/dev/hidraw5', { serialNumber: 'B2', interface: 1, usagePage: 0xff00, usage: 1 }));
    await expect(reader(hid).driver.open()).rejects.toThrow(/2 HID devices match ffff:0035; add serialNumber/);
    const { driver, reads } = reader(hid, { device: { vendorId: 0xffff, productId: 0x0035, serialNumber: 'B2' } });
    await driver.open();
    second.send(typeReports('0001217496\n'));
    await waitFor(() => reads.length === 1, 'read from the second reader');
    expect(cardNumbers(reads)).toEqual(['0001217496']);
    await driver.close();
    await expect(reader(new FakeHid()).driver.open()).rejects.toThrow('no HID device ffff:0035 is connected');
  });

  it('applies the line pattern and Wiegand decoding of the serial line reader', async () => {
    const hid = new FakeHid();
    const device = hid.add(fakeWedgeReader('/dev/hidraw0'));
    const { driver, reads } = reader(hid, {
      decode: { as: 'wiegand-body-decimal', format: 'h10301', cardFormat: 'fc-cn' },
    });
    await driver.open();
    device.send(typeReports('0008065495\nabc\n'));
    await waitFor(() => driver.counters().unmatchedLines === 1, 'text line rejected');
    expect(cardNumbers(reads)).toEqual(['123,04567']);
    await driver.close();
  });

  it('unplug: faults, goes offline, and reads again once the reader is back (at a new hidraw node)', async () => {
    const hid = new FakeHid();
    const device = hid.add(fakeWedgeReader('/dev/hidraw3'));
    const { driver, reads } = reader(hid);
    const supervisor = new Supervisor(driver, { logger: memoryLogger('silent').logger, minBackoffMs: 10, maxBackoffMs: 40 });
    supervisors.push(supervisor);
    supervisor.start();
    await waitFor(() => supervisor.state === 'online', 'online');

    device.send(typeReports('00046')); // half a read, then the cable comes out
    device.unplug();
    await waitFor(() => supervisor.state !== 'online', 'offline after unplug');
    expect(supervisor.status().lastError).toContain('could not read from HID device');
    const opensWhileAway = device.opens;
    await waitFor(() => supervisor.status().lastError?.includes('no HID device') === true, 'retrying while unplugged');

    device.replug('/dev/hidraw7');
    await waitFor(() => supervisor.state === 'online', 'online after replug');
    expect(device.opens).toBe(opensWhileAway + 1);
    now += 1_000;
    device.send(typeReports('0004614867\n'));
    await waitFor(() => reads.length === 1, 'read after replug');
    expect(cardNumbers(reads)).toEqual(['0004614867']);
    expect(driver.counters().faults).toBe(1);
  });

  it('sends the configured feedback report on a grant and counts what could not be sent', async () => {
    const hid = new FakeHid();
    const written: Buffer[] = [];
    const device = hid.add(fakeWedgeReader('/dev/hidraw3'));
    Object.assign(device.behaviour, { onOutputReport: (data: Buffer) => written.push(data) });
    const { driver } = reader(hid, { feedback: { granted: Uint8Array.from([0x00, 0x89]), report: 'output' } });
    driver.feedback?.('granted');
    await driver.open();
    driver.feedback?.('granted');
    driver.feedback?.('denied'); // nothing configured for a deny
    await waitFor(() => driver.counters().feedbackSent === 1, 'feedback sent');
    expect(written.map((data) => [...data])).toEqual([[0x00, 0x89]]);
    expect(driver.counters().feedbackFailed).toBe(1);
    await driver.close();
  });

  it('floods of garbage reports are shed and reported, and a whole read after the flood still works', async () => {
    const hid = new FakeHid();
    const device = hid.add(fakeWedgeReader('/dev/hidraw3'));
    const { driver, reads } = reader(hid);
    await driver.open();
    device.send(Array.from({ length: 200 }, () => [0xde, 0xad]));
    expect(driver.counters().floodEpisodes).toBe(1);
    now += 60_000;
    device.send(typeReports('0004614867\n'));
    await waitFor(() => reads.length === 1, 'read after the flood');
    await driver.close();
  });
});

describe('listHidDevices', () => {
  it('lists ids, paths, usage pages and what each device looks like', async () => {
    const hid = new FakeHid();
    hid.add(fakeWedgeReader('/dev/hidraw0', { serialNumber: '' }));
    hid.add(new FakeUsbRelayBoard('QWERT', 2, '/dev/hidraw1'));
    hid.add(fakeWedgeReader('1-1.4:1.0', { vendorId: 0x08ff, productId: 0x0009, usagePage: 0, usage: 0 }));
    const listing = await listHidDevices(hid);
    expect(listing).toEqual([
      expect.objectContaining({ vendorId: 'ffff', productId: '0035', path: '/dev/hidraw0', serialNumber: null, usagePage: 1, usage: 6, kind: 'keyboard' }),
      expect.objectContaining({ vendorId: '16c0', productId: '05df', product: 'USBRelay2', kind: 'relay', relayChannels: 2 }),
      expect.objectContaining({ vendorId: '08ff', productId: '0009', path: '1-1.4:1.0', usagePage: null, kind: 'keyboard' }),
    ]);
  });

  it('works against the real node-hid binding on this machine', async () => {
    const listing = await listHidDevices(nodeHidLibrary('hidraw'));
    expect(Array.isArray(listing)).toBe(true);
    for (const device of listing) expect(device.vendorId).toMatch(/^[0-9a-f]{4}$/);
  });
});
