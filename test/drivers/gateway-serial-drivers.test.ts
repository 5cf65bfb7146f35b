/**
 * The new serial drivers wired through the daemon: a PN532 and a line reader
 * open a door on a Modbus-RTU relay board, all on real ptys.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { createPty, openHost, waitFor, type HostPort, type PtyPair } from '../support/pty.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { ModbusSlaves } from './support/modbus-slave.js';
import { Pn532Emulator } from './support/pn532-emulator.js';

/** Ada's card as a 4-byte UID whose 10-digit rendering is her card number 0004614867. */
const ADA_UID = [0x00, 0x46, 0x6a, 0xd3];

describe('gateway with PN532, line reader and Modbus relay', () => {
  let dir: ReturnType<typeof tempDir>;
  let nfcPty: PtyPair;
  let linePty: PtyPair;
  let busPty: PtyPair;
  let chip: Pn532Emulator | undefined;
  let board: ModbusSlaves | undefined;
  let scanner: HostPort | undefined;
  let gateway: Gateway | undefined;

  beforeEach(async () => {
    dir = tempDir();
    nfcPty = await createPty(dir.path, 'nfc');
    linePty = await createPty(dir.path, 'scanner');
    busPty = await createPty(dir.path, 'rs485');
    chip = await Pn532Emulator.attach(nfcPty.hostPath);
    board = await ModbusSlaves.attach(busPty.hostPath, [1]);
    scanner = await openHost(linePty.hostPath);
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await chip?.close();
    await board?.close();
    await scanner?.close();
    for (const pty of [nfcPty, linePty, busPty]) await pty.close();
    dir.remove();
  });

  it('opens the door for a PN532 read, and beeps the scanner on a grant', async () => {
    const config = writeSite(
      dir.path,
      `doors:
  - { id: front, relay: { driver: modbus-rtu, path: ${busPty.devicePath}, slave: 1, coil: 0, responseTimeoutMs: 1500 }, pulseMs: 300 }
readers:
  - { id: front-nfc, driver: pn532, path: ${nfcPty.devicePath}, door: front, mode: entry, cardFormat: decimal10, pollIntervalMs: 50 }
  - { id: front-qr, driver: serial-line, path: ${linePty.devicePath}, door: front, mode: exit, feedback: { granted: "16 4D 0D", denied: "1B 07" } }
`,
    );
    gateway = await Gateway.start(loadConfig(config), memoryLogger('error').logger, '0.0.0-test');
    const g = gateway;
    const state = (id: string) => g.status().readers.find((r) => r.id === id)?.device.state;
    await waitFor(() => state('front-nfc') === 'online' && state('front-qr') === 'online', 'readers online', 15_000);
    const slaves = board;
    if (chip === undefined || slaves === undefined || scanner === undefined) throw new Error('setup failed');
    await waitFor(() => slaves.writes().length >= 1, 'relay put into its boot state');
    const before = slaves.writes().length;

    chip.card = { uid: ADA_UID };
    // The write history, not the live state, so a stalled test process cannot miss a 300 ms pulse.
    const values = () => slaves.writes().slice(before).map((write) => write.frame[4]);
    const pulsed = () => {
      const history = values();
      const on = history.indexOf(0xff);
      return on >= 0 && history.slice(on + 1).includes(0x00);
    };
    await waitFor(pulsed, 'coil energised for the grant, then released');
    expect(slaves.coil(1, 0)).toBe(false);
    await waitFor(() => g.journal.depth().pending === 1, 'decision journaled');

    await scanner.write(Buffer.from(`${demo.ada.card}\r\n`));
    expect([...(await scanner.readBytes(3))]).toEqual([0x16, 0x4d, 0x0d]);
    await waitFor(() => g.journal.depth().pending === 2, 'second decision journaled');
    expect(g.sessions.openSessions()).toEqual([]);
  });
});
