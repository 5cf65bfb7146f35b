/**
 * From a config entry to a driver instance. The only place that knows which
 * driver names exist; adding hardware means adding a case here and a schema
 * entry in daemon/config/schema.ts.
 */
import type { DoorConfig, InputConfig, OsdpBusConfig, ReaderConfig } from '../daemon/config/schema.js';
import type { InputDriver, PresentedCredential, ReaderDriver, RelayDriver } from './types.js';
import type { DriverLogger } from './serial/logger.js';
import { Rdm6300Reader } from './rdm6300/reader.js';
import { LcusRelayRegistry } from './lcus/relay.js';
import { Pn532Reader } from './pn532/reader.js';
import { SerialLineReader } from './line-reader/reader.js';
import { parseHexBytes } from './line-reader/line-decoder.js';
import { ModbusRelayRegistry } from './modbus/relay.js';
import { SimReader } from './sim/sim-reader.js';
import { SimRelay } from './sim/sim-relay.js';
import { nodeHidLibrary, type HidBackend, type HidLibrary } from './hid/hid-library.js';
import { HidKeyboardReader } from './hid/keyboard-reader.js';
import { UsbHidRelayRegistry } from './hid/usb-relay.js';
import { SimInput } from './sim/sim-input.js';
import { OsdpRegistry } from './osdp/registry.js';

export interface ReaderHandle {
  readonly driver: ReaderDriver;
  /** Present only for simulated readers: inject a read. Returns false when the reader is not open. */
  readonly simulate?: (credential: PresentedCredential) => boolean;
}

export interface InputHandle {
  readonly driver: InputDriver;
  /** Present only for simulated inputs: set the level (true = active). Returns false when the input is not open. */
  readonly simulate?: (action: 'open' | 'closed' | 'press') => boolean;
}

export interface DriverFactory {
  reader(config: ReaderConfig): ReaderHandle;
  relay(door: DoorConfig): RelayDriver;
  /** A door's contact or request-to-exit input. */
  input(door: DoorConfig, role: 'contact' | 'rex', config: InputConfig): InputHandle;
}

export interface DriverFactoryOptions {
  /** config.hid.backend; node-hid is loaded (with it) only when a HID device is opened. */
  readonly hidBackend?: HidBackend;
  /** Replaces node-hid, for tests: USB HID devices cannot exist on a test machine. */
  readonly hidLibrary?: HidLibrary;
  /** osdp.buses from the config. */
  readonly osdpBuses?: Readonly<Record<string, OsdpBusConfig>>;
  /** File for per-PD secure channel keys (next to the database); null = memory only. */
  readonly osdpKeysFile?: string | null;
  /** Replaces @stoprocent/noble in the BLE scanner children (a module path), for tests: no Bluetooth adapter here. */
  readonly nobleModule?: string;
  /** Extra environment for the BLE scanner children (the fake noble's fixture). */
  readonly bleEnv?: Readonly<Record<string, string>>;
}

export function createDriverFactory(logger: DriverLogger, options: DriverFactoryOptions = {}): DriverFactory {
  let hid = options.hidLibrary;
  const hidLibrary = (): HidLibrary => (hid ??= nodeHidLibrary(options.hidBackend ?? 'libusb'));
  // Doors on channels of one USB relay board share its handle.
  const usbRelays = new UsbHidRelayRegistry({ library: hidLibrary, logger });
  // One registry per daemon, so that doors on channels of the same LCUS board share its port.
  const lcus = new LcusRelayRegistry({ logger });
  // Likewise doors on coils of boards on one RS-485 port share that port.
  const modbus = new ModbusRelayRegistry({ logger });
  // Readers, outputs and inputs of PDs on one OSDP bus share its port and each PD's session.
  const osdp = new OsdpRegistry({ buses: options.osdpBuses ?? {}, keysFile: options.osdpKeysFile ?? null, logger });
  return {
    reader(config) {
      switch (config.driver) {
        case 'rdm6300':
          return {
            driver: new Rdm6300Reader({
              deviceId: config.id,
              path: config.path,
              baudRate: config.baudRate,
              cardFormat: config.cardFormat,
              removalMs: config.removalMs,
              logger,
            }),
          };
        case 'pn532':
          return {
            driver: new Pn532Reader({
              deviceId: config.id,
              path: config.path,
              baudRate: config.baudRate,
              cardFormat: config.cardFormat,
              pollIntervalMs: config.pollIntervalMs,
              removalPolls: config.removalPolls,
              activationRetries: config.activationRetries,
              logger,
            }),
          };
        case 'serial-line':
          return {
            driver: new SerialLineReader({
              deviceId: config.id,
              path: config.path,
              baudRate: config.baudRate,
              terminator: config.terminator === undefined ? undefined : Buffer.from(config.terminator, 'latin1'),
              maxLineLength: config.maxLineLength,
              pattern: config.pattern,
              decode: config.decode,
              repeatMs: config.repeatMs,
              feedback: config.feedback === undefined ? undefined : feedbackBytes(config.feedback),
              logger,
            }),
          };
        case 'hid-keyboard':
          return {
            driver: new HidKeyboardReader({
              deviceId: config.id,
              device: {
                ...parseUsbId(config.usbId),
                serialNumber: config.serialNumber,
                interface: config.interface,
                path: config.path,
              },
              library: hidLibrary,
              layout: config.layout,
              reportId: config.reportId,
              interKeyTimeoutMs: config.interKeyTimeoutMs,
              maxLineLength: config.maxLineLength,
              pattern: config.pattern,
              decode: config.decode,
              repeatMs: config.repeatMs,
              feedback: config.feedback === undefined ? undefined : { ...feedbackBytes(config.feedback), report: config.feedback.report },
              logger,
            }),
          };
        case 'osdp':
          return {
            driver: osdp.reader({
              deviceId: config.id,
              bus: config.bus,
              address: config.address,
              reader: config.reader,
              wiegandFormats: config.wiegandFormats,
              cardFormat: config.cardFormat,
            }),
          };
        case 'sim': {
          const sim = new SimReader(config.id);
          return { driver: sim, simulate: (credential) => sim.present(credential) };
        }
      }
    },
    relay(door) {
      const deviceId = `door:${door.id}`;
      switch (door.relay.driver) {
        case 'lcus':
          return lcus.relay({ deviceId, path: door.relay.path, channel: door.relay.channel, baudRate: door.relay.baudRate });
        case 'modbus-rtu':
          return modbus.relay({
            deviceId,
            path: door.relay.path,
            slave: door.relay.slave,
            coil: door.relay.coil,
            baudRate: door.relay.baudRate,
            parity: door.relay.parity,
            stopBits: door.relay.stopBits,
            responseTimeoutMs: door.relay.responseTimeoutMs,
            retries: door.relay.retries,
            faultAfterTimeouts: door.relay.faultAfterTimeouts,
          });
        case 'usb-hid-relay':
          return usbRelays.relay({ deviceId, serial: door.relay.serial, channel: door.relay.channel, presenceCheckMs: door.relay.presenceCheckMs });
        case 'osdp-output':
          return osdp.relay({ deviceId, bus: door.relay.bus, address: door.relay.address, output: door.relay.output });
        case 'sim':
          return new SimRelay(deviceId);
      }
    },
    input(door, role, config) {
      const deviceId = `door:${door.id}:${role}`;
      switch (config.driver) {
        case 'modbus-rtu':
          return {
            driver: modbus.input({
              deviceId,
              path: config.path,
              slave: config.slave,
              input: config.input,
              invert: config.invert,
              baudRate: config.baudRate,
              parity: config.parity,
              stopBits: config.stopBits,
              pollIntervalMs: config.pollIntervalMs,
              responseTimeoutMs: config.responseTimeoutMs,
              faultAfterFailures: config.faultAfterFailures,
            }),
          };
        case 'sim': {
          const sim = new SimInput(deviceId);
          return { driver: sim, simulate: (action) => (action === 'press' ? sim.press() : sim.set(action === 'open')) };
        }
      }
    },
  };
}

/** "ffff:0035" → vendor and product ids. */
function parseUsbId(usbId: string | undefined): { vendorId?: number; productId?: number } {
  if (usbId === undefined) return {};
  const [vendor = '', product = ''] = usbId.split(':');
  return { vendorId: Number.parseInt(vendor, 16), productId: Number.parseInt(product, 16) };
}

/** Configured grant/deny bytes ("1B 42 0D") as bytes. */
function feedbackBytes(feedback: { granted?: string | undefined; denied?: string | undefined }): {
  granted: Uint8Array | undefined;
  denied: Uint8Array | undefined;
} {
  return {
    granted: feedback.granted === undefined ? undefined : parseHexBytes(feedback.granted),
    denied: feedback.denied === undefined ? undefined : parseHexBytes(feedback.denied),
  };
}
