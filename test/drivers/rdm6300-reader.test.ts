import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Rdm6300Reader, type Rdm6300ReaderOptions } from '../../drivers/rdm6300/reader.js';
import type { DriverLogger } from '../../drivers/serial/logger.js';
import type { PresentedCredential } from '../../drivers/types.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';
import { negativeFrameBytes, realFrames, syntheticFrame, trapFrameBytes } from './rdm6300-test-vectors.js';

const CARD_0004614867 = Buffer.from(syntheticFrame.bytes);
const CARD_0003887558 = Buffer.from(realFrames[0]?.bytes ?? []);

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function cardNumbers(reads: readonly PresentedCredential[]): string[] {
  return reads.map((read) => (read.kind === 'card' ? read.number.reveal() : `unexpected ${read.kind}`));
}

/** Records log lines as JSON so tests can prove no card number reaches the log. */
function capturingLogger(lines: string[]): DriverLogger {
  const record = (level: string) => (fields: object, message: string) => {
    lines.push(JSON.stringify({ level, ...fields, message }));
  };
  return { debug: record('debug'), info: record('info'), warn: record('warn') };
}

describe('Rdm6300Reader on a pseudo-terminal', () => {
  let dir: string;
  let pty: PtyPair;
  let host: HostPort | undefined;
  const readers: Rdm6300Reader[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-rdm-'));
    pty = await createPty(dir, 'ttyRDM');
  });

  afterEach(async () => {
    for (const reader of readers.splice(0)) await reader.close();
    await host?.close();
    host = undefined;
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Opens a reader on the pty and the host side that plays the RDM6300. */
  async function start(options: Partial<Rdm6300ReaderOptions> = {}) {
    const reader = new Rdm6300Reader({ deviceId: 'lobby', path: pty.devicePath, cardFormat: 'decimal10', ...options });
    readers.push(reader);
    const reads: PresentedCredential[] = [];
    const faults: Error[] = [];
    reader.onRead((credential) => reads.push(credential));
    reader.onFault((error) => faults.push(error));
    await reader.open();
    host = await openHost(pty.hostPath);
    const framesOk = () => reader.counters().framesOk ?? 0;
    return { reader, reads, faults, framesOk };
  }

  it('reads a card once and hands over its number as a secret', async () => {
    const { reads } = await start();
    await host?.write(CARD_0004614867);
    await waitFor(() => reads.length === 1, 'one read');
    expect(cardNumbers(reads)).toEqual(['0004614867']);
    expect(JSON.stringify(reads)).not.toContain('4614867');
    expect(String(reads[0]?.kind === 'card' ? reads[0].number : '')).toBe('[secret]');
  });

  it('maps the number with the configured card format', async () => {
    const { reads } = await start({ cardFormat: 'fc-cn' });
    await host?.write(CARD_0004614867);
    await waitFor(() => reads.length === 1, 'one read');
    expect(cardNumbers(reads)).toEqual(['070,27347']);
  });

  it('reads a card held in the field (frame repeated every 50 ms for 400 ms) exactly once', async () => {
    // removalMs well above the 50 ms cadence so a scheduling stall on a loaded machine cannot split the hold.
    const { reader, reads, framesOk } = await start({ removalMs: 1_000 });
    for (let sent = 0; sent < 9; sent += 1) {
      await host?.write(CARD_0004614867);
      await delay(50);
    }
    await waitFor(() => framesOk() === 9, 'all nine frames decoded');
    expect(cardNumbers(reads)).toEqual(['0004614867']);
    expect(reader.counters().repeatsSuppressed).toBe(8);
  });

  it('reads the same card again after removalMs of silence (controlled clock)', async () => {
    let now = 10_000;
    const { reads, framesOk } = await start({ removalMs: 500, clock: { now: () => now } });
    await host?.write(CARD_0004614867);
    await waitFor(() => framesOk() === 1, 'first frame');
    now += 499;
    await host?.write(CARD_0004614867);
    await waitFor(() => framesOk() === 2, 'second frame');
    expect(reads).toHaveLength(1);
    now += 500;
    await host?.write(CARD_0004614867);
    await waitFor(() => framesOk() === 3, 'third frame');
    expect(cardNumbers(reads)).toEqual(['0004614867', '0004614867']);
  });

  it('reads the same card again after removalMs of silence (real clock)', async () => {
    const { reads } = await start({ removalMs: 150 });
    await host?.write(CARD_0004614867);
    await waitFor(() => reads.length === 1, 'first read');
    await delay(400);
    await host?.write(CARD_0004614867);
    await waitFor(() => reads.length === 2, 'second read after removal');
    expect(cardNumbers(reads)).toEqual(['0004614867', '0004614867']);
  });

  it('reads two different cards presented back to back', async () => {
    const { reads } = await start();
    await host?.write(Buffer.concat([CARD_0004614867, CARD_0003887558]));
    await waitFor(() => reads.length === 2, 'two reads');
    expect(cardNumbers(reads)).toEqual(['0004614867', '0003887558']);
  });

  it('counts garbage and bad frames without logging any card number', async () => {
    const lines: string[] = [];
    const { reader, reads } = await start({ logger: capturingLogger(lines) });
    await host?.write(Buffer.from([0xff, 0x00, 0x13, ...trapFrameBytes, ...negativeFrameBytes, ...syntheticFrame.bytes]));
    await waitFor(() => reads.length === 1, 'the good frame');
    expect(reader.counters()).toMatchObject({ framesOk: 1, badChecksum: 2, garbageBytes: 3, readsEmitted: 1 });
    const counterValues = Object.values(reader.counters());
    expect(counterValues.every((value) => Number.isInteger(value))).toBe(true);
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const digits of ['4614867', '466AD3', '466ad3', '0E00466AD3']) expect(log).not.toContain(digits);
  });

  it('rate-limits a garbage flood, reports it once, and reads again once it stops', async () => {
    const lines: string[] = [];
    const { reader, reads, faults } = await start({ logger: capturingLogger(lines) });
    // Frames with a bad checksum, as a module with a failing antenna might produce.
    await host?.write(Buffer.from(Array.from({ length: 200 }, () => negativeFrameBytes).flat()));
    await waitFor(() => reader.counters().floodActive === 1, 'flood detected');
    expect(lines.filter((line) => line.includes('flooding'))).toHaveLength(1);
    await waitFor(() => reader.counters().floodActive === 0, 'flood over', 15_000);
    await host?.write(CARD_0004614867);
    await waitFor(() => reads.length === 1, 'read after the flood');
    expect(cardNumbers(reads)).toEqual(['0004614867']);
    expect(faults).toEqual([]);
  });

  it('keeps reading when a listener throws', async () => {
    const { reader, reads } = await start();
    reader.onRead(() => {
      throw new Error('listener bug');
    });
    await host?.write(Buffer.concat([CARD_0004614867, CARD_0003887558]));
    await waitFor(() => reads.length === 2, 'both reads despite the throwing listener');
    expect(cardNumbers(reads)).toEqual(['0004614867', '0003887558']);
  });

  it('reports an unplug once, closes cleanly afterwards, and works again after replug', async () => {
    const { reader, reads, faults } = await start();
    await pty.unplug();
    await waitFor(() => faults.length === 1, 'fault after unplug');
    expect(faults[0]?.message).toContain(pty.devicePath);
    await host?.close();
    host = undefined;

    await reader.close();
    await reader.close(); // idempotent
    expect(faults).toHaveLength(1);
    expect(reader.counters().faults).toBe(1);

    await pty.replug();
    await reader.open();
    host = await openHost(pty.hostPath);
    await host.write(CARD_0004614867);
    await waitFor(() => reads.length === 1, 'read after replug');
    expect(cardNumbers(reads)).toEqual(['0004614867']);
    expect(faults).toHaveLength(1);
  });

  it('reports an unplug right after open, which serialport alone sometimes misses', async () => {
    const reader = new Rdm6300Reader({ deviceId: 'lobby', path: pty.devicePath, cardFormat: 'decimal10' });
    readers.push(reader);
    const faults: Error[] = [];
    reader.onFault((error) => faults.push(error));
    await reader.open();
    await pty.unplug();
    await waitFor(() => faults.length === 1, 'fault after unplug');
    await reader.close();
    expect(faults).toHaveLength(1);
    expect(faults[0]?.message).toMatch(new RegExp(`^device disconnected: ${pty.devicePath}`));
  });

  it('reopens after a fault even without an explicit close()', async () => {
    const { reader, reads, faults } = await start();
    await pty.unplug();
    await waitFor(() => faults.length === 1, 'fault after unplug');
    await host?.close();
    await expect(reader.open()).rejects.toThrow(`no such device ${pty.devicePath}`);
    await pty.replug();
    await reader.open();
    host = await openHost(pty.hostPath);
    await host.write(CARD_0003887558);
    await waitFor(() => reads.length === 1, 'read after reopening');
    expect(cardNumbers(reads)).toEqual(['0003887558']);
  });

  it('rejects open() with a clear message when the device is missing', async () => {
    const path = join(dir, 'ttyUSB-not-there');
    const reader = new Rdm6300Reader({ deviceId: 'ghost', path, cardFormat: 'decimal10' });
    readers.push(reader);
    await expect(reader.open()).rejects.toThrow(`no such device ${path}`);
    await reader.close(); // never rejects, even though nothing was opened
  });

  it('rejects open() when another reader already holds the port', async () => {
    await start();
    const second = new Rdm6300Reader({ deviceId: 'twin', path: pty.devicePath, cardFormat: 'decimal10' });
    readers.push(second);
    await expect(second.open()).rejects.toThrow(`port locked by another process: ${pty.devicePath}`);
  });
});
