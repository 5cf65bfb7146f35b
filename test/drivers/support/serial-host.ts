/**
 * Opens the host side of a pty pair for a device emulator: raw chunks in,
 * ordered writes out. Writes are chained so that an emulator answering two
 * commands quickly never interleaves their bytes.
 */
import { SerialPort } from 'serialport';

export interface RawHost {
  onData(listener: (chunk: Buffer) => void): void;
  /** Queues bytes; resolves once they are drained. Never rejects (the pty may be gone). */
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export async function openRawHost(path: string, baudRate = 9600): Promise<RawHost> {
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const candidate = new SerialPort({ path, baudRate, autoOpen: false });
    candidate.open((error) => (error ? reject(error) : resolve(candidate)));
  });
  // The host side dies with socat on unplug; that is expected, not a test failure.
  port.on('error', () => undefined);
  let tail: Promise<void> = Promise.resolve();
  return {
    onData: (listener) => {
      port.on('data', listener);
    },
    write: (bytes) => {
      const next = tail.then(
        () =>
          new Promise<void>((resolve) => {
            if (!port.isOpen) {
              resolve();
              return;
            }
            port.write(Buffer.from(bytes));
            port.drain(() => resolve());
          }),
      );
      tail = next;
      return next;
    },
    close: () =>
      new Promise((resolve) => {
        if (!port.isOpen) {
          resolve();
          return;
        }
        port.close(() => resolve());
      }),
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
