/**
 * Process start to ready, and resident memory, of the daemon with N people
 * already cached: the database is filled first (not measured), then the
 * daemon is timed from spawn until its control socket answers, and its RSS
 * is read from /proc after 500 simulated reads. The daemon runs with the
 * Node flags of the systemd unit (daemon-flags.ts).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sendControlRequest } from '../daemon/control/control-server.js';
import { generateDataset } from '../scripts/lib/dataset-generator.js';
import { TEST_SITE_KEY, writeSite } from '../test/support/site.js';
import { openDatabase } from '../daemon/store/database.js';
import { CredentialCache } from '../daemon/store/cache.js';
import { CredentialHasher } from '../daemon/store/credential-hash.js';
import { tempDir } from '../test/support/temp-dir.js';
import { putInForceBuilt } from './built-cache.js';
import { deployedNodeFlags } from './daemon-flags.js';

const root = join(import.meta.dirname, '..');

async function untilReady(socket: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const r = await sendControlRequest(socket, { op: 'status' }, 1000);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error('daemon did not become ready');
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function measureStartupAndRss(people: number): Promise<{ startupMs: number; rssMb: number }> {
  const dir = tempDir('gatehouse-bench-');
  try {
    const dataset = generateDataset({ people, seed: 3 });
    const cards = dataset.people.flatMap((p) => p.credentials.filter((c) => c.kind === 'card').map((c) => c.value)).slice(0, 500);
    const config = writeSite(dir.path, `doors:\n  - { id: front, relay: { driver: sim } }\nreaders:\n  - { id: front-in, driver: sim, door: front, mode: toggle }\n`);
    // The cache is filled before the daemon starts (not measured), built as a
    // snapshot builds it; the daemon then finds it non-empty.
    const db = openDatabase(join(dir.path, 'gatehouse.db'));
    const hasher = new CredentialHasher(Buffer.from(TEST_SITE_KEY, 'base64'));
    putInForceBuilt(new CredentialCache(db, hasher), hasher, dataset, Date.now());
    db.close();
    const socket = join(dir.path, 'control.sock');
    const run = () => spawn(process.execPath, [...deployedNodeFlags(), join(root, 'dist/daemon/cli/main.js'), 'run', '--config', config], { stdio: 'ignore' });
    const stop = async (child: ReturnType<typeof run>) => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    };

    const started = performance.now();
    const daemon = run();
    await untilReady(socket, 60_000);
    const startupMs = performance.now() - started;
    for (const card of cards) await sendControlRequest(socket, { op: 'sim', kind: 'card', value: card });
    const status = readFileSync(`/proc/${daemon.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    await stop(daemon);
    return { startupMs, rssMb: rssKb / 1024 };
  } finally {
    dir.remove();
  }
}
