/**
 * SIGHUP on the real daemon: validate first, apply what can change live,
 * restart only the drivers whose settings changed, report what needs a restart.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayStatusReport } from '../../daemon/runtime/gateway.js';
import { runCli, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { demo, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

describe('SIGHUP reload', () => {
  let dir: ReturnType<typeof tempDir>;
  let daemon: DaemonProcess | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    dir.remove();
  });

  const status = async (config: string): Promise<GatewayStatusReport> =>
    JSON.parse((await runCli(['status', '--json', '--config', config])).stdout) as GatewayStatusReport;

  it('applies live changes, restarts only the changed drivers, refuses a bad file, reports restart-only settings', async () => {
    const body = `schedules:\n  always: { mon: ["00:00-24:00"], tue: ["00:00-24:00"], wed: ["00:00-24:00"], thu: ["00:00-24:00"], fri: ["00:00-24:00"], sat: ["00:00-24:00"], sun: ["00:00-24:00"] }\ndoors:\n  - { id: front, relay: { driver: sim }, pulseMs: 3000 }\n  - { id: back, relay: { driver: sim } }\nreaders:\n  - { id: front-in, driver: sim, door: front, mode: toggle }\n  - { id: back-in, driver: sim, door: back, mode: entry }\n`;
    const config = writeSite(dir.path, body, { logLevel: 'info' });
    daemon = await startDaemon(config);
    const before = await status(config);
    const frontSince = before.readers.find((r) => r.id === 'front-in')?.device.since;
    const backRelaySince = before.doors.find((d) => d.id === 'back')?.relay.since;

    // 1. Live changes: pulse and schedule of front, a new reader, back-in's mode, debug logging.
    const original = readFileSync(config, 'utf8');
    writeFileSync(
      config,
      original
        .replace('level: info', 'level: debug')
        .replace('pulseMs: 3000 }', 'pulseMs: 45000, schedule: always }')
        .replace('mode: entry', 'mode: exit')
        .concat('  - { id: front-keypad, driver: sim, door: front, mode: toggle }\n'),
    );
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog('"msg":"reloaded"');
    const line = daemon.output().split('\n').find((l) => l.includes('"msg":"reloaded"')) ?? '';
    const reloaded = JSON.parse(line) as { applied: string[]; restartRequired: string[] };
    expect(reloaded.restartRequired).toEqual([]);
    expect(reloaded.applied).toEqual(['log level info -> debug', 'door front: settings applied', 'reader front-keypad added', 'reader back-in: driver restarted']);

    const after = await status(config);
    expect(after.readers.map((r) => [r.id, r.mode]).sort()).toEqual([['back-in', 'exit'], ['front-in', 'toggle'], ['front-keypad', 'toggle']]);
    // Unchanged drivers were not touched.
    expect(after.readers.find((r) => r.id === 'front-in')?.device.since).toBe(frontSince);
    expect(after.doors.find((d) => d.id === 'back')?.relay.since).toBe(backRelaySince);
    // The new reader works and the new pulse applies.
    const card = await runCli(['sim', 'card', demo.ada.card, '--reader', 'front-keypad', '--config', config]);
    expect(card.code).toBe(0);
    const open = (await status(config)).doors.find((d) => d.id === 'front');
    expect(open?.state).toBe('unlocked');
    expect((open?.unlockedUntil ?? 0) - Date.now()).toBeLessThanOrEqual(45_000);
    expect((open?.unlockedUntil ?? 0) - Date.now()).toBeGreaterThan(3_000);

    // 2. A bad file changes nothing and says why.
    const good = readFileSync(config, 'utf8');
    writeFileSync(config, good.replace('pulseMs: 45000', 'pulseMs: 5'));
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog('reload refused');
    const refusal = daemon.output().split('\n').find((l) => l.includes('reload refused')) ?? '';
    expect(refusal).toContain('doors.0.pulseMs'.replace('.0.', '[0].'));
    // (The CLI reads the socket path from the config, so put the good file back before asking.)
    writeFileSync(config, good);
    expect((await status(config)).readers).toHaveLength(3);

    // 3. Restart-only settings are reported and left as they are.
    writeFileSync(config, good.replace('gateway: { id: gw1 }', 'gateway: { id: gw2 }'));
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog('only take effect after');
    expect((await status(config)).gateway.id).toBe('gw1');

    expect(await daemon.stop()).toBe(0);
  });
});
