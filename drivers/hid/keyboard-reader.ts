import type { LineDecodeOptions } from '../line-reader/line-decoder.js';
import { LineCredentials } from '../line-reader/line-credentials.js';
import { performanceClock, type MonotonicClock } from '../serial/clock.js';
import { FloodGuard, rejectionUnits } from '../serial/flood-guard.js';
import { Listeners } from '../serial/listeners.js';
import { silentLogger, type DriverLogger } from '../serial/logger.js';
import { SerialQueue } from '../serial/serial-queue.js';
import type { PresentedCredential, ReaderDriver, ReaderFeedback } from '../types.js';
import { BootReportDecoder, type Keystroke } from './boot-report-decoder.js';
import { describeSelector, selectHidDevice, type HidDeviceSelector } from './hid-devices.js';
import { asError, type HidDeviceHandle, type HidLibrary } from './hid-library.js';
import { KeyLineAssembler } from './key-line-assembler.js';
import type { KeyboardLayout } from './keyboard-layouts.js';

export interface HidKeyboardReaderOptions {
  readonly deviceId: string;
  readonly device: HidDeviceSelector;
  /** node-hid or a fake; resolved on first open, so node-hid loads only when a HID reader is used. */
  readonly library: () => HidLibrary;
  readonly layout?: KeyboardLayout;
  /** Report id in front of each input report on composite devices; undefined for the plain boot report. */
  readonly reportId?: number | undefined;
  readonly interKeyTimeoutMs?: number;
  readonly maxLineLength?: number;
  readonly pattern?: string | undefined;
  readonly decode?: LineDecodeOptions;
  readonly repeatMs?: number;
  /** Reports the device understands as a grant or deny signal, byte 0 being the report id. */
  readonly feedback?:
    | { readonly granted?: Uint8Array | undefined; readonly denied?: Uint8Array | undefined; readonly report: 'output' | 'feature' }
    | undefined;
  readonly logger?: DriverLogger;
  readonly clock?: MonotonicClock;
}

export const HID_KEYBOARD_DEFAULTS = {
  layout: 'us',
  interKeyTimeoutMs: 200,
  maxLineLength: 256,
  repeatMs: 1_000,
} as const;

/**
 * A keyboard-wedge reader (125 kHz / 13.56 MHz USB readers, barcode and QR
 * scanners in keyboard mode) read as a HID device: boot keyboard reports
 * become key presses, key presses become lines, and each line goes through
 * the same pattern, decoding and repeat filter as a serial line reader.
 */
export class HidKeyboardReader implements ReaderDriver {
  readonly deviceId: string;
  /** Present only when grant or deny reports are configured. */
  declare readonly feedback?: (signal: ReaderFeedback) => void;
  readonly #selector: HidDeviceSelector;
  readonly #library: () => HidLibrary;
  readonly #logger: DriverLogger;
  readonly #decoder: BootReportDecoder;
  readonly #assembler: KeyLineAssembler;
  readonly #credentials: LineCredentials;
  readonly #flood: FloodGuard;
  readonly #reads: Listeners<PresentedCredential>;
  readonly #faults: Listeners<Error>;
  readonly #lifecycle = new SerialQueue();
  readonly #counters = { feedbackSent: 0, feedbackFailed: 0, faults: 0 };
  #handle: HidDeviceHandle | undefined;
  #faulted = false;
  #chargedUnits = 0;

  constructor(options: HidKeyboardReaderOptions) {
    this.deviceId = options.deviceId;
    this.#selector = options.device;
    this.#library = options.library;
    this.#logger = options.logger ?? silentLogger;
    const clock = options.clock ?? performanceClock;
    const interKeyTimeoutMs = options.interKeyTimeoutMs ?? HID_KEYBOARD_DEFAULTS.interKeyTimeoutMs;
    this.#decoder = new BootReportDecoder({
      layout: options.layout ?? HID_KEYBOARD_DEFAULTS.layout,
      reportId: options.reportId,
      releaseAfterMs: interKeyTimeoutMs,
      clock,
    });
    this.#assembler = new KeyLineAssembler({
      interKeyTimeoutMs,
      maxLength: options.maxLineLength ?? HID_KEYBOARD_DEFAULTS.maxLineLength,
      clock,
    });
    this.#flood = new FloodGuard({ deviceId: this.deviceId, logger: this.#logger, clock });
    this.#reads = new Listeners(this.deviceId, this.#logger, 'read');
    this.#faults = new Listeners(this.deviceId, this.#logger, 'fault');
    this.#credentials = new LineCredentials({
      deviceId: this.deviceId,
      pattern: options.pattern,
      decode: options.decode ?? { as: 'text' },
      repeatMs: options.repeatMs ?? HID_KEYBOARD_DEFAULTS.repeatMs,
      clock,
      logger: this.#logger,
      emit: (credential) => this.#reads.emit(credential),
    });
    this.#decoder.on('data', (keystroke: Keystroke) => this.#assembler.write(keystroke));
    this.#assembler.on('data', (line: string) => this.#onLine(line));
    const feedback = options.feedback;
    if (feedback !== undefined && (feedback.granted !== undefined || feedback.denied !== undefined)) {
      this.feedback = (signal) => this.#sendFeedback(signal === 'granted' ? feedback.granted : feedback.denied, feedback.report);
    }
  }

  open(): Promise<void> {
    return this.#lifecycle.run(async () => {
      if (this.#handle !== undefined && !this.#faulted) return;
      await this.#closeHandle();
      const library = this.#library();
      const info = selectHidDevice(await library.devices(), this.#selector);
      const handle = await library.open(info.path ?? '');
      this.#faulted = false;
      // Keys from before this open cannot complete a line typed on the old handle.
      this.#decoder.reset();
      this.#assembler.reset();
      this.#handle = handle;
      // Attached before 'data' so that a read error can never go unhandled and crash the process.
      handle.on('error', (error) => this.#onDeviceError(handle, asError(error)));
      handle.on('data', (report) => this.#onReport(handle, report));
      this.#logger.info({ deviceId: this.deviceId, device: describeSelector(this.#selector), path: info.path }, 'reader opened');
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.run(() => this.#closeHandle());
  }

  onFault(listener: (error: Error) => void): void {
    this.#faults.add(listener);
  }

  onRead(listener: (credential: PresentedCredential) => void): void {
    this.#reads.add(listener);
  }

  counters(): Readonly<Record<string, number>> {
    return {
      ...this.#decoder.counters(),
      ...this.#assembler.counters(),
      ...this.#credentials.counters(),
      ...this.#counters,
      ...this.#flood.counters(),
    };
  }

  async #closeHandle(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    try {
      await handle.close();
    } catch {
      // Already gone (unplugged): nothing left to release.
    }
    this.#logger.info({ deviceId: this.deviceId }, 'reader closed');
  }

  #onDeviceError(handle: HidDeviceHandle, error: Error): void {
    if (handle !== this.#handle || this.#faulted) return;
    this.#faulted = true;
    this.#counters.faults += 1;
    this.#logger.warn({ deviceId: this.deviceId, err: error.message }, 'reader lost');
    this.#faults.emit(error);
  }

  #onReport(handle: HidDeviceHandle, report: Buffer): void {
    if (handle !== this.#handle || this.#faulted) return;
    if (!this.#flood.admit(report.length)) {
      // A dropped report may hold a key of the line being typed: that line is void.
      this.#decoder.reset();
      this.#assembler.write({ kind: 'broken', why: 'malformed' } satisfies Keystroke);
      return;
    }
    this.#decoder.write(report);
    this.#chargeRejections();
  }

  #onLine(line: string): void {
    this.#credentials.accept(Buffer.from(line, 'utf8'));
    this.#chargeRejections();
  }

  /** Malformed reports and lines that come to nothing feed the flood guard; a good read costs nothing. */
  #chargeRejections(): void {
    const decoded = this.#decoder.counters();
    const lines = this.#assembler.counters();
    const units = rejectionUnits(
      decoded.malformedReports + lines.brokenLines + lines.overlongLines + this.#credentials.rejectedLines,
      0,
    );
    this.#flood.reject(units - this.#chargedUnits);
    this.#chargedUnits = units;
  }

  #sendFeedback(bytes: Uint8Array | undefined, report: 'output' | 'feature'): void {
    if (bytes === undefined) return;
    const handle = this.#handle;
    if (handle === undefined || this.#faulted) {
      this.#counters.feedbackFailed += 1;
      return;
    }
    const data = Buffer.from(bytes);
    const sent = report === 'feature' ? handle.sendFeatureReport(data) : handle.write(data);
    sent.then(
      () => {
        this.#counters.feedbackSent += 1;
      },
      (error: unknown) => {
        this.#counters.feedbackFailed += 1;
        this.#logger.debug({ deviceId: this.deviceId, err: asError(error).message }, 'feedback not sent');
      },
    );
  }
}
