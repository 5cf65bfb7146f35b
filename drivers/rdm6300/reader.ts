import type { CardFormat } from '../../daemon/config/schema.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import type { PresentedCredential, ReaderDriver } from '../types.js';
import { silentLogger, type DriverLogger } from '../serial/logger.js';
import { openSerialPort, type OpenSerialPort } from '../serial/open-serial-port.js';
import { FloodGuard, rejectionUnits } from '../serial/flood-guard.js';
import { Listeners } from '../serial/listeners.js';
import { PortSession } from '../serial/port-session.js';
import { SerialQueue } from '../serial/serial-queue.js';
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
  readonly #reads: Listeners<PresentedCredential>;
  readonly #faultListeners: Listeners<Error>;
  readonly #lifecycle = new SerialQueue();
  #session: PortSession | undefined;
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
    this.#reads = new Listeners(this.deviceId, this.#logger, 'read');
    this.#faultListeners = new Listeners(this.deviceId, this.#logger, 'fault');
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
    this.#faultListeners.add(listener);
  }

  onRead(listener: (credential: PresentedCredential) => void): void {
    this.#reads.add(listener);
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
    const session = await PortSession.open({
      target: { path: this.#path, baudRate: this.#baudRate },
      openPort: this.#openPort,
      onData: (chunk) => this.#onData(chunk),
      onFault: (error) => this.#onPortFault(error),
    });
    // Bytes from before this open cannot complete a frame started on the old port.
    this.#parser.resync();
    this.#session = session;
    this.#logger.info({ deviceId: this.deviceId, path: this.#path }, 'reader opened');
  }

  async #closeSession(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    await session.close();
    this.#logger.info({ deviceId: this.deviceId, path: this.#path }, 'reader closed');
  }

  /** PortSession has already released the port; it reports at most once per open. */
  #onPortFault(error: Error): void {
    this.#faults += 1;
    this.#logger.warn({ deviceId: this.deviceId, path: this.#path, err: error.message }, 'reader lost');
    this.#faultListeners.emit(error);
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
    this.#reads.emit(credential);
  }
}
