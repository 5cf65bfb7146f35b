import { performanceClock, type MonotonicClock } from '../serial/clock.js';
import { FloodGuard, rejectionUnits } from '../serial/flood-guard.js';
import { Listeners } from '../serial/listeners.js';
import { silentLogger, type DriverLogger } from '../serial/logger.js';
import { openSerialPort, type OpenSerialPort } from '../serial/open-serial-port.js';
import { PortSession } from '../serial/port-session.js';
import { SerialQueue } from '../serial/serial-queue.js';
import type { PresentedCredential, ReaderDriver, ReaderFeedback } from '../types.js';
import type { LineDecodeOptions } from './line-decoder.js';
import { LineCredentials } from './line-credentials.js';
import { LineSplitter } from './line-splitter.js';

export interface SerialLineReaderOptions {
  readonly deviceId: string;
  readonly path: string;
  readonly baudRate?: number;
  /** Bytes that end a line; undefined accepts CR, LF and CR LF. */
  readonly terminator?: Uint8Array | undefined;
  readonly maxLineLength?: number;
  /** Regular expression that picks the credential out of a line; a default per encoding otherwise. */
  readonly pattern?: string | undefined;
  readonly decode?: LineDecodeOptions;
  /** The same credential again within this window (extended by each repeat) is one presentation; 0 turns it off. */
  readonly repeatMs?: number;
  /** Bytes the device understands as a grant or deny signal (a scanner's beep or LED command). */
  readonly feedback?: { readonly granted?: Uint8Array | undefined; readonly denied?: Uint8Array | undefined } | undefined;
  readonly logger?: DriverLogger;
  readonly clock?: MonotonicClock;
  readonly openPort?: OpenSerialPort;
  readonly presenceCheckMs?: number;
}

export const SERIAL_LINE_DEFAULTS = {
  baudRate: 9600,
  maxLineLength: 256,
  repeatMs: 1_000,
} as const;

/**
 * A reader that sends one credential per line: Wiegand-to-serial converters
 * (WG2RS232, S4A) and barcode/QR scanners in serial mode. The line is split by
 * the terminator, the pattern extracts the credential, and the encoding maps
 * it to the stored number; Wiegand frames with parity are checked.
 */
export class SerialLineReader implements ReaderDriver {
  readonly deviceId: string;
  /** Present only when grant or deny bytes are configured (declare: no field is emitted otherwise). */
  declare readonly feedback?: (signal: ReaderFeedback) => void;
  readonly #path: string;
  readonly #baudRate: number;
  readonly #presenceCheckMs: number | undefined;
  readonly #logger: DriverLogger;
  readonly #clock: MonotonicClock;
  readonly #openPort: OpenSerialPort;
  readonly #splitter: LineSplitter;
  readonly #credentials: LineCredentials;
  readonly #flood: FloodGuard;
  readonly #reads: Listeners<PresentedCredential>;
  readonly #faults: Listeners<Error>;
  readonly #lifecycle = new SerialQueue();
  readonly #counters = { feedbackSent: 0, feedbackFailed: 0, faults: 0 };
  #session: PortSession | undefined;
  #rejectedUnits = 0;

  constructor(options: SerialLineReaderOptions) {
    this.deviceId = options.deviceId;
    this.#path = options.path;
    this.#baudRate = options.baudRate ?? SERIAL_LINE_DEFAULTS.baudRate;
    this.#presenceCheckMs = options.presenceCheckMs;
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? performanceClock;
    this.#openPort = options.openPort ?? openSerialPort;
    this.#splitter = new LineSplitter({
      ...(options.terminator === undefined ? {} : { terminator: options.terminator }),
      maxLength: options.maxLineLength ?? SERIAL_LINE_DEFAULTS.maxLineLength,
    });
    this.#flood = new FloodGuard({ deviceId: this.deviceId, logger: this.#logger, clock: this.#clock });
    this.#reads = new Listeners(this.deviceId, this.#logger, 'read');
    this.#credentials = new LineCredentials({
      deviceId: this.deviceId,
      pattern: options.pattern,
      decode: options.decode ?? { as: 'text' },
      repeatMs: options.repeatMs ?? SERIAL_LINE_DEFAULTS.repeatMs,
      clock: this.#clock,
      logger: this.#logger,
      emit: (credential) => this.#reads.emit(credential),
    });
    this.#faults = new Listeners(this.deviceId, this.#logger, 'fault');
    this.#splitter.on('data', (line: Buffer) => this.#onLine(line));
    const { granted, denied } = options.feedback ?? {};
    if (granted !== undefined || denied !== undefined) {
      this.feedback = (signal) => this.#sendFeedback(signal === 'granted' ? granted : denied);
    }
  }

  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#session !== undefined && !this.#session.faulted) return;
      await this.#closeSession();
      const session = await PortSession.open({
        target: { path: this.#path, baudRate: this.#baudRate },
        openPort: this.#openPort,
        onData: (chunk) => this.#onData(chunk),
        onFault: (error) => this.#onPortFault(error),
        ...(this.#presenceCheckMs === undefined ? {} : { presenceCheckMs: this.#presenceCheckMs }),
      });
      // Bytes from before this open cannot complete a line started on the old port.
      this.#splitter.reset();
      this.#session = session;
      this.#logger.info({ deviceId: this.deviceId, path: this.#path }, 'reader opened');
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(() => this.#closeSession());
  }

  onFault(listener: (error: Error) => void): void {
    this.#faults.add(listener);
  }

  onRead(listener: (credential: PresentedCredential) => void): void {
    this.#reads.add(listener);
  }

  counters(): Readonly<Record<string, number>> {
    return {
      ...this.#splitter.counters(),
      ...this.#credentials.counters(),
      ...this.#counters,
      ...this.#flood.counters(),
    };
  }

  async #closeSession(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    await session.close();
    this.#logger.info({ deviceId: this.deviceId, path: this.#path }, 'reader closed');
  }

  #onPortFault(error: Error): void {
    this.#counters.faults += 1;
    this.#logger.warn({ deviceId: this.deviceId, path: this.#path, err: error.message }, 'reader lost');
    this.#faults.emit(error);
  }

  #onData(chunk: Buffer): void {
    if (!this.#flood.admit(chunk.length)) {
      this.#splitter.skipped(chunk);
      return;
    }
    this.#splitter.write(chunk);
    this.#chargeRejections();
  }

  #onLine(line: Buffer): void {
    this.#credentials.accept(line);
    this.#chargeRejections();
  }

  /** Rejected lines and overlong lines feed the flood guard; a valid line costs nothing. */
  #chargeRejections(): void {
    const units = rejectionUnits(this.#credentials.rejectedLines + this.#splitter.counters().overlongLines, 0);
    this.#flood.reject(units - this.#rejectedUnits);
    this.#rejectedUnits = units;
  }

  #sendFeedback(bytes: Uint8Array | undefined): void {
    const session = this.#session;
    if (bytes === undefined) return;
    if (session === undefined || session.faulted) {
      this.#counters.feedbackFailed += 1;
      return;
    }
    session.write(bytes).then(
      () => {
        this.#counters.feedbackSent += 1;
      },
      (error: unknown) => {
        this.#counters.feedbackFailed += 1;
        this.#logger.debug({ deviceId: this.deviceId, err: error instanceof Error ? error.message : String(error) }, 'feedback not sent');
      },
    );
  }
}
