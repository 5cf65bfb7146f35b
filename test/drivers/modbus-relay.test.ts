import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import { ModbusRelayRegistry, type ModbusCoilRelay, type ModbusRelayOptions } from '../../drivers/modbus/relay.js';
import { openSerialPort } from '../../drivers/serial/open-serial-port.js';
import { closeQuietly } from '../../drivers/serial/port-io.js';
import { createPty, waitFor, type PtyPair } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { ModbusSlaves, type ReplyDelivery } from './support/modbus-slave.js';
import { delay } from './support/serial-host.js';
import { writeCoilVectors } from './modbus-test-vectors.js';

const hex = (frame: readonly number[] | Uint8Array) => Buffer.from(frame).toString('hex').toUpperCase();

describe('Modbus-RTU relays on a pseudo-terminal', () => {
  let dir: string;
  let pty: PtyPair;
  let slaves: ModbusSlaves | undefined;
  let registry: ModbusRelayRegistry;
  const relays: ModbusCoilRelay[] = [];
  const supervisors: Supervisor<ModbusCoilRelay>[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-modbus-'));
    pty = await createPty(dir, 'ttyRS485');
    registry = new ModbusRelayRegistry({ presenceCheckMs: 100, interByteTimeoutMs: 50 });
  });

  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.stop();
    for (const relay of relays.splice(0)) await relay.close();
    await slaves?.close();
    slaves = undefined;
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function attachSlaves(addresses: readonly number[] = [1]): Promise<ModbusSlaves> {
    slaves = await ModbusSlaves.attach(pty.hostPath, addresses);
    return slaves;
  }

  /** Generous reply timeout: the machine may be loaded; timeout tests set their own. */
  function relay(options: Partial<ModbusRelayOptions> = {}) {
    const handle = registry.relay({
      deviceId: `door:s${options.slave ?? 1}c${options.coil ?? 0}`,
      path: pty.devicePath,
      slave: 1,
      coil: 0,
      responseTimeoutMs: 1_500,
      ...options,
    });
    relays.push(handle);
    const faults: Error[] = [];
    handle.onFault((error) => faults.push(error));
    return { handle, faults };
  }

  it('probes the board on open, then energises and releases coil 0 with the reference frames', async () => {
    const bus = await attachSlaves();
    const { handle } = relay();
    await handle.open();
    // FC01, one coil at address 0.
    expect(hex(bus.requests[0]?.frame ?? [])).toBe('01010000' + '0001FDCA');
    await handle.set(true);
    await handle.set(false);
    expect(bus.writes().map((w) => hex(w.frame))).toEqual([hex(writeCoilVectors[0]?.frame ?? []), hex(writeCoilVectors[1]?.frame ?? [])]);
    expect(hex(writeCoilVectors[0]?.frame ?? [])).toBe('01050000FF008C3A');
    expect(bus.coil(1, 0)).toBe(false);
  });

  it('shares one port between coils of one board and boards at other slave addresses', async () => {
    const bus = await attachSlaves([1, 2]);
    const one = relay({ slave: 1, coil: 0 });
    const two = relay({ slave: 1, coil: 1 });
    const three = relay({ slave: 2, coil: 0 });
    await one.handle.open();
    await two.handle.open(); // would fail as "locked" if it opened the device a second time
    await three.handle.open();
    await Promise.all([one.handle.set(true), two.handle.set(true), three.handle.set(true)]);
    expect(bus.writes().map((w) => hex(w.frame)).sort()).toEqual(
      [writeCoilVectors[0], writeCoilVectors[2], writeCoilVectors[6]].map((v) => hex(v?.frame ?? [])).sort(),
    );
    expect([bus.coil(1, 0), bus.coil(1, 1), bus.coil(2, 0), bus.coil(2, 1)]).toEqual([true, true, true, false]);
  });

  it.each(['together', 'split', 'bytewise'] as const satisfies readonly ReplyDelivery[])('accepts a reply delivered %s', async (delivery) => {
    const bus = await attachSlaves();
    bus.delivery = delivery;
    const { handle } = relay();
    await handle.open();
    await handle.set(true);
    expect(bus.coil(1, 0)).toBe(true);
  });

  it('finds the reply behind noise and a stray reply from another slave', async () => {
    const bus = await attachSlaves();
    const { handle } = relay();
    await handle.open();
    bus.noiseBeforeNextReply = [0x00, 0xff, 0x13, 0x37];
    bus.strayBeforeNextReply = true;
    await handle.set(true);
    expect(handle.counters().details).toMatchObject({ strayReplies: 1 });
    expect(handle.counters().details.garbageBytes).toBeGreaterThan(0);
  });

  it('rejects set() when the reply does not echo the request', async () => {
    const bus = await attachSlaves();
    const { handle, faults } = relay();
    await handle.open();
    bus.badEchoes = 1;
    await expect(handle.set(true)).rejects.toThrow(/does not echo the request/);
    expect(handle.counters().details.badEchoes).toBe(1);
    await handle.set(true); // the next command works; a wrong echo is not a fault of the link
    expect(faults).toEqual([]);
  });

  it('rejects set() with the exception the board returned', async () => {
    const bus = await attachSlaves();
    const { handle } = relay({ coil: 7 });
    await handle.open();
    bus.exceptionNext = 0x02;
    await expect(handle.set(true)).rejects.toThrow('exception 02 (illegal data address)');
  });

  it('treats a reply with a bad CRC as no reply and succeeds on the retry', async () => {
    const bus = await attachSlaves();
    const { handle } = relay({ responseTimeoutMs: 300, retries: 1 });
    await handle.open();
    bus.corruptReplies = 1;
    await handle.set(true);
    expect(bus.writes()).toHaveLength(2);
    expect(handle.counters().details.badCrc).toBeGreaterThanOrEqual(1);
    expect(handle.counters().details.timeouts).toBe(1);
  });

  it('rejects set() on timeout, and faults every relay of a board after N timeouts in a row, not the others', async () => {
    const bus = await attachSlaves([1, 2]);
    const a = relay({ slave: 1, coil: 0, responseTimeoutMs: 150, retries: 0, faultAfterTimeouts: 2 });
    const b = relay({ slave: 1, coil: 1, responseTimeoutMs: 150, retries: 0, faultAfterTimeouts: 2 });
    const other = relay({ slave: 2, coil: 0 });
    for (const r of [a, b, other]) await r.handle.open();
    bus.silent.add(1);
    await expect(a.handle.set(true)).rejects.toThrow(/no reply from Modbus slave 1 .* within 150 ms/);
    expect(a.faults).toEqual([]);
    await expect(b.handle.set(true)).rejects.toThrow(/no reply/);
    expect(a.faults).toHaveLength(1);
    expect(b.faults).toHaveLength(1);
    expect(a.faults[0]?.message).toMatch(/Modbus slave 1 on .* stopped answering/);
    await expect(a.handle.set(true)).rejects.toThrow('relay door:s1c0 is faulted');
    await other.handle.set(true);
    expect(other.faults).toEqual([]);

    // The supervisor's recovery: close, and open again, which probes the board.
    await a.handle.close();
    await expect(a.handle.open()).rejects.toThrow(/Modbus slave 1 on .* did not answer/);
    bus.silent.delete(1);
    await a.handle.open();
    await a.handle.set(true);
    expect(bus.coil(1, 0)).toBe(true);
  });

  it('rejects open() with a clear message when the board does not answer, or the port is missing', async () => {
    await attachSlaves([2]);
    const { handle } = relay({ slave: 1, responseTimeoutMs: 100, retries: 0 });
    await expect(handle.open()).rejects.toThrow(/Modbus slave 1 on .* did not answer: no reply/);
    const ghostPath = join(dir, 'ttyUSB-none');
    const ghost = registry.relay({ deviceId: 'door:ghost', path: ghostPath, slave: 1, coil: 0 });
    relays.push(ghost);
    await expect(ghost.open()).rejects.toThrow(`no such device ${ghostPath}`);
    await expect(ghost.set(true)).rejects.toThrow('not open');
  });

  it('closes the port when the last relay closes', async () => {
    await attachSlaves();
    const one = relay({ coil: 0 });
    const two = relay({ coil: 1 });
    await one.handle.open();
    await two.handle.open();
    const portIsFree = async () => {
      try {
        await closeQuietly(await openSerialPort({ path: pty.devicePath, baudRate: 9600 }));
        return true;
      } catch {
        return false;
      }
    };
    await one.handle.close();
    expect(await portIsFree()).toBe(false);
    await two.handle.set(true);
    await two.handle.close();
    expect(await portIsFree()).toBe(true);
  });

  it('faults every relay on the port once when it is unplugged, then recovers after replug', async () => {
    await attachSlaves([1, 2]);
    const one = relay({ slave: 1 });
    const two = relay({ slave: 2 });
    await one.handle.open();
    await two.handle.open();
    await pty.unplug();
    await slaves?.close();
    slaves = undefined;
    await waitFor(() => one.faults.length === 1 && two.faults.length === 1, 'both relays faulted');
    expect(one.faults[0]?.message).toContain(pty.devicePath);
    await expect(one.handle.set(true)).rejects.toThrow(/faulted/);
    await one.handle.close();
    await two.handle.close();

    await pty.replug();
    const bus = await attachSlaves([1, 2]);
    await one.handle.open();
    await two.handle.open();
    await two.handle.set(true);
    expect(bus.coil(2, 0)).toBe(true);
    expect(one.faults).toHaveLength(1);
    expect(two.faults).toHaveLength(1);
  });

  it('under the supervisor: offline on unplug, online again after replug', async () => {
    await attachSlaves();
    const { handle } = relay();
    const supervisor = new Supervisor(handle, { logger: memoryLogger('silent').logger });
    supervisors.push(supervisor);
    supervisor.start();
    await waitFor(() => supervisor.state === 'online', 'online');
    await pty.unplug();
    await slaves?.close();
    slaves = undefined;
    await waitFor(() => supervisor.state === 'offline', 'offline');
    await delay(300);
    await pty.replug();
    const bus = await attachSlaves();
    await waitFor(() => supervisor.state === 'online', 'online after replug', 15_000);
    await handle.set(true);
    expect(bus.coil(1, 0)).toBe(true);
  });

  it('refuses the same coil twice and a second line setting on one port', () => {
    relay({ coil: 3 });
    expect(() => registry.relay({ deviceId: 'door:x', path: pty.devicePath, slave: 1, coil: 3 })).toThrow(/already used by door:s1c3/);
    expect(() => registry.relay({ deviceId: 'door:y', path: pty.devicePath, slave: 2, coil: 0, baudRate: 19200 })).toThrow(
      /already used at 9600 8N1; relay door:y asks for 19200 8N1/,
    );
  });
});
