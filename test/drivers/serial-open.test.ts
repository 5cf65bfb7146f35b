import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SerialOpenError,
  classifyOpenFailure,
  openSerialPort,
} from '../../drivers/serial/open-serial-port.js';
import { closeQuietly } from '../../drivers/serial/port-io.js';
import { createPty, type PtyPair } from '../support/pty.js';

describe('classifyOpenFailure', () => {
  // The exact strings bindings-cpp builds from strerror() (serialport_unix.cpp).
  it.each([
    ['Error: No such file or directory, cannot open /dev/ttyUSB0', 'missing'],
    ['Error: No such device or address, cannot open /dev/ttyUSB0', 'missing'],
    ['Error: Permission denied, cannot open /dev/ttyUSB0', 'permission'],
    ['Error Resource temporarily unavailable Cannot lock port', 'locked'],
    ['Error: Device or resource busy, cannot open /dev/ttyUSB0', 'locked'],
    ['Error: Inappropriate ioctl for device setting custom baud rate of 9600', 'not-a-tty'],
    ['Error: Input/output error, cannot open /dev/ttyUSB0', 'other'],
  ] as const)('%s → %s', (message, failure) => {
    expect(classifyOpenFailure(new Error(message))).toBe(failure);
  });
});

describe('openSerialPort', () => {
  let dir: string;
  let pty: PtyPair | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-serial-'));
  });

  afterEach(async () => {
    await pty?.close();
    pty = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('names a missing device', async () => {
    const path = join(dir, 'ttyUSB-missing');
    const failure = openSerialPort({ path, baudRate: 9600 });
    await expect(failure).rejects.toBeInstanceOf(SerialOpenError);
    await expect(failure).rejects.toThrow(`no such device ${path}`);
  });

  it('says when the path is not a serial device', async () => {
    const path = join(dir, 'plain-file');
    await writeFile(path, '');
    await expect(openSerialPort({ path, baudRate: 9600 })).rejects.toThrow(`not a serial device: ${path}`);
  });

  it('refuses a port another process holds', async () => {
    pty = await createPty(dir, 'ttyLocked');
    const first = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    try {
      await expect(openSerialPort({ path: pty.devicePath, baudRate: 9600 })).rejects.toThrow(
        `port locked by another process: ${pty.devicePath}`,
      );
    } finally {
      await closeQuietly(first);
    }
  });
});
