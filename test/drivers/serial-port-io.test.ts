import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortMock, type SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useDirectIo } from '../../drivers/serial/direct-io.js';
import { openSerialPort } from '../../drivers/serial/open-serial-port.js';
import { closeQuietly, writeAndDrain } from '../../drivers/serial/port-io.js';
import { watchPortFault } from '../../drivers/serial/watch-port-fault.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';

const pattern = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff));

describe('serial port helpers on a pseudo-terminal', () => {
  let dir: string;
  let pty: PtyPair;
  let port: SerialPort | undefined;
  let host: HostPort | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-io-'));
    pty = await createPty(dir, 'ttyIO');
  });

  afterEach(async () => {
    pty.unstall();
    if (port !== undefined) await closeQuietly(port);
    port = undefined;
    await host?.close();
    host = undefined;
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writeAndDrain delivers the bytes before resolving', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    host = await openHost(pty.hostPath);
    await writeAndDrain(port, Uint8Array.from([0xa0, 0x01, 0x01, 0xa2]));
    expect([...(await host.readBytes(4))]).toEqual([0xa0, 0x01, 0x01, 0xa2]);
  });

  it('writeAndDrain rejects on a closed port instead of queueing forever', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    await closeQuietly(port);
    await expect(writeAndDrain(port, Uint8Array.from([1]))).rejects.toThrow(`serial port is not open: ${pty.devicePath}`);
  });

  it('writeAndDrain gives up when the device stops taking bytes', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    port.on('error', () => undefined);
    pty.stall();
    // Far more than a pty buffers, so the write itself cannot complete while socat is frozen.
    await expect(writeAndDrain(port, new Uint8Array(1 << 20), 300)).rejects.toThrow('did not take the data within 300 ms');
    pty.unstall();
  });

  it('watchPortFault reports an unplug of a port in use once, naming the path', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    const seen: Buffer[] = [];
    port.on('data', (chunk: Buffer) => seen.push(chunk));
    const faults: Error[] = [];
    watchPortFault(port, (error) => faults.push(error), { presenceCheckMs: 100 });
    host = await openHost(pty.hostPath);
    await host.write(Uint8Array.from([0x55]));
    await waitFor(() => seen.length > 0, 'byte from host');
    await pty.unplug();
    // serialport usually reports this itself ('close' with disconnected === true), but misses
    // roughly one unplug in twenty; the presence check covers those. Either way: one fault.
    await waitFor(() => faults.length > 0, 'fault');
    await closeQuietly(port);
    await new Promise((resolve) => setTimeout(resolve, 250)); // give a second report the chance to appear
    expect(faults).toHaveLength(1);
    expect(faults[0]?.message).toMatch(new RegExp(`^device disconnected: ${pty.devicePath}`));
  });

  it('watchPortFault treats an error event after open as a fault', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    const faults: Error[] = [];
    watchPortFault(port, (error) => faults.push(error), { presenceCheckMs: 60_000 });
    port.emit('error', new Error('Input/output error'));
    port.emit('error', new Error('second error'));
    expect(faults.map((f) => f.message)).toEqual([`serial port failed: ${pty.devicePath}: Input/output error`]);
  });

  it('watchPortFault notices an unplug that serialport misses (hang-up before the first read)', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    const faults: Error[] = [];
    watchPortFault(port, (error) => faults.push(error), { presenceCheckMs: 50 });
    await pty.unplug();
    // The first read now meets a hung-up tty: read() returns 0 and serialport retries forever.
    port.on('data', () => undefined);
    await waitFor(() => faults.length > 0, 'fault from the presence check');
    expect(faults).toHaveLength(1);
    expect(faults[0]?.message).toBe(`device disconnected: ${pty.devicePath} (device node vanished)`);
    await closeQuietly(port);
    expect(port.isOpen).toBe(false);
  });

  it('watchPortFault stays quiet once stopped, so our own close is not a fault', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    const faults: Error[] = [];
    const stop = watchPortFault(port, (error) => faults.push(error));
    stop();
    await closeQuietly(port);
    expect(port.isOpen).toBe(false);
    expect(faults).toEqual([]);
  });

  // Direct I/O (direct-io.ts): openSerialPort reads and writes on the event loop.
  it('is what openSerialPort gives on a unix tty, and carries every byte both ways in order', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    expect(Object.hasOwn(port.port ?? {}, 'read')).toBe(true);
    expect(Object.hasOwn(port.port ?? {}, 'write')).toBe(true);
    const received: Buffer[] = [];
    port.on('data', (chunk: Buffer) => received.push(chunk));
    host = await openHost(pty.hostPath);

    const fromHost = pattern(20_000, 7);
    for (let offset = 0; offset < fromHost.length; offset += 1000) await host.write(fromHost.subarray(offset, offset + 1000));
    await waitFor(() => Buffer.concat(received).length >= fromHost.length, 'all bytes from the host');
    expect(Buffer.concat(received).equals(fromHost)).toBe(true);

    const toHost = pattern(20_000, 3);
    await writeAndDrain(port, toHost);
    expect((await host.readBytes(toHost.length)).equals(toHost)).toBe(true);
  });

  it('finishes a write the tty could not take at once when the device takes bytes again', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    host = await openHost(pty.hostPath);
    pty.stall();
    // Far more than a pty buffers: the first write(2) is partial, then EAGAIN until socat runs again.
    const bytes = pattern(256 * 1024, 11);
    let done = false;
    const written = writeAndDrain(port, bytes, 600_000).then(() => {
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    pty.unstall();
    expect((await host.readBytes(bytes.length, 60_000)).equals(bytes)).toBe(true);
    await written;
  });

  it('closing the port ends a pending read quietly (canceled, not a fault)', async () => {
    port = await openSerialPort({ path: pty.devicePath, baudRate: 9600 });
    const faults: Error[] = [];
    const errors: Error[] = [];
    port.on('error', (error: Error) => errors.push(error));
    // A data listener starts a read, which waits on the poller: nothing is coming.
    port.on('data', () => undefined);
    const stop = watchPortFault(port, (error) => faults.push(error), { presenceCheckMs: 60_000 });
    await new Promise((resolve) => setImmediate(resolve));
    stop();
    await closeQuietly(port);
    expect(port.isOpen).toBe(false);
    expect(faults).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('leaves a port whose binding has no descriptor as it is', async () => {
    SerialPortMock.binding.createPort('/dev/mock0');
    const mock = new SerialPortMock({ path: '/dev/mock0', baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => mock.open((error) => (error ? reject(error) : resolve())));
    try {
      expect(useDirectIo(mock as unknown as SerialPort)).toBe(false);
      expect(Object.hasOwn(mock.port ?? {}, 'read')).toBe(false);
    } finally {
      await new Promise((resolve) => mock.close(resolve));
      SerialPortMock.binding.reset();
    }
  });
});
