import { performanceClock, type MonotonicClock } from '../serial/clock.js';
import type { DriverLogger } from '../serial/logger.js';
import type { OpenSerialPort, SerialPortTarget } from '../serial/open-serial-port.js';
import { PortSession } from '../serial/port-session.js';
import { SerialQueue } from '../serial/serial-queue.js';
import type { RtuReply } from './rtu-frames.js';
import { RtuReplyParser } from './rtu-reply-parser.js';

/** Something on the bus that must hear when the port is lost. */
export interface BusUser {
  portLost(error: Error): void;
}

export class ModbusTimeoutError extends Error {
  override readonly name = 'ModbusTimeoutError';
}

export type BusCounters = {
  requests: number;
  replies: number;
  timeouts: number;
  /** Valid replies from a slave other than the one asked: another master or a confused board. */
  strayReplies: number;
  badCrc: number;
  incomplete: number;
  garbageBytes: number;
};

export interface ModbusBusOptions {
  readonly target: SerialPortTarget;
  readonly openPort: OpenSerialPort;
  readonly logger: DriverLogger;
  readonly interByteTimeoutMs: number;
  readonly presenceCheckMs?: number;
  readonly clock?: MonotonicClock;
}

interface Waiter {
  readonly slave: number;
  readonly resolve: (reply: RtuReply) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One RS-485 port and the Modbus slaves on it. The port is opened by the
 * first user and closed by the last; requests go out one at a time, each
 * waiting for its reply (or its timeout) and for the inter-frame silence
 * before the next, as a half-duplex bus requires.
 */
export class ModbusBus {
  readonly #options: ModbusBusOptions;
  readonly #clock: MonotonicClock;
  readonly #users = new Set<BusUser>();
  readonly #lifecycle = new SerialQueue();
  readonly #transactions = new SerialQueue();
  readonly #parser: RtuReplyParser;
  /** 3.5 character times, the silence that separates Modbus-RTU frames. */
  readonly #frameGapMs: number;
  readonly #counters = { requests: 0, replies: 0, timeouts: 0, strayReplies: 0 };
  #session: PortSession | undefined;
  #waiter: Waiter | undefined;
  #quietFrom = 0;

  constructor(options: ModbusBusOptions) {
    this.#options = options;
    this.#clock = options.clock ?? performanceClock;
    this.#parser = new RtuReplyParser({ interByteTimeoutMs: options.interByteTimeoutMs });
    this.#parser.on('data', (reply: RtuReply) => this.#onReply(reply));
    const { baudRate, parity = 'none', stopBits = 1 } = options.target;
    const bitsPerChar = 1 + 8 + (parity === 'none' ? 0 : 1) + stopBits;
    this.#frameGapMs = Math.max(2, Math.ceil((3.5 * bitsPerChar * 1000) / baudRate));
  }

  get target(): SerialPortTarget {
    return this.#options.target;
  }

  counters(): Readonly<BusCounters> {
    const { badCrc, incomplete, garbageBytes } = this.#parser.counters();
    return { ...this.#counters, badCrc, incomplete, garbageBytes };
  }

  /** Adds a user, opening the port if it is the first (or the port was lost). */
  attach(user: BusUser): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#session === undefined) await this.#open();
      this.#users.add(user);
    });
  }

  /** Removes a user; the last one out closes the port. */
  detach(user: BusUser): Promise<void> {
    return this.#lifecycle.run(async () => {
      this.#users.delete(user);
      if (this.#users.size === 0) await this.#close();
    });
  }

  /**
   * Sends one request and resolves with the first valid reply from `slave`.
   * Rejects with ModbusTimeoutError when none comes within `timeoutMs` of the
   * request leaving, and at once when the port is not open or is lost.
   */
  transact(request: Uint8Array, slave: number, timeoutMs: number): Promise<RtuReply> {
    return this.#transactions.run(async () => {
      const session = this.#session;
      if (session === undefined || session.faulted) throw new Error(`Modbus port ${this.#options.target.path} is not open`);
      const wait = this.#quietFrom - this.#clock.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.#parser.reset();
      this.#counters.requests += 1;
      let timer: NodeJS.Timeout | undefined;
      const reply = new Promise<RtuReply>((resolve, reject) => {
        this.#waiter = { slave, resolve, reject };
      });
      // The port can be lost while the request is still being written; that rejection is awaited below.
      reply.catch(() => undefined);
      try {
        await session.write(request);
        timer = setTimeout(() => {
          this.#counters.timeouts += 1;
          this.#fail(new ModbusTimeoutError(`no reply from Modbus slave ${slave} on ${this.#options.target.path} within ${timeoutMs} ms`));
        }, timeoutMs);
        return await reply;
      } finally {
        clearTimeout(timer);
        this.#waiter = undefined;
        this.#quietFrom = this.#clock.now() + this.#frameGapMs;
      }
    });
  }

  async #open(): Promise<void> {
    const { target, openPort, presenceCheckMs, logger } = this.#options;
    this.#parser.reset();
    const session: PortSession = await PortSession.open({
      target,
      openPort,
      onData: (chunk) => this.#parser.write(chunk),
      onFault: (error) => this.#portLost(session, error),
      ...(presenceCheckMs === undefined ? {} : { presenceCheckMs }),
    });
    this.#session = session;
    logger.info({ path: target.path }, 'Modbus port opened');
  }

  async #close(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    this.#fail(new Error(`Modbus port ${this.#options.target.path} closed`));
    await session.close();
    this.#options.logger.info({ path: this.#options.target.path }, 'Modbus port closed');
  }

  #portLost(session: PortSession, error: Error): void {
    if (this.#session !== session) return;
    // Forget the dead port now, so the next attach() opens a new one.
    this.#session = undefined;
    this.#options.logger.warn({ path: this.#options.target.path, err: error.message }, 'Modbus port lost');
    this.#fail(error);
    for (const user of [...this.#users]) user.portLost(error);
  }

  #onReply(reply: RtuReply): void {
    const waiter = this.#waiter;
    if (waiter === undefined || reply.slave !== waiter.slave) {
      this.#counters.strayReplies += 1;
      return;
    }
    this.#counters.replies += 1;
    this.#waiter = undefined;
    waiter.resolve(reply);
  }

  #fail(error: Error): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
  }
}
