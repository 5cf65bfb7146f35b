/**
 * The OSDP CP against the emulated PDs on a socat pty pair: discovery, card
 * and keypad reads, outputs, inputs, tamper, the secure channel (install,
 * stored key, required mode), lost replies, corrupt CRC, wrong MAC, unplug
 * and replug, eight PDs on one bus, COMSET.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../../daemon/runtime/supervisor.js';
import { CMD } from '../../../drivers/osdp/constants.js';
import type { OsdpInput } from '../../../drivers/osdp/input.js';
import type { OsdpOutputRelay } from '../../../drivers/osdp/output-relay.js';
import type { OsdpDeviceEvent, OsdpReader } from '../../../drivers/osdp/reader.js';
import { OsdpRegistry, type OsdpBusOptions } from '../../../drivers/osdp/registry.js';
import type { PresentedCredential } from '../../../drivers/types.js';
import { encodeWiegand } from '../../../drivers/wiegand/decode.js';
import { EmulatedPd, OsdpPdEmulator, type EmulatorOptions } from '../../support/osdp-pd-emulator/emulator.js';
import type { EmulatedPdOptions } from '../../support/osdp-pd-emulator/pd.js';
import { createPty, waitFor, type PtyPair } from '../../support/pty.js';
import { memoryLogger } from '../../support/site.js';
import { tempDir } from '../../support/temp-dir.js';

const FAST: Partial<OsdpBusOptions> = { pollIntervalMs: 10, replyTimeoutMs: 100, offlineAfterMs: 1_500, reconnectMs: 200, connectTimeoutMs: 8_000 };
const H10301 = (facility: number, card: number) => encodeWiegand('h10301', { facility, card });

describe('OSDP CP on a pty bus with emulated PDs', () => {
  let dir: ReturnType<typeof tempDir>;
  let pty: PtyPair;
  let emulator: OsdpPdEmulator | undefined;
  const log = memoryLogger('debug');
  const cleanups: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    dir = tempDir('gatehouse-osdp-');
    pty = await createPty(dir.path, 'ttyOSDP');
    log.lines.length = 0;
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await emulator?.close();
    emulator = undefined;
    await pty.close();
    dir.remove();
  });

  async function startEmulator(pds: EmulatedPdOptions[], options: EmulatorOptions = { echo: true }): Promise<OsdpPdEmulator> {
    emulator = await OsdpPdEmulator.open(pty.hostPath, pds.map((pd) => new EmulatedPd(pd)), options);
    return emulator;
  }

  function registry(bus: Partial<OsdpBusOptions> = {}, keysFile: string | null = join(dir.path, 'osdp-keys.json')): OsdpRegistry {
    return new OsdpRegistry({
      buses: { main: { path: pty.devicePath, secureChannel: 'off', ...FAST, ...bus } },
      keysFile,
      logger: log.logger,
      presenceCheckMs: 100,
    });
  }

  async function openReader(reg: OsdpRegistry, address = 0, id = `reader-${address}`): Promise<{ reader: OsdpReader; reads: PresentedCredential[] }> {
    const reader = reg.reader({ deviceId: id, bus: 'main', address, wiegandFormats: ['h10301'], cardFormat: 'decimal10' });
    const reads: PresentedCredential[] = [];
    reader.onRead((credential) => reads.push(credential));
    await reader.open();
    cleanups.push(() => reader.close());
    return { reader, reads };
  }

  const cardNumbers = (reads: PresentedCredential[]) => reads.flatMap((read) => (read.kind === 'card' ? [read.number.reveal()] : []));

  it('discovers the PD and turns RAW card data and KEYPAD keys into reads, with LED and buzzer feedback', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const { reader, reads } = await openReader(registry());
    const counters = reader.counters();
    expect(counters).toMatchObject({ online: 1, secure: 0, vendorOui: 0x0a0b0c, serialNumber: 0x11223344, firmware: 10203, capOutputs: 2, capInputs: 2 });

    const bits = H10301(123, 4567);
    emu.pd(0).presentCard(bits.value, bits.length);
    await waitFor(() => reads.length === 1, 'card read');
    expect(cardNumbers(reads)).toEqual(['0008065495']);

    emu.pd(0).typeKeys('1234#');
    await waitFor(() => reads.length === 2, 'keystrokes');
    const keys = reads[1];
    expect(keys?.kind === 'keystrokes' ? keys.keys.reveal() : null).toBe('1234#');

    reader.feedback('granted');
    await waitFor(() => emu.pd(0).received.some((c) => c.code === CMD.BUZ), 'LED and BUZ');
    const led = emu.pd(0).received.find((c) => c.code === CMD.LED);
    expect(led?.data[5]).toBe(2); // temporary colour green
    // The CP heard its own commands back (2-wire echo) and ignored them.
    expect(reader.counters().echoes).toBeGreaterThan(0);
  });

  it('rejects a card with a bad parity bit and counts it', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const { reader, reads } = await openReader(registry());
    const bits = H10301(123, 4567);
    emu.pd(0).presentCard(bits.value ^ 1n, bits.length);
    await waitFor(() => reader.counters().unreadableCards === 1, 'unreadable card');
    expect(reads).toEqual([]);
  });

  it('drives a PD output as a relay and reports inputs and tamper', async () => {
    const emu = await startEmulator([{ address: 3 }]);
    const reg = registry();
    const relay: OsdpOutputRelay = reg.relay({ deviceId: 'door:front', bus: 'main', address: 3, output: 1 });
    const input: OsdpInput = reg.input({ deviceId: 'door:front:contact', bus: 'main', address: 3, input: 0 });
    const rex: OsdpInput = reg.input({ deviceId: 'door:front:rex', bus: 'main', address: 3, input: 1, inverted: true });
    await relay.open();
    await input.open();
    await rex.open();
    cleanups.push(() => relay.close(), () => input.close(), () => rex.close());

    await relay.set(true);
    expect(emu.pd(3).outputs[1]).toBe(true);
    await relay.set(false);
    expect(emu.pd(3).outputs[1]).toBe(false);

    // The initial ISTAT gave both levels: contact inactive, rex inverted → active.
    await waitFor(() => input.level !== null && rex.level !== null, 'initial input levels');
    expect([input.level, rex.level]).toEqual([false, true]);
    const changes: boolean[] = [];
    input.onChange((active) => changes.push(active));
    emu.pd(3).setInput(0, true);
    await waitFor(() => changes.length === 1, 'input change');
    expect(input.level).toBe(true);

    const { reader } = await openReader(reg, 3);
    const events: OsdpDeviceEvent[] = [];
    reader.onDeviceEvent((event) => events.push(event));
    emu.pd(3).setLocalStatus(true, false);
    await waitFor(() => events.length === 1, 'tamper event');
    expect(events[0]).toEqual({ deviceId: 'reader-3', type: 'tamper', active: true });
    expect(reader.counters()).toMatchObject({ tamper: 1, tamperEvents: 1 });
  });

  it('installs a PD with SCBK-D and KEYSET, then reconnects with the stored key; the key never reaches the log', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const keysFile = join(dir.path, 'osdp-keys.json');
    const first = await openReader(registry({ secureChannel: 'preferred', installMode: true }, keysFile));
    await waitFor(() => first.reader.counters().secure === 1, 'secure session with the new key');
    const pd = emu.pd(0);
    expect(pd.stats.keysets).toBe(1);
    expect(pd.installMode).toBe(false);
    const stored = JSON.parse(readFileSync(keysFile, 'utf8')) as { pds: Record<string, { scbk: string }> };
    expect(stored.pds['main/0']?.scbk).toBe(pd.scbk?.toString('hex'));
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);

    const bits = H10301(70, 27347);
    pd.presentCard(bits.value, bits.length);
    await waitFor(() => first.reads.length === 1, 'card over the secure channel');
    expect(cardNumbers(first.reads)).toEqual(['0004614867']);
    // Only ID, CAP and the two handshakes (SCBK-D, then the new key) go in the clear; every poll is inside the session.
    expect(pd.received.filter((c) => !c.secure).map((c) => c.code)).toEqual([CMD.ID, CMD.CAP, CMD.CHLNG, CMD.SCRYPT, CMD.CHLNG, CMD.SCRYPT]);
    expect(pd.received.filter((c) => c.code === CMD.POLL).length).toBeGreaterThan(0);

    await first.reader.close();
    cleanups.length = 0;
    // A new daemon, install mode off: the stored key must do.
    pd.powerCycle();
    const second = await openReader(registry({ secureChannel: 'required' }, keysFile));
    expect(second.reader.counters()).toMatchObject({ online: 1, secure: 1, keysInstalled: 0 });
    expect(pd.stats.handshakes).toBe(3);
    const keyHex = pd.scbk?.toString('hex') ?? 'missing';
    expect(log.lines.join('\n')).not.toContain(keyHex);
  });

  it('with the secure channel required, refuses a PD without it and never talks to it in the clear', async () => {
    const emu = await startEmulator([{ address: 0, secureChannel: false }]);
    const reg = registry({ secureChannel: 'required', connectTimeoutMs: 1_000 });
    const reader = reg.reader({ deviceId: 'r', bus: 'main', address: 0, wiegandFormats: ['h10301'], cardFormat: 'decimal10' });
    await expect(reader.open()).rejects.toThrow(/secure channel required: PD does not report secure channel support/);
    const codes = new Set(emu.pd(0).received.map((c) => c.code));
    expect([...codes].sort()).toEqual([CMD.ID, CMD.CAP]);
  });

  it('with the secure channel required, refuses SCBK-D: a PD in install mode stays offline', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const reg = registry({ secureChannel: 'required', connectTimeoutMs: 1_000 });
    const reader = reg.reader({ deviceId: 'r', bus: 'main', address: 0, wiegandFormats: ['h10301'], cardFormat: 'decimal10' });
    await expect(reader.open()).rejects.toThrow(/no secure channel key stored/);
    expect(emu.pd(0).received.some((c) => c.code === CMD.CHLNG)).toBe(false);
  });

  it('repeats the identical frame after lost replies; the PD answers from its cache and the MAC chain holds', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const { reader, reads } = await openReader(registry({ secureChannel: 'preferred', installMode: true }));
    await waitFor(() => reader.counters().secure === 1, 'secure');
    const pd = emu.pd(0);
    pd.faults.dropReplies = 2;
    const bits = H10301(1, 2);
    pd.presentCard(bits.value, bits.length);
    await waitFor(() => reads.length === 1, 'card after lost replies');
    expect(pd.stats.replays).toBeGreaterThanOrEqual(1);
    expect(reader.counters()).toMatchObject({ secure: 1, macErrors: 0 });
    expect(reader.counters().retries).toBeGreaterThanOrEqual(2);
    expect(pd.stats.macFailures).toBe(0);
  });

  it('counts a reply with a corrupt CRC and gets the card on the retry', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const { reader, reads } = await openReader(registry());
    const pd = emu.pd(0);
    const bits = H10301(9, 9);
    pd.faults.corruptCheck = 1;
    pd.presentCard(bits.value, bits.length);
    await waitFor(() => reads.length === 1, 'card after a bad CRC');
    expect(reader.counters().badCheck).toBeGreaterThanOrEqual(1);
  });

  it('drops the session on a wrong reply MAC and sets it up again without losing the PD', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const { reader, reads } = await openReader(registry({ secureChannel: 'preferred', installMode: true }));
    await waitFor(() => reader.counters().secure === 1, 'secure');
    const faults: Error[] = [];
    reader.onFault((error) => faults.push(error));
    const handshakes = reader.counters().scHandshakes ?? 0;
    emu.pd(0).faults.wrongMac = 1;
    await waitFor(() => (reader.counters().macErrors ?? 0) === 1, 'MAC error seen');
    await waitFor(() => reader.counters().scHandshakes === handshakes + 1 && reader.counters().online === 1, 'session again');
    const bits = H10301(5, 6);
    emu.pd(0).presentCard(bits.value, bits.length);
    await waitFor(() => reads.length === 1, 'card in the new session');
    expect(faults).toEqual([]);
  });

  it('reports a PD that stops answering as a fault after offlineAfterMs, and the supervisor brings it back', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const reg = registry();
    const reader = reg.reader({ deviceId: 'r0', bus: 'main', address: 0, wiegandFormats: ['h10301'], cardFormat: 'decimal10' });
    const reads: PresentedCredential[] = [];
    reader.onRead((credential) => reads.push(credential));
    const supervisor = new Supervisor(reader, { logger: log.logger, minBackoffMs: 50, maxBackoffMs: 200 });
    supervisor.start();
    cleanups.push(() => supervisor.stop());
    await waitFor(() => supervisor.state === 'online', 'online');

    emu.pd(0).faults.silent = true;
    await waitFor(() => supervisor.status().faults === 1, 'PD offline → fault', 15_000);
    expect(reader.counters().offlineEvents).toBe(1);
    // Power comes back: the PD has forgotten its sequence state.
    emu.pd(0).powerCycle();
    emu.pd(0).faults.silent = false;
    await waitFor(() => supervisor.state === 'online', 'online again', 15_000);
    const bits = H10301(7, 7);
    emu.pd(0).presentCard(bits.value, bits.length);
    await waitFor(() => reads.length === 1, 'card after the PD came back');
  });

  it('survives the bus adapter being unplugged and plugged back in', async () => {
    await startEmulator([{ address: 0 }]);
    const reader = registry().reader({ deviceId: 'r0', bus: 'main', address: 0, wiegandFormats: ['h10301'], cardFormat: 'decimal10' });
    const reads: PresentedCredential[] = [];
    reader.onRead((credential) => reads.push(credential));
    const supervisor = new Supervisor(reader, { logger: log.logger, minBackoffMs: 50, maxBackoffMs: 200 });
    supervisor.start();
    cleanups.push(() => supervisor.stop());
    await waitFor(() => supervisor.state === 'online', 'online');

    await emulator?.close();
    emulator = undefined;
    await pty.unplug();
    await waitFor(() => supervisor.state === 'offline', 'offline after unplug');
    await pty.replug();
    const emu = await startEmulator([{ address: 0 }]);
    await waitFor(() => supervisor.state === 'online', 'online after replug', 15_000);
    const bits = H10301(8, 8);
    emu.pd(0).presentCard(bits.value, bits.length);
    await waitFor(() => reads.length === 1, 'card after replug');
  });

  it('polls eight PDs on one bus, each with its own secure session, and routes each card to its reader', async () => {
    const addresses = [0, 1, 2, 3, 4, 5, 6, 7];
    const emu = await startEmulator(addresses.map((address) => ({ address })));
    const reg = registry({ secureChannel: 'preferred', installMode: true, connectTimeoutMs: 20_000 });
    const readers = await Promise.all(addresses.map((address) => openReader(reg, address)));
    for (const { reader } of readers) expect(reader.counters().secure).toBe(1);
    for (const address of addresses) {
      const bits = H10301(10 + address, 100 + address);
      emu.pd(address).presentCard(bits.value, bits.length);
    }
    await waitFor(() => readers.every(({ reads }) => reads.length === 1), 'a card on every reader');
    for (const address of addresses) {
      const body = ((10 + address) << 16) | (100 + address);
      expect(cardNumbers(readers[address]?.reads ?? [])).toEqual([String(body).padStart(10, '0')]);
    }
  });

  it('changes a PD address with COMSET', async () => {
    const emu = await startEmulator([{ address: 0 }]);
    const reg = registry();
    await openReader(reg, 0);
    await expect(reg.comset('main', 0, { address: 5, baudRate: 9600 })).resolves.toEqual({ address: 5, baudRate: 9600 });
    expect(emu.pd(5).address).toBe(5);
  });
});
