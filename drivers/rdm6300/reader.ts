import type { SerialPort } from 'serialport';
import type { CardFormat } from '../../daemon/config/schema.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import type { PresentedCredential, ReaderDriver } from '../types.js';
import { silentLogger, type DriverLogger } from '../serial/logger.js';
import { openSerialPort, type OpenSerialPort } from '../serial/open-serial-port.js';
import { FloodGuard, rejectionUnits } from '../serial/flood-guard.js';
import { closeQuietly } from '../serial/port-io.js';
import { SerialQueue } from '../serial/serial-queue.js';
import { watchPortFault } from '../serial/watch-port-fault.js';
import { formatCardNumber } from './card-number.js';
import type { RdmFrame } from './frame.js';
import { Rdm6300FrameParser } from './frame-parser.js';
import { RepeatFilter } from './repeat-filter.js';

/** A monotonic millisecond clock; wall-clock time can jump (NTP) and would break debouncing. */
export interface MonotonicClock {
  now(): number;
}

export interface Rdm6300ReaderOptions {
  readonly deviceId: string;
  readonly path: string;
  readonly baudRate?: number;
  readonly cardFormat: CardFormat;
  /** Silence after which a card counts as removed and is read again. */
  readonly removalMs?: number;
  readonly logger?: DriverLogger;
  readonly clock?: MonotonicClock;
  readonly openPort?: OpenSerialPort;
}

export const RDM6300_DEFAULT_BAUD_RATE = 9600;
export const RDM6300_DEFAULT_REMOVAL_MS = 500;

const performanceClock: MonotonicClock = { now: () => performance.now() };

/** One successful open(): the port, and whether it has since been lost. */
interface Session {
  readonly port: SerialPort;
  readonly detach: () => void;
  faulted: boolean;
  /** Set once the port is being closed, so every caller waits for the same close. */
  released?: Promise<void>;
}

function release(session: Session): Promise<void> {
  session.released ??= closeQuietly(session.port);
  return session.released;
}

/** RDM6300 / EM4100 125 kHz reader on a serial port. */
export class Rdm6300Reader implements ReaderDriver {
  readonly deviceId: string;
  readonly #path: string;
  readonly #baudRate: number;
  readonly #cardFormat: CardFormat;
  readonly #logger: DriverLogger;
  readonly #clock: MonotonicClock;
  readonly #openPort: OpenSerialPort;
  readonly #parser = new Rdm6300FrameParser();
  readonly #repeats: RepeatFilter;
  readonly #flood: FloodGuard;
  #rejectedUnits = 0;
  readonly #readListeners: ((credential: PresentedCredential) => void)[] = [];
  readonly #faultListeners: ((error: Error) => void)[] = [];
  readonly #lifecycle = new SerialQueue();
  #session: Session | undefined;
  #readsEmitted = 0;
  #repeatsSuppressed = 0;
  #faults = 0;

  constructor(options: Rdm6300ReaderOptions) {
    this.deviceId = options.deviceId;
    this.#path = options.path;
    this.#baudRate = options.baudRate ?? RDM6300_DEFAULT_BAUD_RATE;
    this.#cardFormat = options.cardFormat;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? performanceClock;
    this.#openPort = options.openPort ?? openSerialPort;
    this.#repeats = new RepeatFilter(options.removalMs ?? RDM6300_DEFAULT_REMOVAL_MS);
    this.#flood = new FloodGuard({ deviceId: this.deviceId, logger: this.#logger, clock: this.#clock });
    this.#parser.on('data', (frame: RdmFrame) => this.#onFrame(frame));
  }

  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#session !== undefined && !this.#session.faulted) return;
      await this.#closeSession();
      await this.#openSession();
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(() => this.#closeSession());
  }

  onFault(listener: (error: Error) => void): void {
    this.#faultListeners.push(listener);
  }

  onRead(listener: (credential: PresentedCredential) => void): void {
    this.#readListeners.push(listener);
  }

  counters(): Readonly<Record<string, number>> {
    return {
      ...this.#parser.counters(),
      readsEmitted: this.#readsEmitted,
      repeatsSuppressed: this.#repeatsSuppressed,
      faults: this.#faults,
      ...this.#flood.counters(),
    };
  }

  async #openSession(): Promise<void> {
    const port = await this.#openPort({ path: this.#path, baudRate: this.#baudRate });
    // Bytes from before this open cannot complete a frame started on the old port.
    this.#parser.resync();
    const onData = (chunk: Buffer) => this.#onData(chunk);
    port.on('data', onData);
    const session: Session = {
      port,
      faulted: false,
      detach: () => {
        stopWatching();
        port.off('data', onData);
      },
    };
    const stopWatching = watchPortFault(port, (error) => this.#onPortFault(session, error));
    this.#session = session;
    this.#logger.info({ deviceId: this.deviceId, path: this.#path }, 'reader opened');
  }

  async #closeSession(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    session.detach();
    await release(session);
    this.#logger.info({ deviceId: this.deviceId, path: this.#path }, 'reader closed');
  }

  #onPortFault(session: Session, error: Error): void {
    session.faulted = true;
    session.detach();
    // Close at once: a lost port may still hold the lock or spin on reads (see watchDevicePresence).
    void release(session);
    this.#faults += 1;
    this.#logger.warn({ deviceId: this.deviceId, path: this.#path, err: error.message }, 'reader lost');
    for (const listener of this.#faultListeners) this.#callSafely(() => listener(error), 'fault listener failed');
  }

  /** A device sending garbage faster than the flood guard allows has its input dropped unparsed for a while. */
  #onData(chunk: Buffer): void {
    if (!this.#flood.admit(chunk.length)) {
      // The gap means a frame held from before it cannot be completed by bytes after it.
      this.#parser.resync();
      return;
    }
    this.#parser.write(chunk);
    const { badChecksum, malformed, zeroTag, garbageBytes } = this.#parser.counters();
    const units = rejectionUnits(badChecksum + malformed + zeroTag, garbageBytes);
    this.#flood.reject(units - this.#rejectedUnits);
    this.#rejectedUnits = units;
  }

  #onFrame(frame: RdmFrame): void {
    // The customer byte is part of identity: two fobs may share D1..D4 under different D0.
    const key = frame.customer * 0x1_0000_0000 + frame.tag;
    if (!this.#repeats.accept(key, this.#clock.now())) {
      this.#repeatsSuppressed += 1;
      return;
    }
    this.#readsEmitted += 1;
    const credential: PresentedCredential = {
      kind: 'card',
      number: new SecretValue(formatCardNumber(frame, this.#cardFormat)),
    };
    this.#logger.debug({ deviceId: this.deviceId }, 'card read');
    for (const listener of this.#readListeners) this.#callSafely(() => listener(credential), 'read listener failed');
  }

  /** A throwing listener must not break frame parsing or the other listeners. */
  #callSafely(call: () => void, message: string): void {
    try {
      call();
    } catch (error) {
      this.#logger.warn(
        { deviceId: this.deviceId, err: error instanceof Error ? error.message : String(error) },
        message,
      );
    }
  }
}
