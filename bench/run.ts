/**
 * npm run bench [-- --quick]
 *
 * Every figure is measured beside a baseline from the same run on the same
 * machine, because these machines are noisy. Full runs write
 * bench/results.json and BENCHMARKS.md; --quick (smaller sizes, under a
 * minute) writes bench/results-quick.json only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureDecide } from './decide.js';
import { FRAME_WIRE_MS, measureE2ePty, measurePtyEcho } from './e2e-pty.js';
import { measureE2ePtyLoaded, type LoadedLatency } from './e2e-pty-loaded.js';
import { measureOsdpMatrix, OSDP_MATRIX } from './osdp.js';
import { measureOutboxDrain } from './outbox-drain.js';
import { measureStartupAndRss } from './startup-rss.js';
import { machine, round, summarize } from './stats.js';
import { deployedNodeFlags } from './daemon-flags.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const quick = values.quick === true;
const root = join(import.meta.dirname, '..');
const size = (full: number, small: number): number => (quick ? small : full);
const log = (msg: string): void => console.log(`[bench] ${msg}`);

const results: Record<string, number> = {};

log(`machine: ${machine()}${quick ? ' (quick)' : ''}`);

const bigPeople = size(100_000, 10_000);
log(`decide at 1k, ${bigPeople.toLocaleString('en')}${quick ? '' : ' and 1M'} people`);
const d1k = measureDecide(1000, size(50_000, 10_000));
const dBig = measureDecide(bigPeople, size(50_000, 10_000));
results.decide_p50_us = round(dBig.decide.p50, 1);
results.decide_p99_us = round(dBig.decide.p99, 1);
results.sqlite_lookup_p99_us = round(dBig.sqliteLookup.p99, 1);
results.decide_p99_us_1k = round(d1k.decide.p99, 1);
results.credential_hash_p50_us = round(dBig.hash.p50, 1);
results.credential_hash_p99_us = round(dBig.hash.p99, 1);
// The growth target's floor: the bare lookup at both ends, from the same runs.
results.sqlite_lookup_p99_us_1k = round(d1k.sqliteLookup.p99, 1);
if (!quick) {
  const d1m = measureDecide(1_000_000, 50_000);
  results.decide_p99_us_1m = round(d1m.decide.p99, 1);
  results.sqlite_lookup_p99_us_1m = round(d1m.sqliteLookup.p99, 1);
}

log('card to relay through the daemon process on ptys, and the pty echo baseline');
const echo = await measurePtyEcho(size(300, 20));
const e2e = await measureE2ePty(size(200, 20));
results.e2e_pty_p50_ms = round(e2e.p50);
results.e2e_pty_p99_ms = round(e2e.p99);
// The first read after READY=1 (not counted above): what the first member after a restart waits.
results.e2e_pty_first_read_ms = round(e2e.firstMs);
results.pty_echo_first_ms = round(echo.firstMs);
results.pty_echo_p50_ms = round(echo.p50);
results.pty_echo_p99_ms = round(echo.p99);
results.frame_wire_ms = round(FRAME_WIRE_MS);

const loadPeople = size(100_000, 10_000);
const backlog = size(100_000, 20_000);
const loadRounds = size(2, 1);
log(
  `card to relay while a ${loadPeople.toLocaleString('en')}-people snapshot is applied and ${backlog.toLocaleString('en')} queued events drain; ` +
    `then the pty echo under the same load (${loadRounds} round${loadRounds === 1 ? '' : 's'})`,
);
// Daemon and echo rounds alternate, so a slow spell of the machine falls on both; samples are pooled per probe.
const loadedRounds: LoadedLatency[] = [];
const echoLoadedRounds: LoadedLatency[] = [];
for (let pass = 0; pass < loadRounds; pass++) {
  loadedRounds.push(await measureE2ePtyLoaded(loadPeople, backlog, size(100, 10)));
  echoLoadedRounds.push(await measureE2ePtyLoaded(loadPeople, backlog, size(100, 10), 'echo'));
}
const loaded = summarize(loadedRounds.flatMap((r) => r.samples));
const echoLoaded = summarize(echoLoadedRounds.flatMap((r) => r.samples));
results.e2e_pty_loaded_p50_ms = round(loaded.p50);
results.e2e_pty_loaded_p99_ms = round(loaded.p99);
results.e2e_pty_loaded_max_ms = round(loaded.max);
results.e2e_pty_loaded_samples = loaded.n;
results.e2e_pty_loaded_samples_draining = loadedRounds.reduce((sum, r) => sum + r.duringDrain, 0);
results.e2e_pty_loaded_import_s = round(Math.max(...loadedRounds.map((r) => r.importS)), 2);
// Baseline: the trivial echo process sampled beside the daemon while the daemon carries the same load.
results.pty_echo_loaded_p50_ms = round(echoLoaded.p50);
results.pty_echo_loaded_p99_ms = round(echoLoaded.p99);
results.pty_echo_loaded_max_ms = round(echoLoaded.max);
results.pty_echo_loaded_samples = echoLoaded.n;

// --quick: the ends of the matrix only (each row starts a daemon and a PD emulator).
const osdpMatrix = quick ? ([[1, 9600], [8, 115_200]] as const) : OSDP_MATRIX;
log(`OSDP card to read and to strike vs poll cycle, secure channel: ${osdpMatrix.map(([pds, baud]) => `${pds} PD${pds === 1 ? '' : 's'} at ${baud}`).join(', ')}`);
for (const row of await measureOsdpMatrix(size(40, 4), osdpMatrix)) {
  const key = `${row.pds}pd_${row.baudRate}`;
  results[`osdp_card_p50_ms_${key}`] = round(row.readP50, 2);
  results[`osdp_card_p99_ms_${key}`] = round(row.readP99, 2);
  results[`osdp_strike_p50_ms_${key}`] = round(row.strikeP50, 2);
  results[`osdp_strike_p99_ms_${key}`] = round(row.strikeP99, 2);
  results[`osdp_poll_cycle_ms_${key}`] = round(row.pollCycleMs, 2);
}

const events = size(100_000, 10_000);
log(`outbox drain of ${events.toLocaleString('en')} events and raw mqtt.js QoS 1`);
const drain = await measureOutboxDrain(events);
results.outbox_drain_eps = Math.round(drain.outboxEps);
results.mqtt_raw_qos1_eps = Math.round(drain.rawEps);

log(`snapshot apply of ${bigPeople.toLocaleString('en')} people (own process)`);
const tmp = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
try {
  const out = join(tmp, 'sync.json');
  // With the daemon's Node flags: the loop's own collections are part of its stalls.
  execFileSync(process.execPath, [...deployedNodeFlags(), '--import', 'tsx', join(root, 'bench/sync-apply.ts'), '--people', String(bigPeople), '--idle-ms', String(size(5000, 1500)), '--json', out], {
    stdio: 'ignore',
  });
  const sync = JSON.parse(readFileSync(out, 'utf8')) as { applyS: number; rawS: number; maxStallMs: number; p99StallMs: number; idleMaxStallMs: number; idleP99StallMs: number };
  results[quick ? 'sync_snapshot_10k_s' : 'sync_snapshot_100k_s'] = round(sync.applyS, 2);
  results[quick ? 'sqlite_bulk_insert_10k_s' : 'sqlite_bulk_insert_100k_s'] = round(sync.rawS, 2);
  results.sync_max_loop_stall_ms = round(sync.maxStallMs, 1);
  results.sync_p99_loop_stall_ms = round(sync.p99StallMs, 1);
  // Baseline: the same loop, lookups and appends for 5 s just before, without an apply.
  results.idle_max_loop_stall_ms = round(sync.idleMaxStallMs, 1);
  results.idle_p99_loop_stall_ms = round(sync.idleP99StallMs, 1);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

log(`daemon start and memory with ${bigPeople.toLocaleString('en')} people cached`);
const proc = await measureStartupAndRss(bigPeople);
results[quick ? 'rss_mb_10k' : 'rss_mb_100k'] = round(proc.rssMb, 1);
results.startup_ms = Math.round(proc.startupMs);

console.log(JSON.stringify(results, null, 2));
writeFileSync(join(root, quick ? 'bench/results-quick.json' : 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
if (!quick) writeFileSync(join(root, 'BENCHMARKS.md'), report(results));

function report(r: Record<string, number>): string {
  const row = (name: string, value: number | undefined, baseline: string, target: string, met: boolean | undefined): string =>
    `| ${name} | ${value ?? 'not measured'} | ${baseline} | ${target} | ${met === undefined ? '-' : met ? 'met' : '**missed**'} |`;
  const n = (k: string): number => r[k] ?? Number.NaN;
  return `# Benchmarks

Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine()}.
Every figure has its baseline from the same run. Raw figures: [bench/results.json](bench/results.json).

| figure | value | baseline in the same run | target | |
|---|---|---|---|---|
${row('decide_p99_us (100k people)', r.decide_p99_us, `sqlite_lookup_p99_us ${r.sqlite_lookup_p99_us}; of a decision, the keyed hash alone: p50 ${r.credential_hash_p50_us}, p99 ${r.credential_hash_p99_us}`, '≤ 3 × lookup', n('decide_p99_us') <= 3 * n('sqlite_lookup_p99_us'))}
${row('decide_p99_us_1m', r.decide_p99_us_1m, `decide_p99_us_1k ${r.decide_p99_us_1k}; the bare lookup p99 from 1k to 1M: ${r.sqlite_lookup_p99_us_1k} → ${r.sqlite_lookup_p99_us_1m}`, '≤ 2 × 1k', n('decide_p99_us_1m') <= 2 * n('decide_p99_us_1k'))}
${row('e2e_pty_p99_ms', r.e2e_pty_p99_ms, `pty echo p99 ${r.pty_echo_p99_ms}; frame on the wire ${r.frame_wire_ms}`, '≤ 2', n('e2e_pty_p99_ms') <= 2)}
${row('e2e_pty_p50_ms', r.e2e_pty_p50_ms, `pty echo p50 ${r.pty_echo_p50_ms}`, '', undefined)}
${row('e2e_pty_first_read_ms (first read after start)', r.e2e_pty_first_read_ms, `pty echo's first ${r.pty_echo_first_ms}`, '', undefined)}
${row('sync_snapshot_100k_s', r.sync_snapshot_100k_s, `sqlite_bulk_insert_100k_s ${r.sqlite_bulk_insert_100k_s}`, '≤ 2 × bulk insert', n('sync_snapshot_100k_s') <= 2 * n('sqlite_bulk_insert_100k_s'))}
${row('sync_max_loop_stall_ms', r.sync_max_loop_stall_ms, `p99 ${r.sync_p99_loop_stall_ms}; same loop without an apply: max ${r.idle_max_loop_stall_ms}, p99 ${r.idle_p99_loop_stall_ms}`, '≤ 10', n('sync_max_loop_stall_ms') <= 10)}
${row('outbox_drain_eps', r.outbox_drain_eps, `mqtt_raw_qos1_eps ${r.mqtt_raw_qos1_eps}`, '≥ 0.7 × raw', n('outbox_drain_eps') >= 0.7 * n('mqtt_raw_qos1_eps'))}
${row('rss_mb_100k', r.rss_mb_100k, '', '≤ 120', n('rss_mb_100k') <= 120)}
${row('startup_ms (100k cached)', r.startup_ms, '', '', undefined)}
${row('e2e_pty_loaded_p99_ms', r.e2e_pty_loaded_p99_ms, `pty echo under the same load: p99 ${r.pty_echo_loaded_p99_ms}, max ${r.pty_echo_loaded_max_ms} (${r.pty_echo_loaded_samples} samples); daemon max ${r.e2e_pty_loaded_max_ms}, ${r.e2e_pty_loaded_samples} samples, ${r.e2e_pty_loaded_samples_draining} during the drain; unloaded p99 ${r.e2e_pty_p99_ms}; import up to ${r.e2e_pty_loaded_import_s} s`, '≤ 5', n('e2e_pty_loaded_p99_ms') <= 5)}
${row('e2e_pty_loaded_p50_ms', r.e2e_pty_loaded_p50_ms, `pty echo under the same load p50 ${r.pty_echo_loaded_p50_ms}; unloaded p50 ${r.e2e_pty_p50_ms}`, '', undefined)}

## OSDP (secure channel, PD emulator on a pty with wire time put back in)

| PDs | baud | poll cycle ms | card→read p50 / p99 ms | card→strike p50 / p99 ms |
|---|---|---|---|---|
${[9600, 115200]
  .flatMap((baud) =>
    [1, 4, 8].map((pds) => {
      const k = `${pds}pd_${baud}`;
      return `| ${pds} | ${baud} | ${r[`osdp_poll_cycle_ms_${k}`]} | ${r[`osdp_card_p50_ms_${k}`]} / ${r[`osdp_card_p99_ms_${k}`]} | ${r[`osdp_strike_p50_ms_${k}`]} / ${r[`osdp_strike_p99_ms_${k}`]} |`;
    }),
  )
  .join('\n')}

## Where targets are missed, and what it would take

${missedTargets(r).join('\n\n')}

This file is regenerated by every full run; the measurements behind these
explanations are in [docs/benchmark-analysis.md](docs/benchmark-analysis.md).
`;
}

/**
 * Why each target missed in this run is missed, from this run's figures.
 * The two decide targets have a cause that does not move from run to run
 * (what a decision reads against what the lookup reads); the others, when
 * they miss, have their same-run baseline in the table to judge by.
 */
function missedTargets(r: Record<string, number>): string[] {
  const n = (k: string): number => r[k] ?? Number.NaN;
  const x = (a: number, b: number): string => `${round(a / b, 1)}×`;
  const notes: string[] = [];
  if (!(n('decide_p99_us') <= 3 * n('sqlite_lookup_p99_us'))) {
    notes.push(
      `- **decide_p99_us** is ${x(n('decide_p99_us'), n('sqlite_lookup_p99_us'))} the bare lookup. A decision is the keyed hash of the presented value ` +
        `(p99 ${r.credential_hash_p99_us} µs alone: node's crypto, no SQLite) and one statement that reads the credential, its owner, the owner's ` +
        `entitlements, open session and, for a plan with a monthly limit, the month's sessions: about six B-tree descents over two files (the cloud's ` +
        `data in the generation file, the gateway's own sessions in the main file, a second read transaction) and 28 values, against the lookup's one ` +
        `descent in one file and one value. What it would take: a decision row per credential, denormalized at the seal and kept by every delta ` +
        `(a prototype in the analysis read about a third faster), and a keyed hash without a native call per read; both are traded against the apply, the file's size ` +
        `and a second copy of the facts a delta must keep in step, for microseconds on a path a card frame takes ${r.frame_wire_ms} ms to reach.`,
    );
  }
  if (!(n('decide_p99_us_1m') <= 2 * n('decide_p99_us_1k'))) {
    notes.push(
      `- **decide_p99_us_1m** is ${x(n('decide_p99_us_1m'), n('decide_p99_us_1k'))} the 1k figure; the bare lookup grows ` +
        `${x(n('sqlite_lookup_p99_us_1m'), n('sqlite_lookup_p99_us_1k'))} over the same sizes (${r.sqlite_lookup_p99_us_1k} → ${r.sqlite_lookup_p99_us_1m} µs). ` +
        `At 1k people the whole cache sits in SQLite's 2 MiB page cache; at 1M (≈ 0.6 GB) nearly every descent reads the OS page cache through a ` +
        `system call, and a decision makes about six of them. What it would take: a page cache the size of the file (memory that rss_mb_100k does not have) ` +
        `or a memory map of it (the same pages counted in the process's RSS).`,
    );
  }
  const others: [key: string, met: boolean][] = [
    ['e2e_pty_p99_ms', n('e2e_pty_p99_ms') <= 2],
    ['e2e_pty_loaded_p99_ms', n('e2e_pty_loaded_p99_ms') <= 5],
    ['sync_snapshot_100k_s', n('sync_snapshot_100k_s') <= 2 * n('sqlite_bulk_insert_100k_s')],
    ['sync_max_loop_stall_ms', n('sync_max_loop_stall_ms') <= 10],
    ['outbox_drain_eps', n('outbox_drain_eps') >= 0.7 * n('mqtt_raw_qos1_eps')],
    ['rss_mb_100k', n('rss_mb_100k') <= 120],
  ];
  for (const [key, met] of others) {
    if (!met) notes.push(`- **${key}** missed in this run: its baseline from the same run is beside it in the table; the analysis has its earlier runs and causes.`);
  }
  return notes.length === 0 ? ['Every target is met in this run.'] : notes;
}
