/**
 * How long a large snapshot takes to apply, and whether decisions stall
 * meanwhile. Run:  npm run bench:sync -- [--people 100000] [--chunk-kib 64] [--gaps [--threads]]
 * (it builds first: the daemon's modules are taken from dist/, see compiled.ts).
 *
 * 1. A generated data set is cut into signed chunks (scripts/cloud-sim).
 * 2. A database holding an older data set of the same size receives the chunks the way
 *    MQTT delivers them (one per event-loop turn), a second after the
 *    request that asked for them (which gets the staging thread started),
 *    in a process whose other threads run below its event loop as the
 *    daemon's do (runtime/thread-priority.ts), and applies them through
 *    the sync engine (the staging worker builds the new generation's file,
 *    the event loop swaps it in), while the event loop's delay is measured
 *    (perf_hooks.monitorEventLoopDelay at 1 ms resolution, and a 1 ms
 *    interval's longest gap) and a cache lookup runs every 2 ms, timed, as
 *    a decision would, and an event is appended to the journal ten times a
 *    second, as decisions do (committed on the event loop, made durable by
 *    the WAL flusher off it).
 *    It runs with the daemon's Node flags (from the systemd unit; started
 *    without them, it starts itself again with them).
 * 3. For comparison, the same rows go into a fresh database in one bulk
 *    transaction (CredentialCache.applySnapshot): the fastest possible
 *    apply, during which nothing else can run.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import type { Dataset } from '../daemon/sync/dataset.js';
import { generateDataset } from '../scripts/lib/dataset-generator.js';
import { putInForceBuilt } from './built-cache.js';
import { compiled } from './compiled.js';
import { deployedNodeFlags } from './daemon-flags.js';
import { signAll, snapshotChunks } from '../scripts/cloud-sim/protocol.js';

// With the daemon's Node flags, however this was started: the young generation's size and V8's
// helper threads decide much of the event loop's stalls (bench/daemon-flags.ts reads them from the unit).
const flags = deployedNodeFlags();
if (!flags.every((flag) => process.execArgv.includes(flag))) {
  const child = spawnSync(process.execPath, [...flags, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

// The daemon's own code as a site runs it (its staging worker too).
const { CloudKeyring } = await compiled<typeof import('../daemon/cloud/signed-message.js')>('daemon/cloud/signed-message.js');
const { currentGenerationPath } = await compiled<typeof import('../daemon/store/cache-files.js')>('daemon/store/cache-files.js');
const { CredentialCache } = await compiled<typeof import('../daemon/store/cache.js')>('daemon/store/cache.js');
const { CredentialHasher } = await compiled<typeof import('../daemon/store/credential-hash.js')>('daemon/store/credential-hash.js');
const { openDatabase } = await compiled<typeof import('../daemon/store/database.js')>('daemon/store/database.js');
const { Journal } = await compiled<typeof import('../daemon/store/journal.js')>('daemon/store/journal.js');
const { WalFlusher } = await compiled<typeof import('../daemon/store/wal-flusher.js')>('daemon/store/wal-flusher.js');
const { SyncEngine } = await compiled<typeof import('../daemon/sync/sync-engine.js')>('daemon/sync/sync-engine.js');
const { lowerOtherThreads } = await compiled<typeof import('../daemon/runtime/thread-priority.js')>('daemon/runtime/thread-priority.js');

const { values } = parseArgs({
  options: {
    people: { type: 'string', default: '100000' },
    'chunk-kib': { type: 'string', default: '64' },
    'slice-ms': { type: 'string', default: '2' },
    seed: { type: 'string', default: '42' },
    'in-thread': { type: 'boolean', default: false },
    // The journal as it was before the WAL flusher: every commit fsynced on the event loop (for comparison).
    'full-sync': { type: 'boolean', default: false },
    // List every gap of the 1 ms timer over 10 ms, with when it happened (diagnosis).
    gaps: { type: 'boolean', default: false },
    // With --gaps: which threads of this process ran during each gap (reads every thread's counters at every tick).
    threads: { type: 'boolean', default: false },
    // How long the loop is watched without an apply first, as the baseline (--quick runs shorten it).
    'idle-ms': { type: 'string', default: '5000' },
    json: { type: 'string' },
  },
});
const people = Number(values.people);
const chunkBytes = Number(values['chunk-kib']) * 1024;
const sliceMs = Number(values['slice-ms']);
const to = { gatewayId: 'bench-gw', siteId: 'bench' };
const hasher = new CredentialHasher(Buffer.alloc(32, 9));
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;
/** How long the loop is watched without an apply, as the baseline. */
const IDLE_BASELINE_MS = Number(values['idle-ms']);
const ms = (n: number): string => `${n.toFixed(1)} ms`;
/** Time on a core of every thread of this process, in ns, by "tid (nice N)"; the event loop's thread by name. */
const threadTimes = (): Map<string, number> => {
  const times = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      // Fields after the command's closing parenthesis: nice is the 17th.
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      const name = tid === String(process.pid) ? 'event loop' : `${tid} (nice ${fields[16]})`;
      times.set(name, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return times;
};
/** This thread's time on a core and time runnable but waiting for one, in ns (Linux schedstat). */
const threadSchedstat = (): [number, number] => {
  const [ran = 0, waited = 0] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
  return [ran, waited];
};

console.log(`generating ${people.toLocaleString('en')} people (seed ${values.seed})...`);
const generate = () => generateDataset({ people, seed: Number(values.seed), version: 2, now: new Date('2026-11-23T00:00:00Z') });
let dataset: Dataset | null = generate();
const credentials = dataset.people.reduce((n, p) => n + p.credentials.length, 0);
const entitlements = dataset.people.reduce((n, p) => n + p.entitlements.length, 0);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key = { keyId: 'bench', privateKey };
const envelopes = signAll(key, snapshotChunks(dataset, { ...to, chunkBytes })).map((e) => Buffer.from(e));
// The gateway never holds the whole data set as objects; neither does the measured part of this process.
dataset = null;
const totalBytes = envelopes.reduce((n, e) => n + e.length, 0);
console.log(
  `${credentials.toLocaleString('en')} credentials, ${entitlements.toLocaleString('en')} entitlements; ${envelopes.length} signed chunks, ${(totalBytes / 1048576).toFixed(1)} MiB (largest ${(Math.max(...envelopes.map((e) => e.length)) / 1024).toFixed(0)} KiB)`,
);

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
try {
  // --- the sync engine, with decisions running meanwhile --------------------
  const db = openDatabase(join(dir, 'sync.db'));
  const cache = new CredentialCache(db, hasher);
  // The data in force before: as large as the new, so the background deletion of the replaced generation is measured too.
  console.log('putting the old data set in force (setup, not measured)...');
  const probeLookup = (() => {
    // Scoped: the old data set's objects are garbage before the measurement starts.
    const old = generateDataset({ people, seed: 7, version: 1, now: new Date('2026-11-23T00:00:00Z') });
    // In force the way a site's is: a file built from a snapshot (its replacement, at the swap, has nothing left to checkpoint).
    putInForceBuilt(cache, hasher, old, Date.now());
    const probe = old.people.flatMap((p) => p.credentials.filter((c) => c.kind === 'card'))[0];
    if (probe === undefined) throw new Error('no card in the old data set');
    return hasher.lookupOf('card', probe.value);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');

  const engine = new SyncEngine({
    cache,
    keyring: new CloudKeyring([{ id: 'bench', key: publicKey.export({ type: 'spki', format: 'pem' }).toString() }]),
    maxMessageBytes: 16 * 1024 * 1024,
    ...to,
    staleness: null,
    logger: pino({ level: 'silent' }),
    sliceMs,
    stagingWorker: values['in-thread'] !== true,
  });
  engine.start();
  // What `gatehouse run` does first.
  lowerOtherThreads();

  // The setup (two data sets of objects, one bulk apply) leaves hundreds of MB of garbage on this
  // thread's heap that the daemon never has: collected before anything is timed (and given time to
  // finish its sweeping), it does not slow every collection of the measured part.
  fullGc();
  await new Promise((r) => setTimeout(r, 500));
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let maxGap = 0;
  let ticks = 0;
  let over10 = 0;
  const longGaps: { at: number; ms: number; ranMs: number; waitedMs: number }[] = [];
  // With --gaps, the kernel's account of this thread at every tick: time on a core and time
  // runnable but waiting for one (/proc schedstat), so a gap splits into work and waiting.
  const sched = values.gaps === true ? threadSchedstat : (): [number, number] => [0, 0];
  let lastSched = sched();
  // With --threads, every thread of this process too, to name what held the cores during a gap.
  let lastThreads = values.threads === true ? threadTimes() : new Map<string, number>();
  const threadGaps: string[] = [];
  const ticker = setInterval(() => {
    const t = performance.now();
    const now = sched();
    maxGap = Math.max(maxGap, t - last);
    ticks++;
    if (t - last > 10) {
      over10++;
      longGaps.push({ at: last, ms: t - last, ranMs: (now[0] - lastSched[0]) / 1e6, waitedMs: (now[1] - lastSched[1]) / 1e6 });
      if (values.threads === true) {
        const threads = threadTimes();
        const ran = [...threads].map(([thread, ns]) => ({ thread, ms: (ns - (lastThreads.get(thread) ?? ns)) / 1e6 })).filter((t) => t.ms >= 0.1);
        threadGaps[longGaps.length - 1] = ran.map((t) => `${t.thread} ${ms(t.ms)}`).join(', ');
      }
    }
    if (values.threads === true) lastThreads = threadTimes();
    last = t;
    lastSched = now;
  }, 1);
  let lookups = 0;
  let maxLookup = 0;
  let oldSeen = 0;
  const decisions = setInterval(() => {
    const t = performance.now();
    const found = cache.candidates(probeLookup);
    maxLookup = Math.max(maxLookup, performance.now() - t);
    lookups++;
    if (found.length > 0) oldSeen++;
  }, 2);
  // What a decision also does: append its event to the journal on this same connection, which
  // the WAL flusher then makes durable off the loop; ten a second, far more than a door sees.
  const flusher = new WalFlusher(join(dir, 'sync.db'));
  if (values['full-sync'] === true) db.pragma('synchronous = FULL');
  const journal = new Journal(db, 'bench-boot', values['full-sync'] === true ? {} : { durability: flusher });
  const appendedAt = new Map<number, number>();
  const durableAfter: number[] = [];
  journal.onAppend((entry) => {
    const t = appendedAt.get(entry.seq);
    if (t !== undefined) durableAfter.push(performance.now() - t);
  });
  const commitTimes: number[] = [];
  const journaling = setInterval(() => {
    const t = performance.now();
    const entry = journal.append('access', 'bench/events/access', Date.now(), (stamp) => ({ eventId: stamp.eventId, seq: stamp.seq }));
    commitTimes.push(performance.now() - t);
    appendedAt.set(entry.seq, t);
  }, 100);

  // Garbage-collection pauses of this (the event loop's) thread during the apply: a stall that is not the apply's own work.
  const gcPauses: number[] = [];
  const majorPauses: number[] = [];
  const gcSpans: { start: number; ms: number }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcPauses.push(entry.duration);
      gcSpans.push({ start: entry.startTime, ms: entry.duration });
      if (((entry as { detail?: { kind?: number } }).detail?.kind ?? 0) === constants.NODE_PERFORMANCE_GC_MAJOR) majorPauses.push(entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  // The baseline, in the same run: the same loop with the same lookups and
  // journal appends, for about as long as an apply takes, without one. What
  // it shows is this machine's own hiccups (other tenants, the hypervisor).
  const baseline = monitorEventLoopDelay({ resolution: 1 });
  baseline.enable();
  await new Promise((r) => setTimeout(r, IDLE_BASELINE_MS));
  baseline.disable();
  const idleGap = maxGap;
  // As at a site: the gateway asks for the snapshot (at boot, after a gap), the engine gets its staging
  // thread ready, and the cloud answers once it has cut and signed it (a second here; far longer for 100k).
  engine.noteRequest('bench-request', 'boot');
  await new Promise((r) => setTimeout(r, 1_000));
  maxGap = 0;
  over10 = 0;
  ticks = 0;
  longGaps.length = 0;
  threadGaps.length = 0;
  gcPauses.length = 0;
  majorPauses.length = 0;
  histogram.enable();
  const started = performance.now();
  let applied = 0;
  // One message per event-loop turn, as the MQTT socket delivers them (a socket read holds one 64 KiB message).
  const outcomes: Promise<void>[] = [];
  await new Promise<void>((delivered) => {
    let next = 0;
    const deliver = (): void => {
      const envelope = envelopes[next];
      if (envelope === undefined) return delivered();
      const i = next++;
      outcomes.push(
        engine.handleSnapshotMessage(envelope).then((outcome) => {
          if (outcome.kind === 'rejected') throw new Error(`chunk ${i}: ${outcome.reason} ${outcome.detail}`);
          if (outcome.kind === 'applied') applied = performance.now();
        }),
      );
      setImmediate(deliver);
    };
    setImmediate(deliver);
  });
  await Promise.all(outcomes);
  const cleaned = performance.now();
  await engine.whenIdle();
  const idle = performance.now();
  histogram.disable();
  gcObserver.disconnect();
  clearInterval(ticker);
  clearInterval(decisions);
  clearInterval(journaling);
  commitTimes.sort((a, b) => a - b);
  durableAfter.sort((a, b) => a - b);
  const state = cache.state();
  const counts = cache.counts();
  if (state.version !== 2 || counts.people !== people) throw new Error(`apply incomplete: version ${state.version}, ${counts.people} people`);
  await engine.stop();
  journal.close();
  await flusher.close();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const syncDbBytes = statSync(join(dir, 'sync.db')).size;
  const cacheFile = currentGenerationPath(db);
  db.close();
  const cacheBytes = cacheFile === null ? 0 : statSync(cacheFile).size;

  // --- the same rows in one bulk transaction --------------------------------
  const rawDb = openDatabase(join(dir, 'raw.db'));
  const rawCache = new CredentialCache(rawDb, hasher);
  const rawRows = generate();
  const rawStart = performance.now();
  rawCache.applySnapshot(rawRows, Date.now());
  const rawMs = performance.now() - rawStart;
  rawDb.close();

  console.log('');
  console.log(
    `sync engine, ${envelopes.length} chunks of ~${values['chunk-kib']} KiB, ${values['in-thread'] === true ? `staged on the event loop in slices of ${sliceMs} ms` : 'staged on the worker thread'}:`,
  );
  console.log(`  snapshot in force after      ${ms(applied - started)}  (verify, parse, validate, hash, stage, swap)`);
  console.log(`  old generation removed after ${ms(idle - started)}  (background, after the swap; all chunks handled at ${ms(cleaned - started)})`);
  console.log(
    `  event-loop delay             max ${ms(histogram.max / 1e6)}, p99.9 ${ms(histogram.percentile(99.9) / 1e6)}, p99 ${ms(histogram.percentile(99) / 1e6)}, mean ${ms(histogram.mean / 1e6)} (monitorEventLoopDelay)`,
  );
  console.log(`  longest gap of a 1 ms timer  ${ms(maxGap)}; ${over10} of ${ticks.toLocaleString('en')} gaps over 10 ms`);
  console.log(
    `  baseline, no apply (${IDLE_BASELINE_MS / 1000} s before it): loop delay max ${ms(baseline.max / 1e6)}, p99 ${ms(baseline.percentile(99) / 1e6)}; longest timer gap ${ms(idleGap)}`,
  );
 if (values.gaps === true) {
    for (const g of longGaps) {
      // How much of the gap this thread spent collecting garbage.
      const gc = gcSpans.reduce((n, c) => n + Math.max(0, Math.min(c.start + c.ms, g.at + g.ms) - Math.max(c.start, g.at)), 0);
      console.log(
        `    gap of ${ms(g.ms)} from ${ms(g.at - started)} (swap at ${ms(applied - started)}): on a core ${ms(g.ranMs)} (${ms(gc)} of it GC), waiting for a core ${ms(g.waitedMs)}, neither ${ms(Math.max(0, g.ms - g.ranMs - g.waitedMs))} (blocked, or the VM not running)`,
      );
      const threads = threadGaps[longGaps.indexOf(g)];
      if (threads !== undefined) console.log(`      threads on a core meanwhile: ${threads}`);
    }
  }
 gcPauses.sort((a, b) => a - b);
  console.log(
    `  GC pauses on the loop        ${gcPauses.length}, max ${ms(gcPauses.at(-1) ?? 0)}, ${gcPauses.filter((p) => p > 5).length} over 5 ms; of them full (mark-compact) ${majorPauses.length}, max ${ms(Math.max(0, ...majorPauses))}`,
  );
  console.log(`  lookups during the apply     ${lookups.toLocaleString('en')}, slowest ${ms(maxLookup)}, ${oldSeen.toLocaleString('en')} answered from the old data`);
  const quantiles = (sorted: number[]): string =>
    `median ${ms(sorted[Math.floor(sorted.length / 2)] ?? 0)}, p99 ${ms(sorted[Math.floor(sorted.length * 0.99)] ?? 0)}, max ${ms(sorted.at(-1) ?? 0)}`;
  console.log(`  journal appends (on the loop) ${commitTimes.length}, ${quantiles(commitTimes)}`);
  console.log(`  durable (flushed) after      ${quantiles(durableAfter)}  (off the loop; an event is published after this)`);
  console.log(`  files after                  main ${(syncDbBytes / 1048576).toFixed(1)} MiB, cache generation ${(cacheBytes / 1048576).toFixed(1)} MiB`);
  console.log(`raw bulk insert of the same rows in one transaction:`);
  console.log(`  ${ms(rawMs)}, during which the event loop is blocked (a ${ms(rawMs)} stall)`);
  if (values.json !== undefined) {
    // Figures for bench/run.ts, which runs this in its own process.
    writeFileSync(
      values.json,
      JSON.stringify({
        applyS: (applied - started) / 1000,
        rawS: rawMs / 1000,
        maxStallMs: histogram.max / 1e6,
        p99StallMs: histogram.percentile(99) / 1e6,
        idleMaxStallMs: baseline.max / 1e6,
        idleP99StallMs: baseline.percentile(99) / 1e6,
      }),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
