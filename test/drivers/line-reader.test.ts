import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import { SerialLineReader, type SerialLineReaderOptions } from '../../drivers/line-reader/reader.js';
import type { PresentedCredential } from '../../drivers/types.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { capturingLogger, cardNumbers } from './support/capture.js';
import { delay } from './support/serial-host.js';

const CRLF = Uint8Array.of(0x0d, 0x0a);
const WG2RS232 = { as: 'wiegand-body-hex', format: 'h10301', cardFormat: 'fc-cn' } as const;
const ascii = (text: string) => Buffer.from(text, 'latin1');

describe('SerialLineReader on a pseudo-terminal', () => {
  let dir: string;
  let pty: PtyPair;
  let host: HostPort | undefined;
  const readers: SerialLineReader[] = [];
  const supervisors: Supervisor<SerialLineReader>[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-line-'));
    pty = await createPty(dir, 'ttyLINE');
  });

  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.stop();
    for (const reader of readers.splice(0)) await reader.close();
    await host?.close();
    host = undefined;
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });

  function reader(options: Partial<SerialLineReaderOptions> = {}) {
    const driver = new SerialLineReader({ deviceId: 'side', path: pty.devicePath, presenceCheckMs: 100, ...options });
    readers.push(driver);
    const reads: PresentedCredential[] = [];
    const faults: Error[] = [];
    driver.onRead((credential) => reads.push(credential));
    driver.onFault((error) => faults.push(error));
    return { driver, reads, faults };
  }

  async function start(options: Partial<SerialLineReaderOptions> = {}) {
    const parts = reader(options);
    await parts.driver.open();
    host = await openHost(pty.hostPath);
    return { ...parts, host };
  }

  it('reads a WG2RS232 converter: "7B11D7" CR LF is FC 123 / CN 4567', async () => {
    const { reads, host } = await start({ terminator: CRLF, decode: WG2RS232 });
    await host.write(ascii('7B11D7\r\n'));
    await waitFor(() => reads.length === 1, 'one read');
    expect(cardNumbers(reads)).toEqual(['123,04567']);
    expect(String(reads[0]?.kind === 'card' ? reads[0].number : '')).toBe('[secret]');
  });

  it('reads an S4A converter (10 decimal digits) as the 10-digit number', async () => {
    const { reads, host } = await start({ terminator: CRLF, decode: { as: 'wiegand-body-decimal', format: 'h10306', cardFormat: 'decimal10' } });
    await host.write(ascii('0004614867\r\n'));
    await waitFor(() => reads.length === 1, 'one read');
    expect(cardNumbers(reads)).toEqual(['0004614867']);
  });

  it('extracts a credential from a QR code with a pattern, and ignores codes that do not match', async () => {
    const { driver, reads, host } = await start({ pattern: '^GH1:(\\d{10})$' });
    await host.write(ascii('https://example.com/promo\rGH1:0004614867\r'));
    await waitFor(() => reads.length === 1, 'one read');
    expect(cardNumbers(reads)).toEqual(['0004614867']);
    expect(driver.counters().unmatchedLines).toBe(1);
  });

  it('reads lines split across writes and several lines in one write', async () => {
    const { reads, host } = await start({ terminator: CRLF, decode: WG2RS232 });
    await host.write(ascii('7B1'));
    await delay(30);
    await host.write(ascii('1D7\r'));
    await delay(30);
    await host.write(ascii('\n0046AD\r\n000001\r\n'));
    await waitFor(() => reads.length === 3, 'three reads');
    expect(cardNumbers(reads)).toEqual(['123,04567', '000,18093', '000,00001']);
  });

  it('rejects a frame with a bad parity, counting it, and reads the good one after it', async () => {
    const { driver, reads, host } = await start({ decode: { as: 'wiegand-frame-bits', format: 'h10301', cardFormat: 'fc-cn' } });
    await host.write(ascii('10111101100010001110101111\n10111101100010001110101110\n'));
    await waitFor(() => reads.length === 1, 'the good frame');
    expect(cardNumbers(reads)).toEqual(['123,04567']);
    expect(driver.counters().badParity).toBe(1);
  });

  it('suppresses a scanner repeating the same code, and reads it again after repeatMs of quiet', async () => {
    const { driver, reads, host } = await start({ repeatMs: 400 });
    for (let i = 0; i < 4; i += 1) {
      await host.write(ascii('0004614867\r\n'));
      await delay(50);
    }
    await waitFor(() => driver.counters().lines === 4, 'four lines');
    expect(reads).toHaveLength(1);
    await delay(700);
    await host.write(ascii('0004614867\r\n'));
    await waitFor(() => reads.length === 2, 'read again');
    await host.write(ascii('0001217496\r\n'));
    await waitFor(() => reads.length === 3, 'a different code at once');
  });

  it('skips garbage, counts it, and never logs a credential', async () => {
    const lines: string[] = [];
    const { driver, reads, host } = await start({ logger: capturingLogger(lines), terminator: CRLF, decode: WG2RS232 });
    await host.write(Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a, ...ascii('ZZZZ\r\n7B11D7\r\n')]));
    await waitFor(() => reads.length === 1, 'the good line');
    expect(driver.counters()).toMatchObject({ garbageLines: 1, unmatchedLines: 1, readsEmitted: 1 });
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const text of ['7B11D7', '04567', '8065495']) expect(log).not.toContain(text);
  });

  it('rate-limits a flood of garbage lines, reports it, and reads again once it stops', async () => {
    const lines: string[] = [];
    const { driver, reads, faults, host } = await start({ logger: capturingLogger(lines) });
    await host.write(ascii('noise that matches nothing\x07\n'.repeat(500)));
    await waitFor(() => driver.counters().floodActive === 1, 'flood detected');
    expect(lines.filter((line) => line.includes('flooding'))).toHaveLength(1);
    // Shed while flooding: even a valid line is dropped unparsed.
    await host.write(ascii('0004614867\n'));
    await waitFor(() => (driver.counters().floodShedBytes ?? 0) > 0, 'input shed');
    // Once the budget refills (20 rejections at 5/s) lines are parsed again.
    await waitFor(() => driver.counters().floodActive === 0, 'flood over', 15_000);
    await host.write(ascii('0001217496\n'));
    await waitFor(() => cardNumbers(reads).includes('0001217496'), 'a read after the flood');
    // Whatever was shed, no fragment of a line ever became a credential.
    expect(cardNumbers(reads).every((number) => /^\d{10}$/.test(number))).toBe(true);
    expect(faults).toEqual([]);
  });

  it('sends configured feedback bytes for grant and deny', async () => {
    const { driver, host } = await start({ feedback: { granted: Uint8Array.of(0x16, 0x4d, 0x0d), denied: Uint8Array.of(0x1b, 0x07) } });
    expect('feedback' in driver).toBe(true);
    driver.feedback?.('granted');
    expect([...(await host.readBytes(3))]).toEqual([0x16, 0x4d, 0x0d]);
    driver.feedback?.('denied');
    expect([...(await host.readBytes(2))]).toEqual([0x1b, 0x07]);
    await waitFor(() => driver.counters().feedbackSent === 2, 'both sent');
  });

  it('has no feedback method when none is configured', () => {
    const { driver } = reader();
    expect('feedback' in driver).toBe(false);
  });

  it('reports an unplug once, and reads again after replug at the same path', async () => {
    const { driver, reads, faults } = await start();
    await pty.unplug();
    await waitFor(() => faults.length === 1, 'fault after unplug');
    expect(faults[0]?.message).toContain(pty.devicePath);
    await host?.close();
    host = undefined;
    driver.feedback?.('granted'); // no method configured; nothing to do
    await driver.close();
    await pty.replug();
    await driver.open();
    host = await openHost(pty.hostPath);
    await host.write(ascii('0004614867\n'));
    await waitFor(() => reads.length === 1, 'read after replug');
    expect(faults).toHaveLength(1);
  });

  it('under the supervisor: offline on unplug, online and reading again after replug', async () => {
    const { driver, reads } = reader();
    const supervisor = new Supervisor(driver, { logger: memoryLogger('silent').logger });
    supervisors.push(supervisor);
    supervisor.start();
    await waitFor(() => supervisor.state === 'online', 'online');
    await pty.unplug();
    await waitFor(() => supervisor.state === 'offline', 'offline');
    await delay(300);
    await pty.replug();
    await waitFor(() => supervisor.state === 'online', 'online after replug', 15_000);
    host = await openHost(pty.hostPath);
    await host.write(ascii('0004614867\n'));
    await waitFor(() => reads.length === 1, 'read after replug');
  });

  it('rejects open() with a clear message when the device is missing', async () => {
    const path = join(dir, 'ttyUSB-none');
    const ghost = new SerialLineReader({ deviceId: 'ghost', path });
    readers.push(ghost);
    await expect(ghost.open()).rejects.toThrow(`no such device ${path}`);
  });
});
