/**
 * Card-to-relay latency through the real daemon process, on kernel ptys.
 *
 * What is measured, per sample: bench/pty-device.py (a python3 process)
 * holds the master side of two pty pairs made with os.openpty(); the daemon
 * opens the slave sides (/dev/pts/N) as its RDM6300 reader and LCUS relay.
 * The helper reads time.monotonic_ns() (t0), writes a whole 14-byte card
 * frame into the reader's master in one write(2), select()s on the relay's
 * master and reads the clock again as soon as it is readable (t1). A sample
 * is t1 - t0, kept only once the bytes that arrived are the relay's
 * "energise" command. So it spans: the pty line discipline
 * handing the frame to the daemon, the daemon's wake-up, serialport's read,
 * framing, decision, journal-independent door command, serialport's write,
 * the relay pty's line discipline, and the helper's own wake-up. Nothing
 * relays between the ptys (no socat), and the bench process only sends the
 * helper one command per sample, outside the timed interval.
 *
 * Between samples the helper waits for the relock command (pulse 200 ms), so
 * every sample starts from a locked door with the daemon idle.
 *
 * Sampling starts when the daemon tells its notify socket READY=1, as
 * systemd counts it started (the relay's boot state comes earlier, while
 * the readers still open). The first sample after that is kept apart
 * (firstMs): the first read a restarted daemon decides, which runs code
 * no read has run before.
 *
 * The baseline in the same run (measurePtyEcho) is a trivial node process
 * that answers every chunk it reads on one pty (serialport) with a relay
 * command on another, timed by the same helper in the same way: the floor
 * of two pty crossings, two process wake-ups and serialport's read and
 * write path on this machine. The frame's transmission time at 9600 baud
 * (frame_wire_ms) is the physical floor on a real reader, which a pty does
 * not have: a real reader's last byte arrives 14.6 ms after its first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { writeSite } from '../test/support/site.js';
import { createNotifySocket, type NotifySocket } from '../test/support/notify-socket.js';
import { tempDir } from '../test/support/temp-dir.js';
import { openPtyDevices, type PtyDevices } from './pty-device.js';
import { summarize } from './stats.js';
import { deployedNodeFlags } from './daemon-flags.js';

const root = join(import.meta.dirname, '..');
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const CARDS = [Buffer.from([0x02, ...ascii('0E00466AD3F1'), 0x03]), Buffer.from([0x02, ...ascii('67003B51C6CB'), 0x03])];
const RELAY_ON = Buffer.from([0xa0, 0x01, 0x01, 0xa2]);
const RELAY_OFF = Buffer.from([0xa0, 0x01, 0x00, 0xa1]);
/** First samples warm up JIT and caches and are not counted (without a load). */
const WARM_UP = 5;

export const FRAME_WIRE_MS = (14 * 10 * 1000) / 9600;

export interface PtyLatency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
  /** Every counted sample in ms, in the order taken (to pool runs or split by load phase). */
  readonly samples: readonly number[];
  /** The first sample of the process, counted or not (a warm-up when there is no load). */
  readonly firstMs: number;
}

/** Load run beside the measurement: sampling goes on until done() (and at least minSamples). */
export interface BenchLoad {
  done(): boolean;
  /** Told after each sample (to count samples taken under one part of the load). */
  onSample?(): void;
  stop(): Promise<void>;
}

export interface E2eOptions {
  /** More config (mqtt, cloud) appended to the site. */
  readonly configExtra?: string;
  /** Runs on the site directory before the daemon starts (fill the store). */
  readonly beforeStart?: (configDir: string) => Promise<void> | void;
  /** Starts a load once the daemon is up; with a load, `samples` is the minimum and sampling runs until it is done. */
  readonly load?: (configDir: string) => Promise<BenchLoad>;
  /** Extra node flags for the daemon, after the unit's own; default from BENCH_DAEMON_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
  readonly nodeArgs?: readonly string[];
  /**
   * What is sampled: the daemon (default), or the echo process run beside
   * the daemon and its load (the floor under the same load: the daemon
   * still runs and is loaded, but takes no reads).
   */
  readonly probe?: 'daemon' | 'echo';
}

/** Daemon child process on ptys, optionally under a load. */
export async function measureE2ePty(samples: number, options: E2eOptions = {}): Promise<PtyLatency> {
  const dir = tempDir('gatehouse-bench-');
  const probeEcho = options.probe === 'echo';
  const pty = await openPtyDevices(probeEcho ? ['reader', 'relay', 'in', 'out'] : ['reader', 'relay']);
  let daemon: ChildProcess | undefined;
  let echo: ChildProcess | undefined;
  let notify: NotifySocket | undefined;
  let firstMs = Number.NaN;
  try {
    const config = writeSite(
      dir.path,
      `doors:
  - { id: front, relay: { driver: lcus, path: ${pty.paths.relay}, channel: 1 }, pulseMs: 200 }
readers:
  - { id: front-in, driver: rdm6300, path: ${pty.paths.reader}, door: front, mode: entry, removalMs: 100 }
${options.configExtra ?? ''}`,
    );
    await options.beforeStart?.(dir.path);
    notify = await createNotifySocket(dir.path);
    // The unit's flags first (the daemon as deployed), then any extra for tracing.
    const nodeArgs = [...deployedNodeFlags(), ...(options.nodeArgs ?? (process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== ''))];
    // BENCH_DAEMON_MAIN: another build's main.js, for A/B runs in one sitting.
    const main = process.env.BENCH_DAEMON_MAIN ?? join(root, 'dist/daemon/cli/main.js');
    // BENCH_DAEMON_OUTPUT: a file for the daemon's stdout and stderr (its log, --trace-gc).
    const output = process.env.BENCH_DAEMON_OUTPUT === undefined ? 'ignore' : openSync(process.env.BENCH_DAEMON_OUTPUT, 'a');
    daemon = spawn(process.execPath, [...nodeArgs, main, 'run', '--config', config], {
      stdio: ['ignore', output, output],
      env: { ...process.env, NOTIFY_SOCKET: notify.path },
    });
    if (typeof output === 'number') closeSync(output);
    // The boot state: the relay is written locked as soon as it opens; then the rest of the start.
    await pty.expect('relay', RELAY_OFF, 30_000);
    await notify.waitFor('READY', '1');
    if (probeEcho) {
      echo = await startEcho(pty, 'in', 'out');
      // The echo's cold first reads are not the load's doing (the daemon warms its own path at start).
      for (let i = 0; i < WARM_UP; i++) await echoSample(pty, i);
    }
    const load = options.load === undefined ? undefined : await options.load(dir.path);
    const latencies: number[] = [];
    const more = (i: number): boolean => (load === undefined ? i < samples + WARM_UP : latencies.length < samples || !load.done());
    for (let i = 0; more(i); i++) {
      const ms = probeEcho ? await echoSample(pty, i) : (await pty.sample('reader', CARDS[i % 2] as Buffer, 'relay', RELAY_ON)).ms;
      // Under a load, the load starts at once: no warm-up is skipped.
      if (i === 0) firstMs = ms;
      if (i >= WARM_UP || load !== undefined) latencies.push(ms);
      load?.onSample?.();
      if (!probeEcho) await pty.expect('relay', RELAY_OFF);
    }
    await load?.stop();
    return { ...summarize(latencies), samples: latencies, firstMs };
  } finally {
    daemon?.kill('SIGTERM');
    await new Promise((r) => (daemon === undefined || daemon.exitCode !== null ? r(undefined) : daemon.once('exit', r)));
    echo?.kill('SIGKILL');
    await notify?.close();
    await pty.close();
    dir.remove();
  }
}

/**
 * The floor: a node process that answers every chunk read on one pty with a
 * relay command on another (serialport on both, like the daemon), timed the
 * same way, with the daemon's cycle between samples (ECHO_GAP_MS), so both
 * wake from the same idle state.
 */
export async function measurePtyEcho(samples: number): Promise<PtyLatency> {
  const pty = await openPtyDevices(['in', 'out']);
  let child: ChildProcess | undefined;
  try {
    child = await startEcho(pty, 'in', 'out');
    const latencies: number[] = [];
    let firstMs = Number.NaN;
    for (let i = 0; i < samples + WARM_UP; i++) {
      const ms = await echoSample(pty, i);
      if (i === 0) firstMs = ms;
      if (i >= WARM_UP) latencies.push(ms);
    }
    return { ...summarize(latencies), samples: latencies, firstMs };
  } finally {
    child?.kill('SIGKILL');
    await pty.close();
  }
}

/** The daemon's cycle between reads: it idles for the 200 ms pulse, so the echo waits as long after each answer. */
const ECHO_GAP_MS = 200;

async function echoSample(pty: PtyDevices, i: number): Promise<number> {
  const { ms } = await pty.sample('in', CARDS[i % 2] as Buffer, 'out', RELAY_ON);
  await new Promise((r) => setTimeout(r, ECHO_GAP_MS));
  return ms;
}

/** Starts the echo process on two of the helper's ptys; resolves once both are open. */
async function startEcho(pty: PtyDevices, input: string, output: string): Promise<ChildProcess> {
  const echo = `
    import { SerialPort } from 'serialport';
    const i = new SerialPort({ path: ${JSON.stringify(pty.paths[input])}, baudRate: 9600 });
    const o = new SerialPort({ path: ${JSON.stringify(pty.paths[output])}, baudRate: 9600 });
    i.on('data', () => o.write(Buffer.from(${JSON.stringify([...RELAY_ON])})));
    let open = 0;
    const ready = () => { if (++open === 2) process.stdout.write('ready\\n'); };
    i.on('open', ready);
    o.on('open', ready);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', echo], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`echo process exited (${code})`)));
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}
