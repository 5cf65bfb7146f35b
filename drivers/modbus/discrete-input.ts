import { Listeners } from '../serial/listeners.js';
import type { DriverLogger } from '../serial/logger.js';
import { SerialQueue } from '../serial/serial-queue.js';
import type { InputDriver } from '../types.js';
import { ModbusTimeoutError, type BusUser, type ModbusBus } from './bus.js';
import { FC_READ_DISCRETE_INPUTS, decodeBits, describeException, encodeReadDiscreteInputs, exceptionCode } from './rtu-frames.js';

export interface ModbusInputOptions {
  /** Id the supervisor knows this input by, e.g. `door:front:contact`. */
  readonly deviceId: string;
  readonly path: string;
  readonly slave: number;
  /** Discrete input address on the wire, 0-based: input 1 of most boards is 0. */
  readonly input: number;
  readonly baudRate?: number;
  readonly parity?: 'none' | 'even' | 'odd';
  readonly stopBits?: 1 | 2;
  readonly responseTimeoutMs?: number;
  /** Pause between two polls. Every poll is one bus transaction shared with the relays. */
  readonly pollIntervalMs?: number;
  /** Failed polls in a row (timeouts, bad replies) after which the input counts as lost. */
  readonly faultAfterFailures?: number;
  /** Report the opposite of the wire level (a normally-closed contact wired to an input that reads 1 when closed). */
  readonly invert?: boolean;
}

export const MODBUS_INPUT_DEFAULTS = { pollIntervalMs: 100, responseTimeoutMs: 500, faultAfterFailures: 3 } as const;

/**
 * One discrete input of a Modbus-RTU board, polled with FC02 (read discrete
 * inputs). open() succeeds only after a first valid reading, so a board that
 * does not answer leaves the input offline instead of reporting a guess.
 * A level change is reported once; a lost board reports a fault and the
 * supervisor reopens it (its first poll reports the level again).
 */
export class ModbusDiscreteInput implements InputDriver, BusUser {
  readonly deviceId: string;
  readonly #o: ModbusInputOptions;
  readonly #bus: ModbusBus;
  readonly #logger: DriverLogger;
  readonly #faults: Listeners<Error>;
  readonly #changes: Listeners<boolean>;
  readonly #lifecycle = new SerialQueue();
  readonly #request: Buffer;
  readonly #counters = { polls: 0, pollFailures: 0, exceptions: 0, changes: 0 };
  #state: 'closed' | 'open' | 'faulted' = 'closed';
  #level: boolean | null = null;
  #failuresInARow = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ModbusInputOptions, bus: ModbusBus, logger: DriverLogger) {
    this.deviceId = options.deviceId;
    this.#o = options;
    this.#bus = bus;
    this.#logger = logger;
    this.#faults = new Listeners(this.deviceId, logger, 'fault');
    this.#changes = new Listeners(this.deviceId, logger, 'change');
    this.#request = encodeReadDiscreteInputs(options.slave, options.input, 1);
  }

  get level(): boolean | null {
    return this.#level;
  }

  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#state === 'open') return;
      await this.#bus.attach(this);
      let active: boolean;
      try {
        active = await this.#read();
      } catch (error) {
        await this.#bus.detach(this);
        throw new Error(`Modbus slave ${this.#o.slave} on ${this.#o.path} did not report input ${this.#o.input}: ${message(error)}`, { cause: error });
      }
      this.#state = 'open';
      this.#failuresInARow = 0;
      this.#report(active);
      this.#schedule();
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(async () => {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#state === 'closed') return;
      this.#state = 'closed';
      this.#level = null;
      await this.#bus.detach(this);
    });
  }

  onFault(listener: (error: Error) => void): void {
    this.#faults.add(listener);
  }

  onChange(listener: (active: boolean) => void): void {
    this.#changes.add(listener);
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.#counters, failuresInARow: this.#failuresInARow };
  }

  portLost(error: Error): void {
    this.#fault(error);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#poll(), this.#o.pollIntervalMs ?? MODBUS_INPUT_DEFAULTS.pollIntervalMs);
  }

  async #poll(): Promise<void> {
    this.#timer = undefined;
    if (this.#state !== 'open') return;
    try {
      const active = await this.#read();
      if (this.#state !== 'open') return;
      this.#failuresInARow = 0;
      this.#report(active);
    } catch (error) {
      if (this.#state !== 'open') return;
      this.#counters.pollFailures += 1;
      this.#failuresInARow += 1;
      if (this.#failuresInARow >= (this.#o.faultAfterFailures ?? MODBUS_INPUT_DEFAULTS.faultAfterFailures)) {
        this.#fault(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (!(error instanceof ModbusTimeoutError)) this.#logger.warn({ deviceId: this.deviceId, err: message(error) }, 'input poll failed');
    }
    if (this.#state === 'open') this.#schedule();
  }

  /** One FC02 transaction; the level after inversion. */
  async #read(): Promise<boolean> {
    this.#counters.polls += 1;
    const reply = await this.#bus.transact(this.#request, this.#o.slave, this.#o.responseTimeoutMs ?? MODBUS_INPUT_DEFAULTS.responseTimeoutMs);
    const code = exceptionCode(reply);
    if (code !== undefined) {
      this.#counters.exceptions += 1;
      throw new Error(`Modbus slave ${this.#o.slave} on ${this.#o.path} refused input ${this.#o.input}: ${describeException(code)}`);
    }
    if (reply.functionCode !== FC_READ_DISCRETE_INPUTS) {
      throw new Error(`Modbus slave ${this.#o.slave} on ${this.#o.path} answered FC02 with function 0x${reply.functionCode.toString(16)}`);
    }
    const [wire = false] = decodeBits(reply, 1);
    return this.#o.invert === true ? !wire : wire;
  }

  #report(active: boolean): void {
    if (this.#level === active) return;
    this.#level = active;
    this.#counters.changes += 1;
    this.#changes.emit(active);
  }

  #fault(error: Error): void {
    if (this.#state !== 'open') return;
    this.#state = 'faulted';
    this.#level = null;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#logger.warn({ deviceId: this.deviceId, path: this.#o.path, slave: this.#o.slave, err: error.message }, 'input lost');
    this.#faults.emit(error);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
