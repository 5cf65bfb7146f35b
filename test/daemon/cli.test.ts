/**
 * The `gatehouse` command as a technician uses it: a real process, real
 * signals, the control socket between two processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/pty.js';
import { demo, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');
// One process, no tsx wrapper: a wrapper would survive a SIGKILL of its child or orphan it.
const cli = ['--import', 'tsx', join(root, 'daemon/cli/main.ts')];

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('gatehouse CLI', () => {
  let dir: ReturnType<typeof tempDir>;
  let daemon: ChildProcess | undefined;
  let daemonOut = '';

  beforeEach(() => {
    dir = tempDir();
    // Each test waits for its own daemon's "gatehouse started".
    daemonOut = '';
  });
  afterEach(async () => {
    if (daemon !== undefined && daemon.exitCode === null) {
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon?.once('exit', r));
    }
    daemon = undefined;
    dir.remove();
  });

  it('config check lists every problem with file and line and exits 1', async () => {
    const config = writeSite(dir.path, `doors:\n  - { id: front, relay: { driver: sim }, pulseMs: 5 }\nreaders:\n  - { id: r1, driver: sim, door: back, mode: sideways }\n`);
    const result = await run(['config', 'check', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('problem(s) in the configuration');
    expect(result.stderr).toContain(`${config}:8: doors[0].pulseMs:`);
    expect(result.stderr).toContain(`${config}:10: readers[0].mode:`);
    // Cross-references (readers[0].door names no door) are checked once the shape is right.
    writeFileSync(config, (await import('node:fs')).readFileSync(config, 'utf8').replace('pulseMs: 5', 'pulseMs: 500').replace('sideways', 'entry'));
    const second = await run(['config', 'check', '--config', config]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`${config}:10: readers[0].door: no door with id "back"`);
  });

  it('run refuses an invalid config without touching anything', async () => {
    writeFileSync(join(dir.path, 'bad.yaml'), 'site: [\n');
    const result = await run(['run', '--config', join(dir.path, 'bad.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to start.*\n.*bad\.yaml:\d+: YAML:/);
  });

  it('runs the daemon, simulates a card and a PIN, shows status, and stops on SIGTERM', async () => {
    // A long pulse: the status below must find the door still open however slow the machine is.
    const config = writeSite(dir.path, `doors:\n  - { id: front, relay: { driver: sim }, pulseMs: 60000 }\nreaders:\n  - { id: front-in, driver: sim, door: front, mode: toggle }\n`, { logLevel: 'info' });
    daemon = spawn(process.execPath, [...cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout?.on('data', (d: Buffer) => (daemonOut += d.toString()));
    daemon.stderr?.on('data', (d: Buffer) => (daemonOut += d.toString()));
    await waitFor(() => daemonOut.includes('gatehouse started'), 'daemon started', 20_000);

    const card = await run(['sim', 'card', demo.ada.card], { GATEHOUSE_CONFIG: config });
    expect(card).toMatchObject({ code: 0 });
    expect(card.stdout).toMatch(/^GRANTED \(granted\) person m-1001, checked in, event #1/);

    const pin = await run(['sim', 'pin', '00000', '--config', config]);
    expect(pin.code).toBe(3);
    expect(pin.stdout).toMatch(/^DENIED \(unknown_credential\)/);

    const status = await run(['status', '--config', config]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/front\s+unlocked/);
    expect(status.stdout).toContain('2 event(s) waiting for the broker');
    expect(status.stdout).toContain('Ada Lovelace (m-1001)');

    const json = JSON.parse((await run(['status', '--json', '--config', config])).stdout) as { journal: { pending: number } };
    expect(json.journal.pending).toBe(2);

    const events = await run(['events', '--config', config]);
    expect(events.stdout).toMatch(/#1 .* front-in .* granted .* m-1001 .* checked_in .* queued/);

    daemon.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => daemon?.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(daemonOut).toContain('gatehouse stopped');
    expect(daemonOut).not.toContain(demo.ada.card);
  });

  it('sim input drives a simulated door contact; status and events show the door', async () => {
    const config = writeSite(dir.path, `doors:\n  - { id: front, relay: { driver: sim }, contact: { driver: sim }, rex: { driver: sim } }\n`, { logLevel: 'info' });
    daemon = spawn(process.execPath, [...cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout?.on('data', (d: Buffer) => (daemonOut += d.toString()));
    daemon.stderr?.on('data', (d: Buffer) => (daemonOut += d.toString()));
    await waitFor(() => daemonOut.includes('gatehouse started'), 'daemon started', 20_000);

    const forced = await run(['sim', 'input', 'front', 'contact', 'open', '--config', config]);
    expect(forced.stderr).toBe('');
    expect(forced).toMatchObject({ code: 0 });
    expect(forced.stdout).toBe('door front: forced-open, mode normal, lock locked, ALARM forced-open\n');
    const status = await run(['status', '--config', config]);
    expect(status.stdout).toMatch(/front\s+forced-open/);
    expect(status.stdout).toContain('lock locked, contact open, rex released');
    expect((await run(['events', '--config', config])).stdout).toMatch(/#1 .* door front\s+forced-open .* queued/);

    const bad = await run(['sim', 'input', 'front', 'window', 'open', '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "sim input front window open"');
  });

  it('status without a running daemon says so', async () => {
    const config = writeSite(dir.path, '');
    const result = await run(['status', '--config', config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no Gatehouse daemon is listening');
  });
});
