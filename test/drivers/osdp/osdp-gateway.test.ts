/**
 * End to end through the daemon: a card presented at an OSDP PD grants and
 * pulses the door strike on an output of the same PD, over the secure channel
 * set up by install mode; grant feedback reaches the PD's LED.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../daemon/config/load.js';
import { Gateway } from '../../../daemon/runtime/gateway.js';
import { alarmEventSchema } from '../../../daemon/uplink/payloads.js';
import { CMD } from '../../../drivers/osdp/constants.js';
import { encodeWiegand } from '../../../drivers/wiegand/decode.js';
import { EmulatedPd, OsdpPdEmulator } from '../../support/osdp-pd-emulator/emulator.js';
import { createPty, waitFor, type PtyPair } from '../../support/pty.js';
import { memoryLogger, writeSite } from '../../support/site.js';
import { tempDir } from '../../support/temp-dir.js';

describe('gateway with an OSDP reader and an OSDP output as strike', () => {
  let dir: ReturnType<typeof tempDir>;
  let pty: PtyPair;
  let emulator: OsdpPdEmulator | undefined;
  let gateway: Gateway | undefined;

  beforeEach(async () => {
    dir = tempDir();
    pty = await createPty(dir.path, 'osdp');
    emulator = await OsdpPdEmulator.open(pty.hostPath, [new EmulatedPd({ address: 1 })], { echo: true });
  });

  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await emulator?.close();
    await pty.close();
    dir.remove();
  });

  it("grants Ada's card and pulses output 0 of the PD", async () => {
    const config = writeSite(
      dir.path,
      `osdp:
  buses:
    entrance: { path: ${pty.devicePath}, secureChannel: preferred, installMode: true, pollIntervalMs: 20 }
doors:
  - { id: front, relay: { driver: osdp-output, bus: entrance, address: 1, output: 0 }, pulseMs: 300 }
readers:
  - { id: front-osdp, driver: osdp, bus: entrance, address: 1, door: front, mode: entry, wiegandFormats: [h10301], cardFormat: decimal10 }
`,
    );
    const log = memoryLogger('debug');
    gateway = await Gateway.start(loadConfig(config), log.logger, '0.0.0-test');
    const g = gateway;
    const pd = emulator?.pd(1);
    if (pd === undefined) throw new Error('setup failed');
    await waitFor(() => g.status().readers[0]?.device.state === 'online', 'reader online', 15_000);
    expect(g.status().readers[0]?.counters).toMatchObject({ online: 1, secure: 1, keysInstalled: 1, vendorOui: 0x0a0b0c });
    expect(statSync(join(dir.path, 'osdp-keys.json')).mode & 0o777).toBe(0o600);
    const before = pd.outputChanges.length;

    // Ada: card 0004614867 = H10301 facility 70, card 27347.
    const bits = encodeWiegand('h10301', { facility: 70, card: 27347 });
    pd.presentCard(bits.value, bits.length);
    const pulsed = () => {
      const history = pd.outputChanges.slice(before).filter((change) => change.output === 0);
      const on = history.findIndex((change) => change.on);
      return on >= 0 && history.slice(on + 1).some((change) => !change.on);
    };
    await waitFor(pulsed, 'strike energised for the grant, then released');
    expect(pd.outputs[0]).toBe(false);
    await waitFor(() => g.journal.depth().pending === 1, 'decision journaled');
    await waitFor(() => pd.received.some((c) => c.code === CMD.LED && c.data[5] === 2), 'green LED');
    expect(log.lines.join('\n')).not.toContain(pd.scbk?.toString('hex') ?? 'missing');

    // The reader's tamper switch opens, then closes: two alarms on the journal.
    const alarms = () =>
      g.journal
        .recent(50)
        .filter((e) => e.type === 'alarm')
        .map((e) => alarmEventSchema.parse(JSON.parse(e.payload)));
    pd.setLocalStatus(true, false);
    await waitFor(() => alarms().some((a) => a.type === 'tamper'), 'tamper alarm journaled');
    pd.setLocalStatus(false, false);
    await waitFor(() => alarms().some((a) => a.type === 'tamper_restored'), 'tamper restored journaled');
    expect(alarms().find((a) => a.type === 'tamper')).toMatchObject({ priority: 'high', source: 'device:front-osdp', readerId: 'front-osdp', doorId: 'front' });
  });
});
