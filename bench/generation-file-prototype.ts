/**
 * A measured prototype, not the daemon's code: what a snapshot apply would
 * cost if each cache generation were its own SQLite file, built from scratch
 * on a worker thread and swapped in by ATTACH, instead of rows staged into
 * the daemon's file beside the generation in force (bench/sync-apply.ts).
 *
 *   npx tsx bench/generation-file-prototype.ts [--people 100000]
 *
 * Main thread, as in sync-apply.ts: an old data set in force in main.db, a
 * cache lookup every 2 ms, a journal append ten times a second (Journal +
 * WalFlusher), the event loop's delay measured. Worker: the new data set
 * (keyed hashes included) inserted in one transaction into a fresh file of
 * its own, which is then fsynced; the loop then ATTACHes it, as a swap would.
 * What it leaves out: envelope checks on the loop (the same in both designs)
 * and parsing the chunks (the worker does it today as well).
 *
 * Why: the staged rows share the daemon's file today, so they go in short
 * transactions that give way to the daemon's writes, and each row costs a
 * random page of the lookup index in the WAL and again in the checkpoint
 * (≈ 2.6 GB written for a 120 MB cache at 100k people, 200+ MB/s during the
 * apply). A file of its own needs neither the write gate nor the checkpoints.
 */
import { fsyncSync, closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startWorkerThread } from '../daemon/runtime/worker-thread.js';
import { CredentialCache } from '../daemon/store/cache.js';
import { CredentialHasher } from '../daemon/store/credential-hash.js';
import { openDatabase } from '../daemon/store/database.js';
import { Journal } from '../daemon/store/journal.js';
import { WalFlusher } from '../daemon/store/wal-flusher.js';
import { generateDataset } from '../scripts/lib/dataset-generator.js';

const SITE_KEY = Buffer.alloc(32, 9);
const NOW = new Date('2026-11-23T00:00:00Z');

interface BuildData {
  readonly path: string;
  readonly people: number;
}

function buildOnWorker(): void {
  const port = parentPort;
  if (port === null) throw new Error('not a worker');
  const { path, people } = workerData as BuildData;
  const dataset = generateDataset({ people, seed: 42, version: 2, now: NOW });
  port.postMessage({ ready: true });
  port.once('message', () => {
    const started = performance.now();
    const db = openDatabase(path);
    new CredentialCache(db, new CredentialHasher(SITE_KEY)).applySnapshot(dataset, Date.now());
    db.close();
    const fd = openSync(path, 'r');
    fsyncSync(fd);
    closeSync(fd);
    port.postMessage({ builtMs: performance.now() - started });
  });
}

async function measure(people: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-genfile-'));
  try {
    const hasher = new CredentialHasher(SITE_KEY);
    const db = openDatabase(join(dir, 'main.db'));
    const cache = new CredentialCache(db, hasher);
    const old = generateDataset({ people, seed: 7, version: 1, now: NOW });
    cache.applySnapshot(old, Date.now());
    const card = old.people.flatMap((p) => p.credentials.filter((c) => c.kind === 'card'))[0];
    if (card === undefined) throw new Error('no card in the old data set');
    const probe = hasher.lookupOf('card', card.value);
    db.pragma('wal_checkpoint(TRUNCATE)');

    const next = join(dir, 'cache-2.db');
    const data: BuildData = { path: next, people };
    const worker = startWorkerThread(new URL(import.meta.url.replace(/\.ts$/, '.js')), { workerData: data });
    await new Promise((ready) => worker.once('message', ready));

    const flusher = new WalFlusher(join(dir, 'main.db'));
    const journal = new Journal(db, 'bench-boot', { durability: flusher });
    const delay = monitorEventLoopDelay({ resolution: 1 });
    const appends: number[] = [];
    let slowestLookup = 0;
    const journaling = setInterval(() => {
      const t = performance.now();
      journal.append('access', 'bench/events/access', Date.now(), (stamp) => ({ eventId: stamp.eventId, seq: stamp.seq }));
      appends.push(performance.now() - t);
    }, 100);
    const lookups = setInterval(() => {
      const t = performance.now();
      cache.candidates(probe);
      slowestLookup = Math.max(slowestLookup, performance.now() - t);
    }, 2);
    delay.enable();
    const started = performance.now();
    worker.postMessage('build');
    const { builtMs } = await new Promise<{ builtMs: number }>((done) => worker.on('message', (m: { builtMs?: number }) => m.builtMs !== undefined && done({ builtMs: m.builtMs })));
    const swapStart = performance.now();
    db.exec(`ATTACH '${next.replaceAll("'", "''")}' AS next`);
    const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM next.cache_people').get()?.n ?? 0;
    db.exec('DETACH next');
    const swapMs = performance.now() - swapStart;
    delay.disable();
    clearInterval(journaling);
    clearInterval(lookups);
    await worker.terminate();
    journal.close();
    await flusher.close();
    db.close();
    if (count !== people) throw new Error(`built ${count} people, expected ${people}`);

    appends.sort((a, b) => a - b);
    const ms = (n: number): string => `${n.toFixed(1)} ms`;
    console.log(`generation file of ${people.toLocaleString('en')} people built on a worker in ${ms(builtMs)} (wall ${ms(swapStart - started)}); ATTACH + count ${ms(swapMs)}`);
    console.log(
      `event-loop delay max ${ms(delay.max / 1e6)}, p99.9 ${ms(delay.percentile(99.9) / 1e6)}, p99 ${ms(delay.percentile(99) / 1e6)}; appends median ${ms(appends[appends.length >> 1] ?? 0)}, max ${ms(appends.at(-1) ?? 0)}; slowest lookup ${ms(slowestLookup)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  const { values } = parseArgs({ options: { people: { type: 'string', default: '100000' } } });
  await measure(Number(values.people));
} else {
  buildOnWorker();
}
