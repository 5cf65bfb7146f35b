/**
 * Hands out OSDP device drivers (readers, outputs, inputs) for the buses in
 * the config. Every driver on one bus shares one OsdpBus (one port, one
 * command at a time) and drivers on one PD share its link and secure session.
 */
import type { WiegandCardFormat } from '../card-format/wiegand-number.js';
import type { DriverLogger } from '../serial/logger.js';
import { openSerialPort, type OpenSerialPort } from '../serial/open-serial-port.js';
import type { WiegandFormatName } from '../wiegand/formats.js';
import { OSDP_BUS_DEFAULTS, OsdpBus, type OsdpBusSettings } from './bus.js';
import { decodeCom, encodeComset, type ComSettings } from './commands.js';
import { CMD, REPLY } from './constants.js';
import { OsdpInput } from './input.js';
import { OsdpKeyStore } from './key-store.js';
import { OsdpOutputRelay } from './output-relay.js';
import type { SecureChannelMode } from './pd-link.js';
import { OsdpReader } from './reader.js';

/** A bus as configured (osdp.buses.<id>); absent fields take the spec defaults. */
export interface OsdpBusOptions {
  readonly path: string;
  readonly baudRate?: number;
  readonly secureChannel?: SecureChannelMode;
  readonly installMode?: boolean;
  readonly checkMode?: 'crc' | 'checksum';
  readonly markByte?: boolean;
  readonly pollIntervalMs?: number;
  readonly replyTimeoutMs?: number;
  readonly offlineAfterMs?: number;
  readonly connectTimeoutMs?: number;
  readonly reconnectMs?: number;
}

export interface OsdpRegistryOptions {
  readonly buses: Readonly<Record<string, OsdpBusOptions>>;
  /** Where per-PD secure channel keys live; null keeps them in memory only (tests, :memory: stores). */
  readonly keysFile: string | null;
  readonly logger: DriverLogger;
  readonly openPort?: OpenSerialPort;
  readonly presenceCheckMs?: number;
}

interface PdTarget {
  readonly deviceId: string;
  readonly bus: string;
  readonly address: number;
}

export const OSDP_CONNECT_TIMEOUT_MS = 5_000;

export class OsdpRegistry {
  readonly #o: OsdpRegistryOptions;
  readonly #buses = new Map<string, OsdpBus>();
  readonly #claimed = new Map<string, string>();
  #keyStore: OsdpKeyStore | null | undefined;

  constructor(options: OsdpRegistryOptions) {
    this.#o = options;
  }

  reader(target: PdTarget & { reader?: number; wiegandFormats: readonly WiegandFormatName[]; cardFormat: WiegandCardFormat }): OsdpReader {
    this.#claim(`${target.bus}#${target.address}#reader${target.reader ?? 0}`, target.deviceId);
    return new OsdpReader({ ...this.#common(target), ...(target.reader === undefined ? {} : { reader: target.reader }), wiegandFormats: target.wiegandFormats, cardFormat: target.cardFormat });
  }

  relay(target: PdTarget & { output: number }): OsdpOutputRelay {
    this.#claim(`${target.bus}#${target.address}#output${target.output}`, target.deviceId);
    return new OsdpOutputRelay({ ...this.#common(target), output: target.output });
  }

  input(target: PdTarget & { input: number; inverted?: boolean }): OsdpInput {
    this.#claim(`${target.bus}#${target.address}#input${target.input}`, target.deviceId);
    return new OsdpInput({ ...this.#common(target), input: target.input, ...(target.inverted === undefined ? {} : { inverted: target.inverted }) });
  }

  /**
   * Changes a PD's address and/or baud rate (osdp_COMSET). The PD switches
   * after replying; the config must then name the new address (and a bus at
   * the new rate) before the PD is used again.
   */
  async comset(busId: string, address: number, settings: ComSettings): Promise<ComSettings> {
    const bus = this.#bus(busId);
    const reply = await bus.send(address, CMD.COMSET, encodeComset(settings));
    const com = reply.code === REPLY.COM ? decodeCom(reply.plain) : undefined;
    if (com === undefined) throw new Error(`PD ${address} on bus ${busId} did not confirm COMSET`);
    return com;
  }

  #common(target: PdTarget) {
    const bus = this.#bus(target.bus);
    const connectTimeoutMs = this.#o.buses[target.bus]?.connectTimeoutMs ?? OSDP_CONNECT_TIMEOUT_MS;
    return { deviceId: target.deviceId, bus, address: target.address, logger: this.#o.logger, connectTimeoutMs };
  }

  #claim(key: string, deviceId: string): void {
    const owner = this.#claimed.get(key);
    if (owner !== undefined) throw new Error(`OSDP ${key.replaceAll('#', ' ')} is already used by ${owner}`);
    this.#claimed.set(key, deviceId);
  }

  #bus(id: string): OsdpBus {
    const existing = this.#buses.get(id);
    if (existing !== undefined) return existing;
    const config = this.#o.buses[id];
    if (config === undefined) throw new Error(`no OSDP bus "${id}" is configured`);
    const settings: OsdpBusSettings = {
      id,
      path: config.path,
      baudRate: config.baudRate ?? OSDP_BUS_DEFAULTS.baudRate,
      secureChannel: config.secureChannel ?? OSDP_BUS_DEFAULTS.secureChannel,
      installMode: config.installMode ?? OSDP_BUS_DEFAULTS.installMode,
      crc: (config.checkMode ?? 'crc') === 'crc',
      mark: config.markByte ?? OSDP_BUS_DEFAULTS.mark,
      pollIntervalMs: config.pollIntervalMs ?? OSDP_BUS_DEFAULTS.pollIntervalMs,
      replyTimeoutMs: config.replyTimeoutMs ?? OSDP_BUS_DEFAULTS.replyTimeoutMs,
      offlineAfterMs: config.offlineAfterMs ?? OSDP_BUS_DEFAULTS.offlineAfterMs,
      reconnectMs: config.reconnectMs ?? OSDP_BUS_DEFAULTS.reconnectMs,
    };
    if (settings.installMode && settings.secureChannel === 'required') {
      throw new Error(`OSDP bus ${id}: install mode (SCBK-D) is not allowed when the secure channel is required`);
    }
    const bus = new OsdpBus({
      settings,
      openPort: this.#o.openPort ?? openSerialPort,
      logger: this.#o.logger,
      keyStore: this.#keys(),
      ...(this.#o.presenceCheckMs === undefined ? {} : { presenceCheckMs: this.#o.presenceCheckMs }),
    });
    this.#buses.set(id, bus);
    return bus;
  }

  #keys(): OsdpKeyStore | null {
    this.#keyStore ??= this.#o.keysFile === null ? null : new OsdpKeyStore(this.#o.keysFile);
    return this.#keyStore;
  }
}
