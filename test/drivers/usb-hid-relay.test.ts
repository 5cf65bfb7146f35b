import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import { UsbHidRelayRegistry } from '../../drivers/hid/usb-relay.js';
import {
  channelEnergised,
  encodeAllCommand,
  encodeChannelCommand,
  parseStateReport,
} from '../../drivers/hid/usb-relay-protocol.js';
import type { RelayDriver } from '../../drivers/types.js';
import { waitFor } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { ALL_OFF, ALL_ON, RELAY_1_OFF, RELAY_1_ON, RELAY_3_ON, STATE_QWERT_1_3_ID0, STATE_QWERT_1_3_ID1 } from './hid-test-vectors.js';
import { FakeHid, FakeUsbRelayBoard } from './support/fake-hid.js';

describe('USBRelay feature reports', () => {
  it('encodes the reference commands byte for byte', () => {
    expect([...encodeChannelCommand(3, true)]).toEqual(RELAY_3_ON);
    expect([...encodeChannelCommand(1, true)]).toEqual(RELAY_1_ON);
    expect([...encodeChannelCommand(1, false)]).toEqual(RELAY_1_OFF);
    expect([...encodeAllCommand(true)]).toEqual(ALL_ON);
    expect([...encodeAllCommand(false)]).toEqual(ALL_OFF);
    expect(() => encodeChannelCommand(9, true)).toThrow(RangeError);
  });

  it('parses serial and state from both report layouts', () => {
    for (const report of [STATE_QWERT_1_3_ID1, STATE_QWERT_1_3_ID0]) {
      const state = parseStateReport(Uint8Array.from(report));
      expect(state).toEqual({ serial: 'QWERT', mask: 5 });
      if (state === undefined) continue;
      expect([1, 2, 3].map((channel) => channelEnergised(state, channel))).toEqual([true, false, true]);
    }
    expect(parseStateReport(Uint8Array.from([0x01, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]))?.serial).toBe('\\x01\\xff');
    expect(parseStateReport(Uint8Array.from([1, 2, 3]))).toBeUndefined();
  });
});

describe('USB HID relay driver', () => {
  const supervisors: Supervisor<RelayDriver>[] = [];
  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.stop();
  });

  function setup(boards: FakeUsbRelayBoard[]) {
    const hid = new FakeHid();
    for (const board of boards) hid.add(board);
    const registry = new UsbHidRelayRegistry({ library: () => hid });
    return { hid, registry };
  }

  it('switches a channel with the exact report and verifies it by reading the state back', async () => {
    const board = new FakeUsbRelayBoard('QWERT', 4, '/dev/hidraw2');
    const { registry } = setup([board]);
    const relay = registry.relay({ deviceId: 'door:front', serial: 'QWERT', channel: 3 });
    await relay.open();
    await relay.set(true);
    expect(board.commands.map((c) => [...c])).toEqual([RELAY_3_ON]);
    expect(board.energised(3)).toBe(true);
    expect(relay.counters()).toMatchObject({ commandsSent: 1, commandFailures: 0, lastError: null, verifiedEnergised: true });
    await relay.set(false);
    expect(board.mask).toBe(0);
    expect(relay.counters().verifiedEnergised).toBe(false);
    await relay.close();
  });

  it('finds boards by their own serial, so two boards never swap, and shares a board between its channels', async () => {
    const first = new FakeUsbRelayBoard('AAAAA', 2, '/dev/hidraw1');
    const second = new FakeUsbRelayBoard('BBBBB', 2, '/dev/hidraw2');
    const { registry } = setup([first, second]);
    const back1 = registry.relay({ deviceId: 'door:back', serial: 'BBBBB', channel: 1 });
    const back2 = registry.relay({ deviceId: 'door:side', serial: 'BBBBB', channel: 2 });
    const front = registry.relay({ deviceId: 'door:front', serial: 'AAAAA', channel: 2 });
    await Promise.all([back1.open(), back2.open(), front.open()]);
    await back2.set(true);
    await front.set(true);
    expect([first.mask, second.mask]).toEqual([0b10, 0b10]);
    expect(second.handles.size).toBe(1);
    expect(first.handles.size).toBe(1);
    await Promise.all([back1.close(), back2.close(), front.close()]);
    expect(second.handles.size + first.handles.size).toBe(0);
  });

  it('rejects a command whose read-back disagrees, and counts it', async () => {
    const board = new FakeUsbRelayBoard('QWERT', 1, '/dev/hidraw2');
    board.stuckMask = 0b1;
    const { registry } = setup([board]);
    const relay = registry.relay({ deviceId: 'door:front', serial: 'QWERT', channel: 1 });
    await relay.open();
    await expect(relay.set(true)).rejects.toThrow('relay board "QWERT" channel 1 reads back off after the command to switch it on');
    expect(relay.counters()).toMatchObject({
      commandsSent: 1,
      commandFailures: 1,
      verifiedEnergised: false,
      details: { readbackMismatches: 1, faults: 0 },
    });
    expect(relay.counters().lastError).toContain('reads back off');
    await relay.close();
  });

  it('refuses an unknown serial or a channel the board does not have, naming what it found', async () => {
    const { registry } = setup([new FakeUsbRelayBoard('QWERT', 2, '/dev/hidraw2')]);
    await expect(registry.relay({ deviceId: 'door:a', serial: 'ZZZZZ', channel: 1 }).open()).rejects.toThrow(
      'no USBRelay board with serial "ZZZZZ" is connected (found "QWERT")',
    );
    await expect(registry.relay({ deviceId: 'door:b', serial: 'QWERT', channel: 4 }).open()).rejects.toThrow('has 2 relay(s); channel 4 does not exist');
  });

  it('unplug between commands: the presence check faults it, and it comes back in its intended state after replug', async () => {
    const board = new FakeUsbRelayBoard('QWERT', 2, '/dev/hidraw2');
    const { registry } = setup([board]);
    const relay = registry.relay({ deviceId: 'door:front', serial: 'QWERT', channel: 1, presenceCheckMs: 20 });
    const supervisor = new Supervisor<RelayDriver>(relay, { logger: memoryLogger('silent').logger, minBackoffMs: 10, maxBackoffMs: 40 });
    supervisors.push(supervisor);
    // What a door does: write its intended state whenever the relay comes online.
    supervisor.onOnline(() => void relay.set(true).catch(() => undefined));
    supervisor.start();
    await waitFor(() => board.energised(1), 'energised once online');

    board.unplug();
    await waitFor(() => supervisor.state !== 'online', 'offline after unplug');
    expect(relay.counters().details.faults).toBe(1);
    await expect(relay.set(false)).rejects.toThrow(/faulted|not open/);

    board.mask = 0; // a replugged board powers up released
    board.replug('/dev/hidraw9');
    await waitFor(() => supervisor.state === 'online' && board.energised(1), 'back online and re-energised');
  });

  it('a command on an unplugged board rejects and faults at once', async () => {
    const board = new FakeUsbRelayBoard('QWERT', 1, '/dev/hidraw2');
    const { registry } = setup([board]);
    const relay = registry.relay({ deviceId: 'door:front', serial: 'QWERT', channel: 1, presenceCheckMs: 60_000 });
    const faults: Error[] = [];
    relay.onFault((error) => faults.push(error));
    await relay.open();
    board.unplug();
    await expect(relay.set(true)).rejects.toThrow('could not access HID device');
    expect(faults).toHaveLength(1);
    await relay.close();
  });
});
