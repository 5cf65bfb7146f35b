/**
 * The daemon is killed (SIGKILL) while it stages a large snapshot received
 * over MQTT. After a restart the old data is in force, the database passes
 * SQLite's integrity check, and the half-staged rows are cleaned away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudSim } from '../../scripts/cloud-sim/cloud-sim.js';
import { generateDataset } from '../../scripts/lib/dataset-generator.js';
import { cloudKey } from '../support/cloud-keys.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { waitFor } from '../support/pty.js';
import { demo } from '../support/site.js';
import { openStoreReadonly, signerOf, strayRows, writeSyncSite } from '../support/sync.js';
import { generationPath, generationsOnDisk, pointedGeneration } from '../../daemon/store/cache-files.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');
// One process, no tsx wrapper: SIGKILL must hit the daemon itself, not a wrapper that leaves it running.
const cli = ['--import', 'tsx', join(root, 'daemon/cli/main.ts')];
// The daemon in this very process (tsx as a loader), not under the tsx CLI, which
// runs its script in a child of its own: SIGKILL cannot be passed on to that one.
const daemonArgs = ['--import', 'tsx', join(root, 'daemon/cli/main.ts')];
const key = cloudKey('cloud-2026');
const WAIT = 30_000;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('daemon killed mid-snapshot', () => {
  let dir: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let cloud: CloudSim | undefined;
  let daemon: ChildProcess | undefined;
  let output = '';

  const startDaemon = async (config: string): Promise<ChildProcess> => {
    output = '';
    const child = spawn(process.execPath, [...daemonArgs, 'run', '--config', config], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let mine = '';
    child.stdout?.on('data', (d: Buffer) => {
      mine += d.toString();
      output = mine;
    });
    child.stderr?.on('data', (d: Buffer) => {
      mine += d.toString();
      output = mine;
    });
    daemon = child;
    try {
      await waitFor(() => output.includes('gatehouse started'), 'the daemon to start', WAIT);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; its output:\n${output.slice(-3000)}`);
    }
    return child;
  };
  const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  beforeEach(async () => {
    dir = tempDir();
    broker = await startMosquitto();
  });
  afterEach(async () => {
    if (daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await exited(daemon);
    }
    daemon = undefined;
    await cloud?.stop();
    cloud = undefined;
    await broker.dispose();
    dir.remove();
  });

  it('leaves the old cache in force, the file intact, and no staged rows after the restart', { timeout: 120_000 }, async () => {
    const config = writeSyncSite(dir.path, key, { brokerUrl: broker.url, logLevel: 'info' });
    const dbPath = join(dir.path, 'gatehouse.db');
    cloud = new CloudSim({ url: broker.url, gatewayId: 'gw1', siteId: 'test', signer: signerOf(key), dataset: generateDataset({ people: 40_000, seed: 11, version: 2 }), answerRequests: false });
    await cloud.start();

    const first = await startDaemon(config);
    await cloud.waitFor(() => cloud?.requests.some((r) => r.reason === 'boot') === true, WAIT, 'the boot request');
    const sending = cloud.publishSnapshot().catch(() => undefined);

    // Watch the directory from outside, as a second process would, and kill
    // the daemon as soon as the new generation's file is being built.
    const inForce = (): { gen: number | null; version: number } => {
      const db = openStoreReadonly(dbPath);
      try {
        return { gen: pointedGeneration(db), version: (db.prepare(`SELECT version FROM sync_state WHERE id = 1`).get() as { version: number }).version };
      } finally {
        db.close();
      }
    };
    const before = inForce();
    const building = (): number | undefined => generationsOnDisk(dbPath).find((g) => g !== before.gen && statSync(generationPath(dbPath, g), { throwIfNoEntry: false })?.size);
    const deadline = Date.now() + WAIT;
    while (building() === undefined) {
      if (Date.now() > deadline) throw new Error(`no generation file was started:\n${output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    first.kill('SIGKILL');
    await exited(first);
    await sending;
    expect(inForce()).toEqual(before);
    expect(before.version).toBe(1);

    // The file as the killed daemon left it.
    const check = openStoreReadonly(dbPath, false);
    expect(check.pragma('main.integrity_check', { simple: true })).toBe('ok');
    expect(check.pragma('cache.integrity_check', { simple: true })).toBe('ok');
    check.close();
    expect(strayRows(dbPath)).toBeGreaterThan(0);

    // Restart: the old data (version 1, the demo data set) is in force, and the leftovers go.
    await startDaemon(config);
    const status = JSON.parse((await run(['status', '--json', '--config', config])).stdout) as { cache: { version: number; people: number } };
    expect(status.cache).toMatchObject({ version: 1, people: 5 });
    const card = await run(['sim', 'card', demo.ada.card, '--config', config]);
    expect(card.stdout).toMatch(/^GRANTED \(granted\) person m-1001/);
    await waitFor(() => strayRows(dbPath) === 0, 'the staged rows removed', WAIT);
    const check2 = openStoreReadonly(dbPath);
    expect(check2.pragma('main.integrity_check', { simple: true })).toBe('ok');
    expect(check2.pragma('cache.integrity_check', { simple: true })).toBe('ok');
    check2.close();
  });
});
