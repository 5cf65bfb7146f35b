/**
 * A fake node-hid at the HidLibrary boundary: USB HID devices cannot exist on
 * a test machine. It behaves as node-hid v3's async API does where the drivers
 * depend on it: reading starts when a 'data' listener attaches and reports are
 * not buffered without one; an unplug makes the read thread emit 'error' once
 * and every later call reject; an EventEmitter 'error' without a listener
 * throws (as in node-hid), so a driver that forgets one fails the test.
 */
import { EventEmitter } from 'node:events';
import type { HidDeviceHandle, HidDeviceInfo, HidLibrary } from '../../../drivers/hid/hid-library.js';

interface FakeDeviceBehaviour {
  /** A feature report was sent; throwing fails the call as an I/O error. */
  onFeatureReport?(data: Buffer): void;
  featureReport?(reportId: number, length: number): Buffer;
  onOutputReport?(data: Buffer): void;
}

export class FakeHidDevice {
  plugged = true;
  readonly handles = new Set<FakeHidHandle>();
  /** Calls to open() for this device, successful or not. */
  opens = 0;

  constructor(
    public info: HidDeviceInfo,
    readonly behaviour: FakeDeviceBehaviour = {},
  ) {}

  get path(): string {
    return this.info.path ?? '';
  }

  /** Input reports as the device sends them, byte-exact, one 'data' event each. */
  send(reports: readonly (readonly number[] | Buffer)[]): void {
    for (const report of reports) {
      for (const handle of this.handles) handle.deliver(Buffer.from(report));
    }
  }

  /** Pulled out: reading handles get their one read error, everything else rejects from now on. */
  unplug(): void {
    this.plugged = false;
    for (const handle of [...this.handles]) handle.lost();
  }

  /** Plugged back in, possibly enumerated under a new hidraw node. */
  replug(path?: string): void {
    if (path !== undefined) this.info = { ...this.info, path };
    this.plugged = true;
  }
}

export class FakeHidHandle extends EventEmitter implements HidDeviceHandle {
  #closed = false;
  #dead = false;

  constructor(readonly device: FakeHidDevice) {
    super();
  }

  get reading(): boolean {
    return this.listenerCount('data') > 0;
  }

  deliver(report: Buffer): void {
    if (this.#closed || this.#dead || !this.reading) return;
    this.emit('data', report);
  }

  lost(): void {
    if (this.#dead) return;
    this.#dead = true;
    // node-hid's read thread reports the failure once and stops; without a reader nothing is emitted.
    if (this.reading && !this.#closed) this.emit('error', new Error('could not read from HID device'));
  }

  async sendFeatureReport(data: number[] | Buffer): Promise<number> {
    const bytes = this.#live('sendFeatureReport', data);
    this.device.behaviour.onFeatureReport?.(bytes);
    return bytes.length;
  }

  async getFeatureReport(reportId: number, length: number): Promise<Buffer> {
    this.#live('getFeatureReport', []);
    const report = this.device.behaviour.featureReport?.(reportId, length);
    if (report === undefined) throw new Error('could not get feature report from device');
    return report;
  }

  async write(data: number[] | Buffer): Promise<number> {
    const bytes = this.#live('write', data);
    this.device.behaviour.onOutputReport?.(bytes);
    return bytes.length;
  }

  async close(): Promise<void> {
    if (this.#closed) throw new Error('device already closed');
    this.#closed = true;
    this.removeAllListeners();
    this.device.handles.delete(this);
  }

  #live(call: string, data: number[] | Buffer): Buffer {
    if (this.#closed) throw new Error(`${call}: device closed`);
    if (this.#dead || !this.device.plugged) throw new Error(`${call}: could not access HID device`);
    return Buffer.from(data);
  }
}

export class FakeHid implements HidLibrary {
  readonly devicesList: FakeHidDevice[] = [];
  /** When set, the next devices() call rejects with it (e.g. a missing libudev). */
  failNextEnumeration: Error | undefined;

  add<T extends FakeHidDevice>(device: T): T {
    this.devicesList.push(device);
    return device;
  }

  async devices(): Promise<HidDeviceInfo[]> {
    const failure = this.failNextEnumeration;
    this.failNextEnumeration = undefined;
    if (failure !== undefined) throw failure;
    return this.devicesList.filter((d) => d.plugged).map((d) => ({ ...d.info }));
  }

  async open(path: string): Promise<FakeHidHandle> {
    const device = this.devicesList.find((d) => d.plugged && d.path === path);
    if (device === undefined) throw new Error(`cannot open device with path ${path}`);
    device.opens += 1;
    const handle = new FakeHidHandle(device);
    device.handles.add(handle);
    return handle;
  }
}

/** A keyboard-wedge reader: boot keyboard interface, as hidraw enumerates it. */
export function fakeWedgeReader(path: string, overrides: Partial<HidDeviceInfo> = {}): FakeHidDevice {
  return new FakeHidDevice({
    vendorId: 0xffff,
    productId: 0x0035,
    path,
    manufacturer: 'Sycreader',
    product: 'USB Reader',
    release: 0x0110,
    interface: 0,
    usagePage: 0x01,
    usage: 0x06,
    ...overrides,
  });
}

/**
 * A dcttech USBRelayN board. Commands are checked byte for byte: a wrong
 * length or report id fails the call, as the V-USB firmware ignores it.
 */
export class FakeUsbRelayBoard extends FakeHidDevice {
  mask = 0;
  /** Relays whose contacts no longer follow the coil (welded, or a board that ignores the command). */
  stuckMask = 0;
  readonly commands: Buffer[] = [];

  constructor(
    readonly serial: string,
    readonly channels: number,
    path: string,
  ) {
    super({
      vendorId: 0x16c0,
      productId: 0x05df,
      path,
      manufacturer: 'www.dcttech.com',
      product: `USBRelay${channels}`,
      release: 0x0100,
      interface: 0,
      usagePage: 0xff00,
      usage: 0x01,
    });
    Object.assign(this.behaviour, {
      onFeatureReport: (data: Buffer) => this.#command(data),
      featureReport: (reportId: number, length: number) => this.#stateReport(reportId, length),
    } satisfies FakeDeviceBehaviour);
  }

  energised(channel: number): boolean {
    return ((this.mask >> (channel - 1)) & 1) === 1;
  }

  #command(data: Buffer): void {
    if (data.length !== 9 || data[0] !== 0x00) throw new Error('could not send feature report to device');
    this.commands.push(data);
    const all = (1 << this.channels) - 1;
    const bit = 1 << ((data[2] ?? 1) - 1);
    let next = this.mask;
    if (data[1] === 0xff) next |= bit;
    else if (data[1] === 0xfd) next &= ~bit;
    else if (data[1] === 0xfe) next = all;
    else if (data[1] === 0xfc) next = 0;
    this.mask = ((next & ~this.stuckMask) | (this.mask & this.stuckMask)) & all;
  }

  #stateReport(reportId: number, length: number): Buffer {
    const serial = Buffer.alloc(5);
    serial.write(this.serial, 'latin1');
    const body = Buffer.from([...serial, 0x00, 0x00, this.mask]);
    if (reportId === 1 && length === 8) return body;
    if (reportId === 0 && length === 9) return Buffer.concat([Buffer.from([0x00]), body]);
    throw new Error('could not get feature report from device');
  }
}
