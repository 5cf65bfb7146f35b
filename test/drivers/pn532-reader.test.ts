import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../daemon/runtime/supervisor.js';
import { Pn532Reader, type Pn532ReaderOptions } from '../../drivers/pn532/reader.js';
import type { PresentedCredential } from '../../drivers/types.js';
import { createPty, waitFor, type PtyPair } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { capturingLogger, cardNumbers } from './support/capture.js';
import { Pn532Emulator, pn532Frame, type Delivery } from './support/pn532-emulator.js';
import { delay } from './support/serial-host.js';
import { targetFrames } from './pn532-test-vectors.js';

const CLASSIC = { uid: [0x9e, 0xb3, 0x6e, 0x66] };
const NTAG = { uid: [0x04, 0x7b, 0xcb, 0x51, 0x96, 0x22, 0x80], sensRes: [0x00, 0x44] as const, sak: 0x00 };
const IN_LIST = 0x4a;
const IN_RELEASE = 0x52;

describe('PN532 emulator', () => {
  it('answers with the reference frames', () => {
    const card = targetFrames[0];
    const [sens0 = 0, sens1 = 0] = [card?.sensRes ?? 0].flatMap((s) => [s >> 8, s & 0xff]);
    expect(pn532Frame([0xd5, 0x4b, 0x01, 0x01, sens0, sens1, 0x08, 0x04, ...CLASSIC.uid])).toEqual(card?.frame);
    expect(pn532Frame([0xd5, 0x4b, 0x01, 0x01, 0x00, 0x44, 0x00, 0x07, ...NTAG.uid])).toEqual(targetFrames[3]?.frame);
  });
});

describe('Pn532Reader on a pseudo-terminal', () => {
  let dir: string;
  let pty: PtyPair;
  let emulator: Pn532Emulator | undefined;
  const readers: Pn532Reader[] = [];
  const supervisors: Supervisor<Pn532Reader>[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-pn532-'));
    pty = await createPty(dir, 'ttyPN532');
  });

  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.stop();
    for (const reader of readers.splice(0)) await reader.close();
    await emulator?.close();
    emulator = undefined;
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Generous timeouts: the machine may be loaded by other test runs; retries absorb a slow turn. */
  function reader(options: Partial<Pn532ReaderOptions> = {}) {
    const driver = new Pn532Reader({
      deviceId: 'desk',
      path: pty.devicePath,
      cardFormat: 'hex',
      pollIntervalMs: 20,
      ackTimeoutMs: 250,
      responseTimeoutMs: 1_000,
      presenceCheckMs: 100,
      ...options,
    });
    readers.push(driver);
    const reads: PresentedCredential[] = [];
    const faults: Error[] = [];
    driver.onRead((credential) => reads.push(credential));
    driver.onFault((error) => faults.push(error));
    return { driver, reads, faults };
  }

  async function attachEmulator(): Promise<Pn532Emulator> {
    emulator = await Pn532Emulator.attach(pty.hostPath);
    return emulator;
  }

  /** Polls that completed since `from`, judged by InListPassiveTarget commands the emulator answered. */
  const polls = (chip: Pn532Emulator) => chip.count(IN_LIST);

  it('wakes the chip, configures it in the right order, and reads a resting card exactly once', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader();
    await driver.open();
    expect(chip.seen.wakeUps).toBe(1);
    // SAMConfiguration first (LowVbat), then the firmware check, then finite retries before the first poll.
    expect(chip.commands.slice(0, 3).map((c) => c.code)).toEqual([0x14, 0x02, 0x32]);
    expect(chip.commands[2]?.params).toEqual([0x05, 0xff, 0x01, 0x02]);
    expect(chip.passiveRetries).toBe(2);

    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'the card read');
    const before = polls(chip);
    await waitFor(() => polls(chip) >= before + 10, 'ten more polls with the card resting');
    expect(cardNumbers(reads)).toEqual(['9EB36E66']);
    // Released after every poll that listed it; otherwise the resting card would flap in and out.
    expect(chip.count(IN_RELEASE)).toBeGreaterThanOrEqual(10);
    expect(driver.counters()).toMatchObject({ readsEmitted: 1, cardsRemoved: 0, faults: 0 });
  });

  it('reads 7-byte UIDs and maps them with the configured card format', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader({ cardFormat: 'decimal-reversed' });
    await driver.open();
    chip.card = NTAG;
    await waitFor(() => reads.length === 1, 'the NTAG read');
    expect(cardNumbers(reads)).toEqual([BigInt('0x802296 51CB7B04'.replace(' ', '')).toString(10)]);
  });

  it('maps a 4-byte UID as decimal10-reversed, what keyboard-wedge readers type', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader({ cardFormat: 'decimal10-reversed' });
    await driver.open();
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'the read');
    expect(cardNumbers(reads)).toEqual(['1718530974']);
  });

  it('reads a card again after it was removed, and a different card at once', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader({ removalPolls: 2 });
    await driver.open();
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'first read');
    chip.card = null;
    await waitFor(() => driver.counters().cardsRemoved === 1, 'removal');
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 2, 'read after re-presenting');
    chip.card = NTAG;
    await waitFor(() => reads.length === 3, 'the other card');
    expect(cardNumbers(reads)).toEqual(['9EB36E66', '9EB36E66', '047BCB51962280']);
  });

  it('does not read a resting card twice when it misses a poll (debounced removal)', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader({ removalPolls: 3 });
    await driver.open();
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'first read');
    for (let flap = 0; flap < 3; flap += 1) {
      chip.missPolls = 2;
      const before = polls(chip);
      await waitFor(() => polls(chip) >= before + 4, 'the missed polls and the card again');
    }
    expect(reads).toHaveLength(1);
    expect(driver.counters().cardsRemoved).toBe(0);
  });

  it('ignores random UIDs (08 …) as identities and counts one per presentation', async () => {
    const chip = await attachEmulator();
    chip.randomUid = true;
    const { driver, reads } = reader();
    await driver.open();
    chip.card = CLASSIC;
    await waitFor(() => driver.counters().randomUidsIgnored === 1, 'random UID seen');
    const before = polls(chip);
    await waitFor(() => polls(chip) >= before + 5, 'the phone held for five more polls with a new UID each time');
    expect(reads).toEqual([]);
    expect(driver.counters().randomUidsIgnored).toBe(1);
  });

  it('refuses a 7-byte UID in decimal10 instead of truncating it, and counts it', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader({ cardFormat: 'decimal10' });
    await driver.open();
    chip.card = NTAG;
    await waitFor(() => driver.counters().unmappableUids === 1, 'unmappable UID counted');
    expect(reads).toEqual([]);
  });

  it.each(['together', 'separate', 'bytewise'] as const satisfies readonly Delivery[])(
    'reads when ACK and response arrive %s',
    async (delivery) => {
      const chip = await attachEmulator();
      chip.delivery = delivery;
      const { driver, reads } = reader();
      await driver.open();
      chip.card = CLASSIC;
      await waitFor(() => reads.length === 1, 'the read');
      expect(cardNumbers(reads)).toEqual(['9EB36E66']);
    },
  );

  it('recovers from a lost command (no ACK): aborts, sends again, and reads', async () => {
    const chip = await attachEmulator();
    const { driver, reads, faults } = reader({ ackTimeoutMs: 150 });
    await driver.open();
    chip.card = CLASSIC;
    chip.dropCommands = 1;
    await waitFor(() => reads.length === 1, 'the read after recovery');
    expect(driver.counters().ackTimeouts).toBeGreaterThanOrEqual(1);
    expect(driver.counters().abortsSent).toBeGreaterThanOrEqual(1);
    expect(chip.seen.aborts).toBeGreaterThanOrEqual(1);
    expect(faults).toEqual([]);
  });

  it('releases the card a lost poll selected before polling again, so it is still read', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader({ responseTimeoutMs: 300 });
    await driver.open();
    chip.loseResponses = 1;
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'the read');
    expect(driver.counters().responseTimeouts).toBeGreaterThanOrEqual(1);
    expect(cardNumbers(reads)).toEqual(['9EB36E66']);
  });

  it('accepts a response whose ACK was lost', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader();
    await driver.open();
    chip.dropAcks = 1;
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'the read');
    expect(driver.counters().acksMissing).toBe(1);
  });

  it('asks for a corrupted response again with NACK and never reads the corrupted UID', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader();
    await driver.open();
    chip.card = CLASSIC;
    chip.corruptResponses = 1;
    await waitFor(() => reads.length === 1, 'the read');
    expect(cardNumbers(reads)).toEqual(['9EB36E66']);
    expect(chip.seen.nacks).toBeGreaterThanOrEqual(1);
    expect(driver.counters().badChecksum).toBeGreaterThanOrEqual(1);
  });

  it('skips garbage between frames and counts it', async () => {
    const chip = await attachEmulator();
    const { driver, reads } = reader();
    await driver.open();
    await chip.inject([0x13, 0x37, 0x00, 0xff, 0x05, 0x05, 0xaa]);
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'the read');
    expect(driver.counters().garbageBytes).toBeGreaterThan(0);
  });

  it('rate-limits a garbage flood, reports it, and reads again once it stops', async () => {
    const chip = await attachEmulator();
    const lines: string[] = [];
    const { driver, reads, faults } = reader({ logger: capturingLogger(lines), maxFailedPolls: 1_000 });
    await driver.open();
    const junk = Array.from({ length: 4096 }, (_, i) => ((i * 97) & 0xfe) | 0x01);
    for (let burst = 0; burst < 5; burst += 1) await chip.inject(junk);
    await waitFor(() => driver.counters().floodActive === 1, 'flood detected');
    expect(driver.counters().floodEpisodes).toBeGreaterThanOrEqual(1);
    expect(lines.filter((line) => line.includes('flooding')).length).toBe(1);
    // The budget refills (20 rejections at 5/s) and polling resumes.
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'a read after the flood', 20_000);
    expect(faults).toEqual([]);
  });

  it('reports a chip that stops answering as a fault, and works again after reopening', async () => {
    const chip = await attachEmulator();
    const { driver, reads, faults } = reader({ ackTimeoutMs: 100, commandAttempts: 2, maxFailedPolls: 2 });
    await driver.open();
    chip.silent = true;
    await waitFor(() => faults.length === 1, 'fault');
    expect(faults[0]?.message).toMatch(/stopped answering: no ACK/);
    await driver.close();
    chip.silent = false;
    chip.asleep = true; // a reset chip starts over in LowVbat
    chip.samConfigured = false;
    await driver.open();
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'read after reopening');
    expect(faults).toHaveLength(1);
  });

  it('rejects open() with a clear message when nothing answers, and when the device is missing', async () => {
    const chip = await attachEmulator();
    chip.silent = true;
    const { driver } = reader({ ackTimeoutMs: 50, commandAttempts: 1 });
    await expect(driver.open()).rejects.toThrow(/PN532 on .* did not initialise: no ACK .*HSU mode/);
    const missing = new Pn532Reader({ deviceId: 'ghost', path: join(dir, 'ttyUSB-none'), cardFormat: 'hex' });
    readers.push(missing);
    await expect(missing.open()).rejects.toThrow(`no such device ${join(dir, 'ttyUSB-none')}`);
  });

  it('reports an unplug once, and reads again after replug at the same path', async () => {
    await attachEmulator();
    const { driver, reads, faults } = reader();
    await driver.open();
    await pty.unplug();
    await emulator?.close();
    emulator = undefined;
    await waitFor(() => faults.length === 1, 'fault after unplug');
    expect(faults[0]?.message).toContain(pty.devicePath);
    await driver.close();
    await pty.replug();
    const chip = await attachEmulator();
    await driver.open();
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'read after replug');
    expect(faults).toHaveLength(1);
  });

  it('under the supervisor: offline on unplug, online and reading again after replug', async () => {
    await attachEmulator();
    const { driver, reads } = reader();
    const supervisor = new Supervisor(driver, { logger: memoryLogger('silent').logger });
    supervisors.push(supervisor);
    supervisor.start();
    await waitFor(() => supervisor.state === 'online', 'online');
    await pty.unplug();
    await emulator?.close();
    emulator = undefined;
    await waitFor(() => supervisor.state === 'offline', 'offline after unplug');
    await delay(300);
    await pty.replug();
    const chip = await attachEmulator();
    await waitFor(() => supervisor.state === 'online', 'online after replug', 15_000);
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'read after replug');
    expect(supervisor.status().faults).toBe(1);
  });

  it('never logs a UID', async () => {
    const chip = await attachEmulator();
    const lines: string[] = [];
    const { driver, reads } = reader({ logger: capturingLogger(lines), cardFormat: 'decimal10' });
    await driver.open();
    chip.card = CLASSIC;
    await waitFor(() => reads.length === 1, 'the read');
    chip.card = NTAG;
    await waitFor(() => driver.counters().unmappableUids === 1, 'the unmappable card');
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const text of ['9EB36E66', '9eb36e66', '2662559334', '047BCB', '047bcb']) expect(log).not.toContain(text);
    expect(JSON.stringify(reads)).not.toContain('2662559334');
  });
});
