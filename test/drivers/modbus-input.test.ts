/**
 * Modbus-RTU discrete inputs (door contact, REX) polled with FC02 on a real
 * pseudo-terminal, sharing the port with a relay, against the slave emulator.
 * Frames checked byte for byte (Modbus application protocol v1.1b3 §6.2; CRC
 * as in the hardware reference).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import type { ModbusDiscreteInput, ModbusInputOptions } from '../../drivers/modbus/discrete-input.js';
import { ModbusRelayRegistry } from '../../drivers/modbus/relay.js';
import fc from 'fast-check';
import { decodeBits, encodeReadDiscreteInputs } from '../../drivers/modbus/rtu-frames.js';
import { fcOptions } from '../support/fast-check.js';
import { createPty, waitFor, type PtyPair } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { ModbusSlaves } from './support/modbus-slave.js';

const hex = (frame: readonly number[] | Uint8Array) => Buffer.from(frame).toString('hex').toUpperCase();
const logger = memoryLogger('fatal').logger;

/** Read discrete input 0 of slave 1, and the two answers (input off / on). */
const READ_INPUT_0 = '010200000001B9CA';
const REPLY_OFF = '01020100A188';
const REPLY_ON = '010201016048';

describe('FC02 frames', () => {
  it('encodes read discrete inputs with the reference CRC', () => {
    expect(hex(encodeReadDiscreteInputs(1, 0, 1))).toBe(READ_INPUT_0);
    expect(hex(encodeReadDiscreteInputs(2, 3, 1))).toBe('020200030001' + '49F9');
    expect(() => encodeReadDiscreteInputs(0, 0, 1)).toThrow(RangeError);
  });

  it('decodes the bits of a reply, bit 0 of the first byte first, and refuses a wrong byte count', () => {
    const reply = (h: string) => {
      const frame = Buffer.from(h, 'hex');
      return { slave: frame[0] ?? 0, functionCode: frame[1] ?? 0, pdu: frame.subarray(1, frame.length - 2), frame };
    };
    expect(decodeBits(reply(REPLY_ON), 1)).toEqual([true]);
    expect(decodeBits(reply(REPLY_OFF), 1)).toEqual([false]);
    expect(decodeBits(reply('0102020501' + '0000'), 10)).toEqual([true, false, true, false, false, false, false, false, true, false]);
    expect(() => decodeBits(reply(REPLY_ON), 9)).toThrow(/expected 2 data byte/);
  });
});

describe('Modbus-RTU discrete inputs on a pseudo-terminal', () => {
  let dir: string;
  let pty: PtyPair;
  let slaves: ModbusSlaves;
  let registry: ModbusRelayRegistry;
  const supervisors: Supervisor<ModbusDiscreteInput>[] = [];
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-modbus-in-'));
    pty = await createPty(dir, 'ttyRS485');
    slaves = await ModbusSlaves.attach(pty.hostPath, [1, 2]);
    registry = new ModbusRelayRegistry({ presenceCheckMs: 100, interByteTimeoutMs: 50 });
  });

  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.stop();
    for (const close of closers.splice(0)) await close();
    await slaves.close();
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });

  function input(options: Partial<ModbusInputOptions> = {}) {
    const handle = registry.input({ deviceId: 'door:front:contact', path: pty.devicePath, slave: 1, input: 0, pollIntervalMs: 20, responseTimeoutMs: 1_500, ...options });
    closers.push(() => handle.close());
    const levels: boolean[] = [];
    handle.onChange((active) => levels.push(active));
    const faults: Error[] = [];
    handle.onFault((error) => faults.push(error));
    return { handle, levels, faults };
  }

  it('reports the level read on open, then every change, polling with the reference frame', async () => {
    const { handle, levels } = input();
    await handle.open();
    expect(levels).toEqual([false]);
    expect(handle.level).toBe(false);
    expect(hex(slaves.requests[0]?.frame ?? [])).toBe(READ_INPUT_0);
    slaves.inputs.set(1, [true, false]);
    await waitFor(() => levels.length === 2, 'the contact opens');
    slaves.inputs.set(1, [false, false]);
    await waitFor(() => levels.length === 3, 'the contact closes');
    expect(levels).toEqual([false, true, false]);
    const polls = slaves.requests.filter((r) => r.functionCode === 0x02);
    expect(polls.every((r) => hex(r.frame) === READ_INPUT_0)).toBe(true);
    expect(handle.counters().changes).toBe(3);
  });

  it('inverts the wire level when configured (normally-closed wiring that reads 1 when shut)', async () => {
    slaves.inputs.set(2, [false, false, false, true]);
    const { handle, levels } = input({ slave: 2, input: 3, invert: true });
    await handle.open();
    expect(levels).toEqual([false]);
    expect(hex(slaves.requests[0]?.frame ?? [])).toBe('02020003000149F9');
    slaves.inputs.set(2, [false, false, false, false]);
    await waitFor(() => levels.length === 2, 'the contact opens');
    expect(levels).toEqual([false, true]);
  });

  it('shares the port with a relay on the same board: polls and coil writes interleave', async () => {
    const relay = registry.relay({ deviceId: 'door:front', path: pty.devicePath, slave: 1, coil: 0, responseTimeoutMs: 1_500 });
    closers.push(() => relay.close());
    const { handle, levels } = input();
    await relay.open();
    await handle.open(); // would fail as "locked" if it opened the device a second time
    await relay.set(true);
    slaves.inputs.set(1, [true]);
    await waitFor(() => levels.includes(true), 'the contact opens');
    await relay.set(false);
    expect(slaves.coil(1, 0)).toBe(false);
    expect(slaves.writes().map((w) => hex(w.frame))).toEqual(['01050000FF008C3A', '010500000000CDCA']);
  });

  it('refuses an input whose line settings differ from the port\'s, and a second user of one input', () => {
    registry.relay({ deviceId: 'door:front', path: pty.devicePath, slave: 1, coil: 0 });
    expect(() => registry.input({ deviceId: 'door:front:rex', path: pty.devicePath, slave: 1, input: 1, baudRate: 19_200 })).toThrow(
      /already used at 9600 8N1; input door:front:rex asks for 19200 8N1/,
    );
    input();
    expect(() => registry.input({ deviceId: 'door:back:contact', path: pty.devicePath, slave: 1, input: 0 })).toThrow(/already used by door:front:contact/);
  });

  it('does not open when the board does not answer, and faults after failed polls; the supervisor reopens it', async () => {
    slaves.silent.add(1);
    const bare = registry.input({ deviceId: 'door:x:contact', path: pty.devicePath, slave: 1, input: 5, responseTimeoutMs: 100 });
    closers.push(() => bare.close());
    await expect(bare.open()).rejects.toThrow(/did not report input 5/);
    slaves.silent.delete(1);

    const { handle, faults } = input({ responseTimeoutMs: 100, faultAfterFailures: 2 });
    const supervisor = new Supervisor(handle, { logger, minBackoffMs: 50, maxBackoffMs: 100 });
    supervisors.push(supervisor);
    supervisor.start();
    await waitFor(() => supervisor.state === 'online', 'input online');
    slaves.silent.add(1);
    await waitFor(() => faults.length === 1, 'the input faults');
    expect(handle.level).toBeNull();
    expect(faults[0]?.message).toMatch(/no reply from Modbus slave 1/);
    slaves.silent.delete(1);
    await waitFor(() => supervisor.state === 'online' && handle.level === false, 'back online with a fresh reading');
  });

  it('an exception reply is a failed poll with the board\'s reason', async () => {
    const { handle } = input({ input: 20 });
    await expect(handle.open()).rejects.toThrow(/illegal data address/);
  });
});

describe('FC02 reply bits from garbage', () => {
  it('returns the asked number of bits or throws a RangeError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 2000 }), (pdu, quantity) => {
        const buffer = Buffer.from(pdu);
        try {
          expect(decodeBits({ slave: 1, functionCode: 2, pdu: buffer, frame: buffer }, quantity)).toHaveLength(quantity);
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
        }
      }),
      fcOptions(2000),
    );
  });
});
