/**
 * Card-to-relay latency through the real daemon process: the last byte of an
 * RDM6300 frame written into a pty, to the first byte of the LCUS relay
 * command read from another pty. The baseline in the same run is a trivial
 * echo process on the same kind of ptys (the floor of pty + process hops),
 * and the frame's own transmission time at 9600 baud is the physical floor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPty, openHost, type HostPort, type PtyPair } from '../test/support/pty.js';
import { writeSite } from '../test/support/site.js';
import { tempDir } from '../test/support/temp-dir.js';
import { summarize } from './stats.js';

const root = join(import.meta.dirname, '..');
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const CARDS = [Buffer.from([0x02, ...ascii('0E00466AD3F1'), 0x03]), Buffer.from([0x02, ...ascii('67003B51C6CB'), 0x03])];
const RELAY_OFF = Buffer.from([0xa0, 0x01, 0x00, 0xa1]);

export const FRAME_WIRE_MS = (14 * 10 * 1000) / 9600;

/** Resolves on the next chunk received on `port` after this call, with its arrival time. */
function nextChunkTime(port: HostPort, timeoutMs = 5000): Promise<number> {
  const before = port.pending().length;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const poll = (): void => {
      if (port.pending().length > before) resolve(performance.now());
      else if (performance.now() - started > timeoutMs) reject(new Error('no relay command'));
      else setImmediate(poll);
    };
    poll();
  });
}

async function writeTimed(port: HostPort, bytes: Buffer): Promise<number> {
  await port.write(bytes);
  return performance.now();
}

async function waitForBytes(port: HostPort, bytes: Buffer, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!port.pending().includes(bytes)) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${bytes.toString('hex')}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface PtyLatency {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
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
}

/** Daemon child process on ptys, optionally under a load. */
export async function measureE2ePty(samples: number, options: E2eOptions = {}): Promise<PtyLatency> {
  const dir = tempDir('gatehouse-bench-');
  const reader = await createPty(dir.path, 'rdm6300');
  const relay = await createPty(dir.path, 'lcus');
  let daemon: ChildProcess | undefined;
  try {
    const config = writeSite(
      dir.path,
      `doors:
  - { id: front, relay: { driver: lcus, path: ${relay.devicePath}, channel: 1 }, pulseMs: 200 }
readers:
  - { id: front-in, driver: rdm6300, path: ${reader.devicePath}, door: front, mode: entry, removalMs: 100 }
${options.configExtra ?? ''}`,
    );
    await options.beforeStart?.(dir.path);
    const relayHost = await openHost(relay.hostPath);
    const readerHost = await openHost(reader.hostPath);
    daemon = spawn(process.execPath, [join(root, 'dist/daemon/cli/main.js'), 'run', '--config', config], { stdio: 'ignore' });
    await waitForBytes(relayHost, RELAY_OFF, 30_000);
    const load = options.load === undefined ? undefined : await options.load(dir.path);
    const latencies: number[] = [];
    const more = (i: number): boolean => (load === undefined ? i < samples + 5 : latencies.length < samples || !load.done());
    for (let i = 0; more(i); i++) {
      const arrival = nextChunkTime(relayHost);
      const sent = await writeTimed(readerHost, CARDS[i % 2] as Buffer);
      const received = await arrival;
      // The first reads warm up JIT and caches (under a load, the load starts at once: no warm-up skipped).
      if (i >= 5 || load !== undefined) latencies.push(received - sent);
      load?.onSample?.();
      // Wait for the relock (pulse 200 ms) so every sample starts from a locked door.
      await waitForBytes(relayHost, RELAY_OFF);
      await relayHost.readBytes(relayHost.pending().length);
    }
    await load?.stop();
    await relayHost.close();
    await readerHost.close();
    const s = summarize(latencies);
    return { p50: s.p50, p99: s.p99, n: s.n };
  } finally {
    daemon?.kill('SIGTERM');
    await new Promise((r) => (daemon === undefined || daemon.exitCode !== null ? r(undefined) : daemon.once('exit', r)));
    await reader.close();
    await relay.close();
    dir.remove();
  }
}

/** The floor: a process that copies every chunk from one pty to another, measured the same way. */
export async function measurePtyEcho(samples: number): Promise<PtyLatency> {
  const dir = tempDir('gatehouse-bench-');
  const a: PtyPair = await createPty(dir.path, 'in');
  const b: PtyPair = await createPty(dir.path, 'out');
  const echo = `
    import { SerialPort } from 'serialport';
    const i = new SerialPort({ path: ${JSON.stringify(a.devicePath)}, baudRate: 9600 });
    const o = new SerialPort({ path: ${JSON.stringify(b.devicePath)}, baudRate: 9600 });
    i.on('data', (d) => o.write(Buffer.from([0xa0, 0x01, 0x01, 0xa2])));
    o.on('open', () => process.stdout.write('ready\\n'));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', echo], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    const inHost = await openHost(a.hostPath);
    const outHost = await openHost(b.hostPath);
    const latencies: number[] = [];
    for (let i = 0; i < samples + 5; i++) {
      const arrival = nextChunkTime(outHost);
      const sent = await writeTimed(inHost, CARDS[i % 2] as Buffer);
      const received = await arrival;
      if (i >= 5) latencies.push(received - sent);
      await new Promise((r) => setTimeout(r, 5));
    }
    await inHost.close();
    await outHost.close();
    const s = summarize(latencies);
    return { p50: s.p50, p99: s.p99, n: s.n };
  } finally {
    child.kill('SIGKILL');
    await a.close();
    await b.close();
    dir.remove();
  }
}
