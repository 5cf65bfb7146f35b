/**
 * The daemon under the system call filter of systemd/gatehouse.service, as
 * systemd installs it at a site. These machines have no systemd as PID 1:
 * test/support/unit-seccomp.py builds the same filter with libseccomp from
 * systemd's own call sets (systemd-analyze syscall-filter) and the unit's
 * SystemCallFilter= lines. The daemon runs with violations made fatal, so a
 * call it needs and the unit filters kills it here, where at a site it would
 * fail with EPERM and quietly lose a feature.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateDataset } from '../../scripts/lib/dataset-generator.js';
import { signAll, snapshotChunks, writeSnapshotFile } from '../../scripts/cloud-sim/protocol.js';
import { deployedNodeFlags } from '../../bench/daemon-flags.js';
import { cloudKey } from '../support/cloud-keys.js';
import { runCli } from '../support/daemon-process.js';
import { createNotifySocket, type NotifySocket } from '../support/notify-socket.js';
import { waitFor } from '../support/pty.js';
import { demo } from '../support/site.js';
import { signerOf, writeSyncSite } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');
const unit = join(root, 'systemd/gatehouse.service');
const harness = join(root, 'test/support/unit-seccomp.py');
/** The compiled daemon, as the unit starts it. */
const main = join(root, 'dist/daemon/cli/main.js');
/** Debian's python3, which the python3-seccomp package belongs to. */
const python = '/usr/bin/python3';

const userIds = (name: string): { uid: number; gid: number } => ({
  uid: Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim()),
  gid: Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim()),
});

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** The unit runs the daemon as its own user; these machines run the tests as root, so the daemon runs as nobody. */
const daemonUser = process.getuid?.() === 0 ? 'nobody' : null;

function underFilter(unitFile: string, fatal: boolean, command: string[], env: NodeJS.ProcessEnv = {}) {
  const options = [...(fatal ? ['--fatal'] : []), ...(daemonUser === null ? [] : ['--user', daemonUser])];
  const child = spawn(python, [harness, ...options, unitFile, ...command], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output })));
  return { child, output: () => output, exited };
}

describe("the unit's system call filter", () => {
  let dir: ReturnType<typeof tempDir>;
  let notify: NotifySocket | undefined;

  beforeEach(() => {
    dir = tempDir();
    if (!existsSync(main)) throw new Error('dist/ is missing: npm run build (npm ci runs it)');
  });
  afterEach(async () => {
    await notify?.close();
    notify = undefined;
    dir.remove();
  });

  it('lets the daemon start, notify systemd, apply a snapshot on its staging thread, decide and stop, with nothing filtered', { timeout: 90_000 }, async () => {
    const key = cloudKey('cloud-2026');
    const config = writeSyncSite(dir.path, key, { logLevel: 'info' });
    notify = await createNotifySocket(dir.path);
    if (daemonUser !== null) {
      // The site's files are the daemon user's, as install.sh makes them; the notify socket is systemd's, open to it.
      const { uid, gid } = userIds(daemonUser);
      for (const name of ['', ...readdirSync(dir.path)]) chownSync(join(dir.path, name), uid, gid);
      chmodSync(notify.path, 0o666);
    }
    const daemon = underFilter(unit, true, [process.execPath, ...deployedNodeFlags(), main, 'run', '--config', config], { NOTIFY_SOCKET: notify.path });
    await waitFor(() => daemon.output().includes('gatehouse started') || daemon.child.exitCode !== null || daemon.child.signalCode !== null, 'daemon started', 30_000);
    expect(daemon.child.signalCode).toBeNull();
    await notify.waitFor('READY', '1');

    // The staging thread lowers its own priority first thing (setpriority).
    const file = join(dir.path, 'v5.jsonl');
    writeSnapshotFile(file, signAll(signerOf(key), snapshotChunks(generateDataset({ people: 2000, seed: 5, version: 5 }), { gatewayId: 'gw1', siteId: 'test', chunkBytes: 32 * 1024 })));
    const imported = await runCli(['sync', 'import', file, '--config', config]);
    expect(imported.stdout).toMatch(/applied snapshot \S+: version 5, 2,000 people/);
    expect((await runCli(['sim', 'card', demo.ada.card, '--config', config])).stdout).toMatch(/^DENIED \(unknown_credential\)/);

    daemon.child.kill('SIGTERM');
    const exit = await daemon.exited;
    expect(exit.output).not.toMatch(/Bad system call|EPERM/);
    expect(exit).toMatchObject({ code: 0, signal: null });
  });

  it('is enforced by the harness: without the calls the unit puts back, lowering a thread priority kills node', async () => {
    const stripped = join(dir.path, 'stripped.service');
    writeFileSync(stripped, readFileSync(unit, 'utf8').replace(/^SystemCallFilter=@pkey .*$/m, 'SystemCallFilter=@pkey'));
    const lowered = underFilter(stripped, true, [process.execPath, '-e', "require('node:os').setPriority(19); console.log('lowered')"]);
    expect(await lowered.exited).toMatchObject({ signal: 'SIGSYS', output: '' });
    // The shipped unit allows it.
    const shipped = underFilter(unit, true, [process.execPath, '-e', "require('node:os').setPriority(19); console.log('lowered')"]);
    expect(await shipped.exited).toMatchObject({ code: 0, signal: null, output: 'lowered\n' });
  });

  it('at a site, a filtered call fails with EPERM and the daemon lives on (SystemCallErrorNumber)', async () => {
    // setuid is in @privileged, which the unit takes out.
    const script = "try { process.setuid(process.getuid()); console.log('allowed'); } catch (e) { console.log(e.code); }";
    const site = underFilter(unit, false, [process.execPath, '-e', script]);
    expect(await site.exited).toMatchObject({ code: 0, signal: null, output: 'EPERM\n' });
  });
});
