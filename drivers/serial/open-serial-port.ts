import { SerialPort } from 'serialport';
import { useDirectIo } from './direct-io.js';

export interface SerialPortTarget {
  readonly path: string;
  readonly baudRate: number;
  /** 8N1 unless set; RS-485 Modbus devices are often 8E1. */
  readonly parity?: 'none' | 'even' | 'odd';
  readonly stopBits?: 1 | 2;
}

/** Opens a port; injectable so drivers can be wired to another binding. */
export type OpenSerialPort = (target: SerialPortTarget) => Promise<SerialPort>;

export type SerialOpenFailure = 'missing' | 'permission' | 'locked' | 'not-a-tty' | 'other';

/** Why a serial device could not be opened, phrased for the person reading the log. */
export class SerialOpenError extends Error {
  override readonly name = 'SerialOpenError';

  constructor(
    readonly path: string,
    readonly failure: SerialOpenFailure,
    cause: unknown,
  ) {
    super(describeOpenFailure(path, failure, cause), { cause });
  }
}

/**
 * The native binding reports failures only as strerror() text (no errno or
 * code property), e.g. "Error: No such file or directory, cannot open /dev/x"
 * or "Error Resource temporarily unavailable Cannot lock port".
 */
export function classifyOpenFailure(cause: unknown): SerialOpenFailure {
  const text = cause instanceof Error ? cause.message : String(cause);
  if (/no such file or directory|no such device/i.test(text)) return 'missing';
  if (/permission denied|operation not permitted/i.test(text)) return 'permission';
  if (/cannot lock port|resource temporarily unavailable|device or resource busy/i.test(text)) return 'locked';
  if (/inappropriate ioctl|not a typewriter/i.test(text)) return 'not-a-tty';
  return 'other';
}

function describeOpenFailure(path: string, failure: SerialOpenFailure, cause: unknown): string {
  switch (failure) {
    case 'missing':
      // §8 of the hardware reference: brltty claims CH340 adapters on Ubuntu and the tty vanishes.
      return `no such device ${path} (is it plugged in? on Ubuntu, brltty can claim CH340 adapters)`;
    case 'permission':
      return `permission denied: add the user to group dialout (${path})`;
    case 'locked':
      return `port locked by another process: ${path}`;
    case 'not-a-tty':
      return `not a serial device: ${path}`;
    case 'other':
      return `cannot open serial port ${path}: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
}

/**
 * Opens a real serial port and turns binding errors into a SerialOpenError
 * naming the path. Reads and writes then run on the event loop (direct-io.ts).
 */
export const openSerialPort: OpenSerialPort = ({ path, baudRate, parity = 'none', stopBits = 1 }) =>
  new Promise((resolve, reject) => {
    const fail = (cause: unknown) => reject(new SerialOpenError(path, classifyOpenFailure(cause), cause));
    let port: SerialPort;
    try {
      // lock: true makes a second opener fail loudly instead of two drivers sharing one device.
      port = new SerialPort({ path, baudRate, parity, stopBits, autoOpen: false, lock: true });
    } catch (cause) {
      fail(cause);
      return;
    }
    port.open((error) => {
      if (error) {
        fail(error);
        return;
      }
      // Before any listener starts a read, so every read and write goes the direct way.
      useDirectIo(port);
      resolve(port);
    });
  });
