import type { SerialPort } from 'serialport';
import { RelayCommandLog } from '../relay-command-log.js';
import type { RelayCounters, RelayDriver } from '../types.js';
import { silentLogger, type DriverLogger } from '../serial/logger.js';
import { openSerialPort, type OpenSerialPort } from '../serial/open-serial-port.js';
import { closeQuietly, writeAndDrain } from '../serial/port-io.js';
import { SerialQueue } from '../serial/serial-queue.js';
import { watchPortFault } from '../serial/watch-port-fault.js';
import { LCUS_BAUD_RATE, assertLcusChannel, encodeLcusCommand } from './protocol.js';

export interface LcusRelayOptions {
  /** Id the supervisor knows this relay by, e.g. `door:front`. */
  readonly deviceId: string;
  readonly path: string;
  /** 1-based relay channel on the board. */
  readonly channel: number;
  readonly baudRate?: number;
}

export interface LcusRelayRegistryOptions {
  readonly logger?: DriverLogger;
  readonly openPort?: OpenSerialPort;
}

/**
 * Hands out one RelayDriver per LCUS channel. Channels of the same board
 * (same path) share one serial port: a port can only be opened once, and two
 * doors are often wired to two channels of one board.
 *
 * The daemon creates one registry and asks it for every LCUS relay.
 */
export class LcusRelayRegistry {
  readonly #boards = new Map<string, LcusBoard>();
  readonly #logger: DriverLogger;
  readonly #openPort: OpenSerialPort;

  constructor(options: LcusRelayRegistryOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#openPort = options.openPort ?? openSerialPort;
  }

  relay(options: LcusRelayOptions): RelayDriver {
    assertLcusChannel(options.channel);
    const baudRate = options.baudRate ?? LCUS_BAUD_RATE;
    let board = this.#boards.get(options.path);
    if (board === undefined) {
      board = new LcusBoard(options.path, baudRate, this.#openPort, this.#logger);
      this.#boards.set(options.path, board);
    } else if (board.baudRate !== baudRate) {
      throw new Error(
        `LCUS board ${options.path} is already used at ${board.baudRate} baud; relay ${options.deviceId} asks for ${baudRate}`,
      );
    }
    return new LcusRelayChannel(options.deviceId, options.channel, board);
  }
}

type ChannelState = 'closed' | 'open' | 'faulted';

/** One relay channel: a thin handle that borrows its board's port while open. */
class LcusRelayChannel implements RelayDriver {
  readonly #faultListeners: ((error: Error) => void)[] = [];
  readonly #lifecycle = new SerialQueue();
  /** LCUS boards do not report their state, so nothing is verified. */
  readonly #log = new RelayCommandLog();
  #state: ChannelState = 'closed';

  readonly #board: LcusBoard;

  constructor(
    readonly deviceId: string,
    readonly channel: number,
    board: LcusBoard,
  ) {
    this.#board = board;
  }

  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#state !== 'open') await this.#board.attach(this);
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#state === 'closed') return;
      this.#state = 'closed';
      await this.#board.detach(this);
    });
  }

  onFault(listener: (error: Error) => void): void {
    this.#faultListeners.push(listener);
  }

  set(energised: boolean): Promise<void> {
    return this.#log.record(async () => {
      if (this.#state !== 'open') {
        throw new Error(`relay ${this.deviceId} is ${this.#state === 'faulted' ? 'faulted' : 'not open'}`);
      }
      await this.#board.send(encodeLcusCommand(this.channel, energised));
    });
  }

  counters(): RelayCounters {
    return this.#log.counters();
  }

  /** Called by the board in the same step that adds this channel to the port's users. */
  attached(): void {
    this.#state = 'open';
  }

  /** Called by the board when its port is lost; reports once per open(). */
  portLost(error: Error, logger: DriverLogger): void {
    if (this.#state !== 'open') return;
    this.#state = 'faulted';
    for (const listener of this.#faultListeners) {
      try {
        listener(error);
      } catch (listenerError) {
        logger.warn(
          { deviceId: this.deviceId, err: listenerError instanceof Error ? listenerError.message : String(listenerError) },
          'fault listener failed',
        );
      }
    }
  }
}

/** One physical board: the shared port and who is using it. */
class LcusBoard {
  /** Channels that called open() and not yet close(), including faulted ones. */
  readonly #users = new Set<LcusRelayChannel>();
  readonly #lifecycle = new SerialQueue();
  #port: SerialPort | undefined;
  #stopWatching: (() => void) | undefined;

  constructor(
    readonly path: string,
    readonly baudRate: number,
    private readonly openPort: OpenSerialPort,
    private readonly logger: DriverLogger,
  ) {}

  /** First user opens the port; a user that opens after a fault gets a fresh port. */
  attach(channel: LcusRelayChannel): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#port === undefined) await this.#openPort();
      // Marked open in the same step, so a fault can never fall between the two and go unreported.
      this.#users.add(channel);
      channel.attached();
    });
  }

  /** Last user closes the port. */
  detach(channel: LcusRelayChannel): Promise<void> {
    return this.#lifecycle.run(async () => {
      this.#users.delete(channel);
      if (this.#users.size === 0) await this.#closePort();
    });
  }

  send(command: Uint8Array): Promise<void> {
    const port = this.#port;
    if (port === undefined) return Promise.reject(new Error(`LCUS board ${this.path} is not open`));
    return writeAndDrain(port, command);
  }

  async #openPort(): Promise<void> {
    const port = await this.openPort({ path: this.path, baudRate: this.baudRate });
    // Some boards answer a status query and many answer nothing; reading anyway keeps a read
    // pending, which is how serialport notices most unplugs before the next door command.
    port.on('data', () => undefined);
    this.#stopWatching = watchPortFault(port, (error) => this.#portLost(port, error));
    this.#port = port;
    this.logger.info({ path: this.path }, 'relay board opened');
  }

  async #closePort(): Promise<void> {
    const port = this.#port;
    if (port === undefined) return;
    this.#port = undefined;
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    await closeQuietly(port);
    this.logger.info({ path: this.path }, 'relay board closed');
  }

  #portLost(port: SerialPort, error: Error): void {
    if (this.#port !== port) return;
    // Forget the dead port now, so the next attach() opens a new one.
    this.#port = undefined;
    this.#stopWatching = undefined;
    this.logger.warn({ path: this.path, err: error.message }, 'relay board lost');
    // After an 'error' (rather than an unplug) the descriptor may still be open and hold
    // the port lock; release it before any reopen, which the queue orders after this.
    void this.#lifecycle.run(() => closeQuietly(port));
    for (const channel of [...this.#users]) channel.portLost(error, this.logger);
  }
}
