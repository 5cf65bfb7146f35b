import { silentLogger, type DriverLogger } from '../serial/logger.js';
import { Listeners } from '../serial/listeners.js';
import { openSerialPort, type OpenSerialPort, type SerialPortTarget } from '../serial/open-serial-port.js';
import { SerialQueue } from '../serial/serial-queue.js';
import { RelayCommandLog } from '../relay-command-log.js';
import type { RelayCounters, RelayDriver } from '../types.js';
import { ModbusBus, ModbusTimeoutError, type BusUser } from './bus.js';
import { ModbusDiscreteInput, type ModbusInputOptions } from './discrete-input.js';
import {
  FC_READ_COILS,
  assertCoil,
  assertSlave,
  describeException,
  encodeReadCoils,
  encodeWriteSingleCoil,
  exceptionCode,
  type RtuReply,
} from './rtu-frames.js';

export interface ModbusRelayOptions {
  /** Id the supervisor knows this relay by, e.g. `door:front`. */
  readonly deviceId: string;
  readonly path: string;
  readonly slave: number;
  /** Coil address on the wire, 0-based. */
  readonly coil: number;
  readonly baudRate?: number;
  readonly parity?: 'none' | 'even' | 'odd';
  readonly stopBits?: 1 | 2;
  readonly responseTimeoutMs?: number;
  /** Extra tries after a timeout; FC05 is idempotent, so repeating it is safe. */
  readonly retries?: number;
  /** Timeouts in a row, on any coil of this slave, after which the board counts as faulted. */
  readonly faultAfterTimeouts?: number;
}

export interface ModbusRelayRegistryOptions {
  readonly logger?: DriverLogger;
  readonly openPort?: OpenSerialPort;
  readonly presenceCheckMs?: number;
  /** Silence after which a partial reply is abandoned. */
  readonly interByteTimeoutMs?: number;
}

export const MODBUS_DEFAULTS = {
  baudRate: 9600,
  parity: 'none',
  stopBits: 1,
  responseTimeoutMs: 500,
  retries: 1,
  faultAfterTimeouts: 3,
  interByteTimeoutMs: 50,
} as const;

/**
 * Hands out one RelayDriver per coil. Relays on the same port share one bus
 * (several coils of a board, several boards by slave address on one RS-485
 * line), because a port can only be opened once and a half-duplex bus carries
 * one request at a time. The daemon creates one registry for all doors.
 */
export class ModbusRelayRegistry {
  readonly #buses = new Map<string, ModbusBus>();
  readonly #slaves = new Map<string, SlaveState>();
  readonly #coils = new Map<string, string>();
  readonly #logger: DriverLogger;
  readonly #openPort: OpenSerialPort;
  readonly #presenceCheckMs: number | undefined;
  readonly #interByteTimeoutMs: number;

  constructor(options: ModbusRelayRegistryOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#openPort = options.openPort ?? openSerialPort;
    this.#presenceCheckMs = options.presenceCheckMs;
    this.#interByteTimeoutMs = options.interByteTimeoutMs ?? MODBUS_DEFAULTS.interByteTimeoutMs;
  }

  relay(options: ModbusRelayOptions): ModbusCoilRelay {
    assertSlave(options.slave);
    assertCoil(options.coil);
    const target = lineTarget(options);
    const coilKey = `${options.path}#${options.slave}#${options.coil}`;
    const owner = this.#coils.get(coilKey);
    if (owner !== undefined) {
      throw new Error(`Modbus coil ${options.coil} of slave ${options.slave} on ${options.path} is already used by ${owner}`);
    }
    const bus = this.#bus(target, `relay ${options.deviceId}`);
    const slaveKey = `${options.path}#${options.slave}`;
    let slave = this.#slaves.get(slaveKey);
    if (slave === undefined) {
      slave = new SlaveState();
      this.#slaves.set(slaveKey, slave);
    }
    this.#coils.set(coilKey, options.deviceId);
    return new ModbusCoilRelay(options, bus, slave, this.#logger);
  }

  /**
   * A discrete input (door contact, exit button) polled with FC02 on the same
   * bus as the relays: a board's inputs and coils share its port.
   */
  input(options: ModbusInputOptions): ModbusDiscreteInput {
    assertSlave(options.slave);
    assertCoil(options.input);
    const target = lineTarget(options);
    const key = `${options.path}#${options.slave}#input${options.input}`;
    const owner = this.#coils.get(key);
    if (owner !== undefined) {
      throw new Error(`Modbus input ${options.input} of slave ${options.slave} on ${options.path} is already used by ${owner}`);
    }
    const bus = this.#bus(target, `input ${options.deviceId}`);
    this.#coils.set(key, options.deviceId);
    return new ModbusDiscreteInput(options, bus, this.#logger);
  }

  /** The bus of a port, created on first use; every user of a port must agree on its line settings. */
  #bus(target: SerialPortTarget, user: string): ModbusBus {
    let bus = this.#buses.get(target.path);
    if (bus === undefined) {
      bus = new ModbusBus({
        target,
        openPort: this.#openPort,
        logger: this.#logger,
        interByteTimeoutMs: this.#interByteTimeoutMs,
        ...(this.#presenceCheckMs === undefined ? {} : { presenceCheckMs: this.#presenceCheckMs }),
      });
      this.#buses.set(target.path, bus);
    } else if (!sameLine(bus.target, target)) {
      throw new Error(
        `Modbus port ${target.path} is already used at ${describeLine(bus.target)}; ${user} asks for ${describeLine(target)}`,
      );
    }
    return bus;
  }
}

/** Consecutive timeouts of one slave and the relays on it, so one dead board faults all its doors. */
class SlaveState {
  readonly relays = new Set<ModbusCoilRelay>();
  consecutiveTimeouts = 0;
}

type RelayState = 'closed' | 'open' | 'faulted';

/** One coil of one slave: a door's relay. */
export class ModbusCoilRelay implements RelayDriver, BusUser {
  readonly deviceId: string;
  readonly #path: string;
  readonly #slave: number;
  readonly #coil: number;
  readonly #responseTimeoutMs: number;
  readonly #retries: number;
  readonly #faultAfterTimeouts: number;
  readonly #bus: ModbusBus;
  readonly #slaveState: SlaveState;
  readonly #logger: DriverLogger;
  readonly #faults: Listeners<Error>;
  readonly #lifecycle = new SerialQueue();
  readonly #counters = { exceptions: 0, badEchoes: 0, faults: 0 };
  readonly #log = new RelayCommandLog();
  #state: RelayState = 'closed';

  constructor(options: ModbusRelayOptions, bus: ModbusBus, slave: SlaveState, logger: DriverLogger) {
    this.deviceId = options.deviceId;
    this.#path = options.path;
    this.#slave = options.slave;
    this.#coil = options.coil;
    this.#responseTimeoutMs = options.responseTimeoutMs ?? MODBUS_DEFAULTS.responseTimeoutMs;
    this.#retries = options.retries ?? MODBUS_DEFAULTS.retries;
    this.#faultAfterTimeouts = options.faultAfterTimeouts ?? MODBUS_DEFAULTS.faultAfterTimeouts;
    this.#bus = bus;
    this.#slaveState = slave;
    this.#logger = logger;
    this.#faults = new Listeners(this.deviceId, logger, 'fault');
  }

  /**
   * Opens the shared port and checks that the slave answers (FC01 on this
   * coil; an exception reply counts, it proves the board is there). A board
   * that does not answer leaves the door offline instead of pretending.
   */
  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#state === 'open') return;
      await this.#bus.attach(this);
      this.#slaveState.relays.add(this);
      try {
        await this.#request(encodeReadCoils(this.#slave, this.#coil, 1), FC_READ_COILS);
      } catch (error) {
        this.#slaveState.relays.delete(this);
        await this.#bus.detach(this);
        throw new Error(`Modbus slave ${this.#slave} on ${this.#path} did not answer: ${message(error)}`, { cause: error });
      }
      this.#state = 'open';
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#state === 'closed') return;
      this.#state = 'closed';
      this.#slaveState.relays.delete(this);
      await this.#bus.detach(this);
    });
  }

  onFault(listener: (error: Error) => void): void {
    this.#faults.add(listener);
  }

  /** FC05 write single coil; resolves only when the board echoed the request exactly. */
  set(energised: boolean): Promise<void> {
    return this.#log.record(async () => {
      if (this.#state !== 'open') throw new Error(`relay ${this.deviceId} is ${this.#state === 'faulted' ? 'faulted' : 'not open'}`);
      const request = encodeWriteSingleCoil(this.#slave, this.#coil, energised);
      const reply = await this.#request(request, request[1] ?? 0);
      if (!reply.frame.equals(request)) {
        this.#counters.badEchoes += 1;
        throw new Error(`Modbus slave ${this.#slave} on ${this.#path} answered coil ${this.#coil} with a reply that does not echo the request`);
      }
      // The echo is the board confirming the coil's new value.
      this.#log.verified(energised);
    });
  }

  counters(): RelayCounters {
    return this.#log.counters({ ...this.#bus.counters(), ...this.#counters, slaveTimeoutsInARow: this.#slaveState.consecutiveTimeouts });
  }

  /** Called by the bus when its port is lost; reports once per open(). */
  portLost(error: Error): void {
    this.#fault(error);
  }

  /**
   * One request with retries on timeout. Any reply from the slave resets its
   * timeout count; an exception reply rejects at once (repeating it would get
   * the same answer).
   */
  async #request(request: Buffer, functionCode: number): Promise<RtuReply> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const reply = await this.#bus.transact(request, this.#slave, this.#responseTimeoutMs);
        this.#slaveState.consecutiveTimeouts = 0;
        const code = exceptionCode(reply);
        if (code !== undefined && (reply.functionCode & 0x7f) === functionCode) {
          this.#counters.exceptions += 1;
          if (functionCode === FC_READ_COILS) return reply;
          throw new Error(`Modbus slave ${this.#slave} on ${this.#path} refused coil ${this.#coil}: ${describeException(code)}`);
        }
        if (reply.functionCode !== functionCode) {
          this.#counters.badEchoes += 1;
          throw new Error(`Modbus slave ${this.#slave} on ${this.#path} answered with function 0x${reply.functionCode.toString(16)}`);
        }
        return reply;
      } catch (error) {
        if (!(error instanceof ModbusTimeoutError)) throw error;
        this.#slaveState.consecutiveTimeouts += 1;
        if (this.#slaveState.consecutiveTimeouts >= this.#faultAfterTimeouts) this.#faultSlave(error);
        if (attempt >= this.#retries || this.#state === 'faulted') throw error;
      }
    }
  }

  /** The board stopped answering: every open relay on it faults, and the supervisor reopens them (with a probe). */
  #faultSlave(error: ModbusTimeoutError): void {
    this.#slaveState.consecutiveTimeouts = 0;
    const fault = new Error(`Modbus slave ${this.#slave} on ${this.#path} stopped answering: ${error.message}`, { cause: error });
    for (const relay of [...this.#slaveState.relays]) relay.#fault(fault);
  }

  #fault(error: Error): void {
    if (this.#state !== 'open') return;
    this.#state = 'faulted';
    this.#counters.faults += 1;
    this.#logger.warn({ deviceId: this.deviceId, path: this.#path, slave: this.#slave, err: error.message }, 'relay lost');
    this.#faults.emit(error);
  }
}

/** The port and line settings a relay or input asks for, with the Modbus defaults filled in. */
function lineTarget(options: Pick<ModbusRelayOptions, 'path' | 'baudRate' | 'parity' | 'stopBits'>): SerialPortTarget {
  return {
    path: options.path,
    baudRate: options.baudRate ?? MODBUS_DEFAULTS.baudRate,
    parity: options.parity ?? MODBUS_DEFAULTS.parity,
    stopBits: options.stopBits ?? MODBUS_DEFAULTS.stopBits,
  };
}

function sameLine(a: SerialPortTarget, b: SerialPortTarget): boolean {
  return a.baudRate === b.baudRate && a.parity === b.parity && a.stopBits === b.stopBits;
}

function describeLine(target: SerialPortTarget): string {
  const parity = { none: 'N', even: 'E', odd: 'O' }[target.parity ?? 'none'];
  return `${target.baudRate} 8${parity}${target.stopBits ?? 1}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
