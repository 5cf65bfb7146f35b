import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LcusRelayRegistry } from '../../drivers/lcus/relay.js';
import { openSerialPort } from '../../drivers/serial/open-serial-port.js';
import { closeQuietly } from '../../drivers/serial/port-io.js';
import type { RelayDriver } from '../../drivers/types.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase().match(/../g)?.join(' ') ?? '';

describe('LCUS relay on a pseudo-terminal', () => {
  let dir: string;
  let pty: PtyPair;
  let host: HostPort | undefined;
  let registry: LcusRelayRegistry;
  const relays: RelayDriver[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-lcus-'));
    pty = await createPty(dir, 'ttyLCUS');
    registry = new LcusRelayRegistry();
  });

  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.close();
    await host?.close();
    host = undefined;
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });

  function relay(channel: number, deviceId = `door:ch${channel}`) {
    const handle = registry.relay({ deviceId, path: pty.devicePath, channel });
    relays.push(handle);
    const faults: Error[] = [];
    handle.onFault((error) => faults.push(error));
    return { handle, faults };
  }

  async function connectHost(): Promise<HostPort> {
    host = await openHost(pty.hostPath);
    return host;
  }

  /** True when nobody holds the device: we can open (and release) it ourselves. */
  async function portIsFree(): Promise<boolean> {
    try {
      await closeQuietly(await openSerialPort({ path: pty.devicePath, baudRate: 9600 }));
      return true;
    } catch {
      return false;
    }
  }

  it('energises and releases channel 1 with the exact frames', async () => {
    const { handle } = relay(1);
    await handle.open();
    const board = await connectHost();
    await handle.set(true);
    expect(hex(await board.readBytes(4))).toBe('A0 01 01 A2');
    await handle.set(false);
    expect(hex(await board.readBytes(4))).toBe('A0 01 00 A1');
    expect(board.pending()).toHaveLength(0);
  });

  it('shares one port between two channels of one board', async () => {
    const one = relay(1, 'door:front');
    const two = relay(2, 'door:back');
    await one.handle.open();
    await two.handle.open(); // would fail as "locked" if it opened the device a second time
    expect(await portIsFree()).toBe(false);
    const board = await connectHost();
    await one.handle.set(true);
    await two.handle.set(true);
    expect(hex(await board.readBytes(8))).toBe('A0 01 01 A2 A0 02 01 A3');
  });

  it('keeps the port open until the last channel closes', async () => {
    const one = relay(1);
    const two = relay(2);
    await one.handle.open();
    await two.handle.open();
    const board = await connectHost();

    await one.handle.close();
    await expect(one.handle.set(true)).rejects.toThrow('relay door:ch1 is not open');
    await two.handle.set(true);
    expect(hex(await board.readBytes(4))).toBe('A0 02 01 A3');
    expect(await portIsFree()).toBe(false);

    await two.handle.close();
    expect(await portIsFree()).toBe(true);
  });

  it('faults every channel on the board once when it is unplugged, then recovers after replug', async () => {
    const one = relay(1);
    const two = relay(2);
    await one.handle.open();
    await two.handle.open();
    await connectHost();

    await pty.unplug();
    await waitFor(() => one.faults.length === 1 && two.faults.length === 1, 'both channels faulted');
    expect(one.faults[0]?.message).toContain(pty.devicePath);
    await expect(one.handle.set(true)).rejects.toThrow('relay door:ch1 is faulted');
    await host?.close();
    host = undefined;

    // The supervisor's recovery: close, replug, reopen.
    await one.handle.close();
    await two.handle.close();
    await one.handle.close(); // idempotent
    expect(one.faults).toHaveLength(1);
    expect(two.faults).toHaveLength(1);

    await pty.replug();
    await one.handle.open();
    await two.handle.open();
    const board = await connectHost();
    await two.handle.set(false);
    expect(hex(await board.readBytes(4))).toBe('A0 02 00 A2');
    expect(one.faults).toHaveLength(1);
    expect(two.faults).toHaveLength(1);
  });

  it('rejects set() on a relay that was never opened', async () => {
    const { handle } = relay(3);
    await expect(handle.set(true)).rejects.toThrow('relay door:ch3 is not open');
  });

  it('rejects open() with a clear message when the board is missing', async () => {
    const path = join(dir, 'ttyUSB-not-there');
    const handle = registry.relay({ deviceId: 'door:ghost', path, channel: 1 });
    relays.push(handle);
    await expect(handle.open()).rejects.toThrow(`no such device ${path}`);
    await expect(handle.set(true)).rejects.toThrow('not open');
  });

  it('refuses a second channel on the same board at a different baud rate', () => {
    relay(1);
    expect(() => registry.relay({ deviceId: 'door:x', path: pty.devicePath, channel: 2, baudRate: 19200 })).toThrow(
      /already used at 9600 baud/,
    );
  });

  it('refuses channels outside 1..8', () => {
    expect(() => registry.relay({ deviceId: 'door:x', path: pty.devicePath, channel: 9 })).toThrow(RangeError);
  });
});
