import { RelayCommandLog } from '../relay-command-log.js';
import { Listeners } from '../serial/listeners.js';
import { silentLogger, type DriverLogger } from '../serial/logger.js';
import { SerialQueue } from '../serial/serial-queue.js';
import type { RelayCounters, RelayDriver } from '../types.js';
import { hidDeviceKind, usbRelayChannelCount } from './hid-devices.js';
import { asError, type HidDeviceHandle, type HidDeviceInfo, type HidLibrary } from './hid-library.js';
import {
  USB_RELAY_STATE_REPORT_ID,
  USB_RELAY_STATE_REPORT_LENGTH,
  assertUsbRelayChannel,
  channelEnergised,
  encodeChannelCommand,
  parseStateReport,
  type UsbRelayState,
} from './usb-relay-protocol.js';

export interface UsbHidRelayOptions {
  /** Id the supervisor knows this relay by, e.g. `door:front`. */
  readonly deviceId: string;
  /** The board's own 5-character serial, as its state report gives it; never swaps between two boards. */
  readonly serial: string;
  /** 1-based relay on the board. */
  readonly channel: number;
  /** How often an open board's state is read to notice an unplug (V-USB boards send no input reports); the first channel's value wins. */
  readonly presenceCheckMs?: number | undefined;
}

export interface UsbHidRelayRegistryOptions {
  /** node-hid or a fake; resolved on first open, so node-hid loads only when a HID relay is used. */
  readonly library: () => HidLibrary;
  readonly logger?: DriverLogger;
}

export const USB_HID_RELAY_PRESENCE_CHECK_MS = 1_000;

/**
 * Hands out one RelayDriver per channel of a dcttech USBRelay board. Boards
 * are found by their own serial, which is only readable after opening, so
 * finding one means opening each candidate in turn; that search is done one
 * board at a time, and channels of one board share its handle.
 */
export class UsbHidRelayRegistry {
  readonly #boards = new Map<string, UsbRelayBoard>();
  /** Paths of boards this registry has open; never probed again until released. */
  readonly #held = new Set<string>();
  readonly #search = new SerialQueue();
  readonly #options: UsbHidRelayRegistryOptions;

  constructor(options: UsbHidRelayRegistryOptions) {
    this.#options = options;
  }

  relay(options: UsbHidRelayOptions): RelayDriver & { counters(): RelayCounters } {
    assertUsbRelayChannel(options.channel);
    let board = this.#boards.get(options.serial);
    if (board === undefined) {
      board = new UsbRelayBoard(options.serial, this, this.#options.logger ?? silentLogger, options.presenceCheckMs);
      this.#boards.set(options.serial, board);
    }
    return new UsbHidRelayChannel(options.deviceId, options.channel, board, this.#options.logger ?? silentLogger);
  }

  release(path: string): void {
    this.#held.delete(path);
  }

  /** Opens the board with this serial, skipping boards this registry already holds. */
  find(serial: string): Promise<{ handle: HidDeviceHandle; info: HidDeviceInfo; state: UsbRelayState }> {
    return this.#search.run(async () => {
      const library = this.#options.library();
      const candidates = (await library.devices()).filter(
        (d) => hidDeviceKind(d) === 'relay' && d.path !== undefined && !this.#held.has(d.path),
      );
      const seen: string[] = [];
      for (const info of candidates) {
        const probe = await probeBoard(library, info);
        if (probe === undefined) continue;
        if (probe.state.serial === serial) {
          this.#held.add(info.path ?? '');
          return { handle: probe.handle, info, state: probe.state };
        }
        seen.push(probe.state.serial);
        await closeQuietly(probe.handle);
      }
      throw new Error(
        `no USBRelay board with serial "${serial}" is connected${seen.length === 0 ? '' : ` (found ${seen.map((s) => `"${s}"`).join(', ')})`}`,
      );
    });
  }
}

async function probeBoard(library: HidLibrary, info: HidDeviceInfo): Promise<{ handle: HidDeviceHandle; state: UsbRelayState } | undefined> {
  let handle: HidDeviceHandle | undefined;
  try {
    handle = await library.open(info.path ?? '');
    handle.on('error', () => undefined);
    const state = await readState(handle);
    return { handle, state };
  } catch {
    // In use by another program, or gone meanwhile: not the board we are looking for right now.
    if (handle !== undefined) await closeQuietly(handle);
    return undefined;
  }
}

async function readState(handle: HidDeviceHandle): Promise<UsbRelayState> {
  const report = await handle.getFeatureReport(USB_RELAY_STATE_REPORT_ID, USB_RELAY_STATE_REPORT_LENGTH);
  const state = parseStateReport(report);
  if (state === undefined) throw new Error(`relay board sent a ${report.length}-byte state report`);
  return state;
}

async function closeQuietly(handle: HidDeviceHandle): Promise<void> {
  try {
    await handle.close();
  } catch {
    // Closing a device that is already gone fails; there is nothing left to release.
  }
}

type ChannelState = 'closed' | 'open' | 'faulted';

/** One relay channel: a handle on its board, which it borrows while open. */
class UsbHidRelayChannel implements RelayDriver {
  readonly #faults: Listeners<Error>;
  readonly #lifecycle = new SerialQueue();
  readonly #log = new RelayCommandLog();
  readonly #details = { readbackMismatches: 0, faults: 0 };
  #state: ChannelState = 'closed';

  constructor(
    readonly deviceId: string,
    readonly channel: number,
    private readonly board: UsbRelayBoard,
    logger: DriverLogger,
  ) {
    this.#faults = new Listeners(deviceId, logger, 'fault');
  }

  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#state !== 'open') await this.board.attach(this);
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#state === 'closed') return;
      this.#state = 'closed';
      await this.board.detach(this);
    });
  }

  onFault(listener: (error: Error) => void): void {
    this.#faults.add(listener);
  }

  set(energised: boolean): Promise<void> {
    return this.#log.record(async () => {
      if (this.#state !== 'open') throw new Error(`relay ${this.deviceId} is ${this.#state === 'faulted' ? 'faulted' : 'not open'}`);
      const state = await this.board.command(this.channel, energised);
      const actual = channelEnergised(state, this.channel);
      this.#log.verified(actual);
      if (actual !== energised) {
        this.#details.readbackMismatches += 1;
        throw new Error(
          `relay board "${this.board.serial}" channel ${this.channel} reads back ${actual ? 'on' : 'off'} after the command to switch it ${energised ? 'on' : 'off'}`,
        );
      }
    });
  }

  counters(): RelayCounters {
    return this.#log.counters({ ...this.#details });
  }

  /** Called by the board in the same step that adds this channel to its users. */
  attached(state: UsbRelayState): void {
    this.#state = 'open';
    this.#log.verified(channelEnergised(state, this.channel));
  }

  observed(state: UsbRelayState): void {
    this.#log.verified(channelEnergised(state, this.channel));
  }

  /** The board is gone; reported once per open(). */
  lost(error: Error): void {
    if (this.#state !== 'open') return;
    this.#state = 'faulted';
    this.#details.faults += 1;
    this.#faults.emit(error);
  }
}

/** One physical board: its handle while any channel is open, and the queue that orders its reports. */
class UsbRelayBoard {
  readonly #users = new Set<UsbHidRelayChannel>();
  readonly #lifecycle = new SerialQueue();
  /** Commands and state reads, one at a time, so a read-back always follows its own command. */
  readonly #io = new SerialQueue();
  #handle: HidDeviceHandle | undefined;
  #channelCount = 0;
  #timer: NodeJS.Timeout | undefined;
  #path: string | undefined;

  constructor(
    readonly serial: string,
    private readonly registry: UsbHidRelayRegistry,
    private readonly logger: DriverLogger,
    private readonly presenceCheckMs = USB_HID_RELAY_PRESENCE_CHECK_MS,
  ) {}

  attach(channel: UsbHidRelayChannel): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#handle === undefined) await this.#open();
      if (channel.channel > this.#channelCount) {
        throw new Error(`relay board "${this.serial}" has ${this.#channelCount} relay(s); channel ${channel.channel} does not exist`);
      }
      const state = await this.#io.run(() => this.#readState());
      this.#users.add(channel);
      channel.attached(state);
    });
  }

  detach(channel: UsbHidRelayChannel): Promise<void> {
    return this.#lifecycle.run(async () => {
      this.#users.delete(channel);
      if (this.#users.size === 0) await this.#close();
    });
  }

  /** Switches one relay and returns the state the board reports afterwards. */
  command(channel: number, energised: boolean): Promise<UsbRelayState> {
    return this.#io.run(async () => {
      const handle = this.#requireHandle();
      try {
        await handle.sendFeatureReport(encodeChannelCommand(channel, energised));
      } catch (error) {
        throw this.#lost(handle, asError(error));
      }
      return this.#readState();
    });
  }

  async #open(): Promise<void> {
    const { handle, info, state } = await this.registry.find(this.serial);
    this.#handle = handle;
    this.#path = info.path;
    this.#channelCount = usbRelayChannelCount(info) ?? 0;
    handle.on('error', (error) => this.#lost(handle, asError(error)));
    this.#timer = setInterval(() => this.#checkPresence(), this.presenceCheckMs);
    this.#timer.unref();
    this.logger.info({ serial: this.serial, path: info.path, relays: this.#channelCount, mask: state.mask }, 'relay board opened');
  }

  async #close(): Promise<void> {
    const handle = this.#handle;
    this.#forget();
    if (handle === undefined) return;
    await closeQuietly(handle);
    this.logger.info({ serial: this.serial }, 'relay board closed');
  }

  #forget(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#handle = undefined;
    if (this.#path !== undefined) this.registry.release(this.#path);
    this.#path = undefined;
  }

  #requireHandle(): HidDeviceHandle {
    const handle = this.#handle;
    if (handle === undefined) throw new Error(`relay board "${this.serial}" is not open`);
    return handle;
  }

  async #readState(): Promise<UsbRelayState> {
    const handle = this.#requireHandle();
    let state: UsbRelayState;
    try {
      state = await readState(handle);
    } catch (error) {
      throw this.#lost(handle, asError(error));
    }
    for (const user of this.#users) user.observed(state);
    return state;
  }

  #checkPresence(): void {
    if (this.#handle === undefined) return;
    // A failed read reports the loss itself; the rejection is only for command callers.
    this.#io.run(() => this.#readState()).catch(() => undefined);
  }

  /** Forgets a dead handle once and faults every channel on it; returns the error for rethrowing. */
  #lost(handle: HidDeviceHandle, error: Error): Error {
    if (this.#handle !== handle) return error;
    this.#forget();
    this.logger.warn({ serial: this.serial, err: error.message }, 'relay board lost');
    void this.#lifecycle.run(() => closeQuietly(handle));
    for (const user of [...this.#users]) user.lost(error);
    return error;
  }
}
