/**
 * Pseudo-terminal pairs for driver tests, made with socat: the driver opens
 * `devicePath` exactly as it would open /dev/ttyUSB0, and the test plays the
 * device on `hostPath`. Killing socat makes both links vanish and the driver
 * sees a real unplug.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

export interface PtyPair {
  /** What the driver opens. */
  readonly devicePath: string;
  /** The test side, which plays the device. Changes target on replug, so reopen it. */
  readonly hostPath: string;
  /** Kills socat and waits until it has exited and both links are gone. */
  unplug(): Promise<void>;
  /** Starts a new socat with the same paths. */
  replug(): Promise<void>;
  /** Freezes socat (SIGSTOP): the device stops taking bytes, like a wedged adapter. */
  stall(): void;
  /** Lets a stalled socat run again (SIGCONT). */
  unstall(): void;
  /** Same as unplug(); safe to call twice. */
  close(): Promise<void>;
}

const LINK_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;
const POLL_MS = 10;

/** Every socat still running, so a crashed test cannot leave one behind. */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export async function createPty(dir: string, name: string): Promise<PtyPair> {
  const devicePath = join(dir, name);
  const hostPath = join(dir, `${name}.host`);
  let child: ChildProcess | undefined = await startSocat(devicePath, hostPath);

  const unplug = async () => {
    const running = child;
    child = undefined;
    if (running !== undefined) await stopSocat(running);
    // socat removes its links on SIGTERM but not if it had to be killed.
    await rm(devicePath, { force: true });
    await rm(hostPath, { force: true });
  };
  return {
    devicePath,
    hostPath,
    unplug,
    close: unplug,
    stall: () => {
      child?.kill('SIGSTOP');
    },
    unstall: () => {
      child?.kill('SIGCONT');
    },
    replug: async () => {
      if (child !== undefined) throw new Error(`pty ${name} is still plugged in`);
      child = await startSocat(devicePath, hostPath);
    },
  };
}

async function startSocat(devicePath: string, hostPath: string): Promise<ChildProcess> {
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  liveChildren.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => liveChildren.delete(child));
  child.once('error', () => undefined); // spawn failure shows up as an early exit below

  const deadline = Date.now() + LINK_TIMEOUT_MS;
  while (!((await exists(devicePath)) && (await exists(hostPath)))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`socat exited before creating ${devicePath}: ${stderr.trim()}`);
    }
    if (Date.now() > deadline) {
      await stopSocat(child);
      throw new Error(`socat did not create ${devicePath} within ${LINK_TIMEOUT_MS} ms: ${stderr.trim()}`);
    }
    await delay(POLL_MS);
  }
  return child;
}

async function stopSocat(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  child.kill('SIGCONT'); // a stalled socat only acts on SIGTERM once it runs again
  const timedOut = await Promise.race([exited.then(() => false), delay(EXIT_TIMEOUT_MS).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The device side of a pty pair, opened with the real serialport binding. */
export interface HostPort {
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves with the next `count` received bytes, consuming them; rejects after `timeoutMs`. */
  readBytes(count: number, timeoutMs?: number): Promise<Buffer>;
  /** Bytes received and not yet consumed by readBytes(). */
  pending(): Buffer;
  close(): Promise<void>;
}

export async function openHost(path: string, baudRate = 9600): Promise<HostPort> {
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const candidate = new SerialPort({ path, baudRate, autoOpen: false });
    candidate.open((error) => (error ? reject(error) : resolve(candidate)));
  });
  // The host side dies with socat on unplug; that is expected, not a test failure.
  port.on('error', () => undefined);
  let received = Buffer.alloc(0);
  let notify: (() => void) | undefined;
  port.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    notify?.();
  });

  return {
    write: (bytes) =>
      new Promise((resolve, reject) => {
        port.write(Buffer.from(bytes));
        port.drain((error) => (error ? reject(error) : resolve()));
      }),
    readBytes: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const take = () => {
          if (received.length < count) return false;
          clearTimeout(timer);
          notify = undefined;
          const bytes = received.subarray(0, count);
          received = received.subarray(count);
          resolve(Buffer.from(bytes));
          return true;
        };
        const timer = setTimeout(() => {
          notify = undefined;
          reject(new Error(`expected ${count} bytes within ${timeoutMs} ms, got ${received.toString('hex') || 'nothing'}`));
        }, timeoutMs);
        if (!take()) notify = () => void take();
      }),
    pending: () => Buffer.from(received),
    close: () =>
      new Promise((resolve) => {
        if (!port.isOpen) {
          resolve();
          return;
        }
        port.close(() => resolve());
      }),
  };
}

/** Polls `condition` until it holds; for waiting on asynchronous effects without fixed sleeps. */
export async function waitFor(condition: () => boolean, description: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await delay(POLL_MS);
  }
}
