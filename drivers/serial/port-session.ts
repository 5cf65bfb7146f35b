import type { SerialPort } from 'serialport';
import type { OpenSerialPort, SerialPortTarget } from './open-serial-port.js';
import { closeQuietly, writeAndDrain } from './port-io.js';
import { watchPortFault } from './watch-port-fault.js';

export interface PortSessionOptions {
  readonly target: SerialPortTarget;
  readonly openPort: OpenSerialPort;
  readonly onData: (chunk: Buffer) => void;
  /** Called at most once, when the port is lost (unplug, I/O error); the port is already being released. */
  readonly onFault: (error: Error) => void;
  readonly presenceCheckMs?: number;
}

/**
 * One successful open of a serial device: the port, its data listener and
 * the fault watch, released together. Drivers keep one per open() so that a
 * fault on an old port can never be mistaken for one on the new port.
 */
export class PortSession {
  readonly #port: SerialPort;
  readonly #detach: () => void;
  #faulted = false;
  #released: Promise<void> | undefined;

  private constructor(port: SerialPort, options: PortSessionOptions) {
    this.#port = port;
    const onData = (chunk: Buffer) => options.onData(chunk);
    port.on('data', onData);
    const stopWatching = watchPortFault(
      port,
      (error) => {
        this.#faulted = true;
        this.#detach();
        // Close at once: a lost port may still hold the lock or spin on reads (see watchDevicePresence).
        void this.#release();
        options.onFault(error);
      },
      options.presenceCheckMs === undefined ? {} : { presenceCheckMs: options.presenceCheckMs },
    );
    this.#detach = () => {
      stopWatching();
      port.off('data', onData);
    };
  }

  static async open(options: PortSessionOptions): Promise<PortSession> {
    const port = await options.openPort(options.target);
    return new PortSession(port, options);
  }

  get faulted(): boolean {
    return this.#faulted;
  }

  get path(): string {
    return this.#port.path;
  }

  /** Rejects when the port is closed, lost, or does not take the bytes in time. */
  write(bytes: Uint8Array, timeoutMs?: number): Promise<void> {
    return writeAndDrain(this.#port, bytes, timeoutMs);
  }

  /** Stops reporting and closes the port. Never rejects; every caller waits for the same close. */
  close(): Promise<void> {
    this.#detach();
    return this.#release();
  }

  #release(): Promise<void> {
    this.#released ??= closeQuietly(this.#port);
    return this.#released;
  }
}
