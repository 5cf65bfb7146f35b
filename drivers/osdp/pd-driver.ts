/**
 * What every OSDP device driver (reader, output, input) shares: attaching to
 * its PD on the bus, waiting for it to come online, and reporting a fault
 * once per open when the PD or the port is lost, so the Supervisor reopens it.
 */
import { Listeners } from '../serial/listeners.js';
import type { DriverLogger } from '../serial/logger.js';
import { SerialQueue } from '../serial/serial-queue.js';
import type { DeviceDriver } from '../types.js';
import type { OsdpBus, OsdpBusUser, PdHub } from './bus.js';

export interface OsdpPdDriverOptions {
  readonly deviceId: string;
  readonly bus: OsdpBus;
  readonly address: number;
  readonly logger: DriverLogger;
  /** How long open() waits for the PD to come online (ID, CAP, secure channel). */
  readonly connectTimeoutMs: number;
}

export abstract class OsdpPdDriver implements DeviceDriver, OsdpBusUser {
  readonly deviceId: string;
  protected readonly bus: OsdpBus;
  protected readonly address: number;
  protected readonly logger: DriverLogger;
  readonly #connectTimeoutMs: number;
  readonly #faults: Listeners<Error>;
  readonly #lifecycle = new SerialQueue();
  #open = false;
  #faulted = false;
  #subscribed = false;

  constructor(options: OsdpPdDriverOptions) {
    this.deviceId = options.deviceId;
    this.bus = options.bus;
    this.address = options.address;
    this.logger = options.logger;
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#faults = new Listeners(options.deviceId, options.logger, 'fault');
  }

  protected get isOpen(): boolean {
    return this.#open && !this.#faulted;
  }

  /** Registers listeners on the PD's hub, once for the driver's lifetime. */
  protected abstract subscribe(hub: PdHub): void;

  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#open) return;
      const hub = await this.bus.attach(this.address, this);
      if (!this.#subscribed) {
        this.subscribe(hub);
        this.#subscribed = true;
      }
      try {
        await this.bus.waitOnline(this.address, this.#connectTimeoutMs);
      } catch (error) {
        await this.bus.detach(this.address, this);
        throw error;
      }
      this.#faulted = false;
      this.#open = true;
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (!this.#open) return;
      this.#open = false;
      await this.bus.detach(this.address, this);
    });
  }

  onFault(listener: (error: Error) => void): void {
    this.#faults.add(listener);
  }

  /** From the bus: the PD went offline or the port was lost. */
  lost(error: Error): void {
    if (!this.#open || this.#faulted) return;
    this.#faulted = true;
    this.#faults.emit(error);
  }

  /** Bus and PD link diagnostics, shared by every driver on this PD. */
  protected linkCounters(): Readonly<Record<string, number>> {
    return { ...this.bus.counters(), ...(this.bus.pdCounters(this.address) ?? {}) };
  }
}
