/**
 * systemd's notify protocol (sd_notify): READY=1, RELOADING=1, STOPPING=1,
 * WATCHDOG=1 and STATUS= lines, sent as datagrams to $NOTIFY_SOCKET.
 *
 * Node cannot send on unix datagram sockets, so a small helper process owns
 * the socket: python3 reading one JSON string per line on its stdin and
 * sending each as one datagram. Why this shape (docs/systemd-notify.md):
 *  - no native addon whose absence would silently turn notify off;
 *  - `systemd-notify` spawned per message races: systemd attributes a message
 *    by the sender's PID, and a short-lived sender may be gone (and its cgroup
 *    unknown) before systemd reads it; with NotifyAccess=main it is refused
 *    outright because it is not the main PID;
 *  - the helper lives as long as the daemon, in the same cgroup, so
 *    NotifyAccess=all attributes every message; WATCHDOG=1 is only written
 *    from the daemon's event loop, so a stalled loop stops the pings and
 *    systemd restarts the service.
 * If the helper cannot be started or dies, the daemon says so loudly and
 * tries again; systemd's start timeout or watchdog then acts, never silence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from './logger.js';

/** One JSON string per stdin line -> one datagram. Abstract sockets start with "@". */
export const NOTIFY_HELPER_SOURCE = `
import json, socket, sys
addr = sys.argv[1]
if addr.startswith('@'):
    addr = '\\0' + addr[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    sock.connect(addr)
except OSError as e:
    sys.stderr.write('cannot reach NOTIFY_SOCKET %s: %s\\n' % (sys.argv[1], e))
    sys.exit(3)
sys.stdout.write('ok\\n')
sys.stdout.flush()
for line in sys.stdin.buffer:
    try:
        sock.send(json.loads(line).encode('utf-8'))
    except (OSError, ValueError) as e:
        sys.stderr.write('notify send failed: %s\\n' % e)
        sys.stderr.flush()
`;

export interface ServiceNotifier {
  /** Whether a service manager listens (NOTIFY_SOCKET was set). */
  readonly active: boolean;
  /** Interval at which WATCHDOG=1 must be sent, or null when the watchdog is off. */
  readonly watchdogIntervalMs: number | null;
  ready(status: string): void;
  reloading(): void;
  stopping(status: string): void;
  status(status: string): void;
  watchdog(): void;
  close(): Promise<void>;
}

const oneLine = (text: string): string => text.replace(/[\r\n]+/g, ' ').slice(0, 512);

/**
 * sd_watchdog_enabled(): WATCHDOG_USEC set and WATCHDOG_PID (when set) naming
 * this process. Pings at half the timeout, as systemd recommends.
 */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

/** A notifier that does nothing: the daemon runs outside systemd (or Type=simple). */
export const inactiveNotifier: ServiceNotifier = {
  active: false,
  watchdogIntervalMs: null,
  ready: () => undefined,
  reloading: () => undefined,
  stopping: () => undefined,
  status: () => undefined,
  watchdog: () => undefined,
  close: () => Promise.resolve(),
};

export interface NotifyHelperOptions {
  readonly socket: string;
  readonly watchdogIntervalMs: number | null;
  readonly logger: Logger;
  /** Interpreter for the helper; GATEHOUSE_PYTHON overrides the default. */
  readonly python?: string;
}

/** Talks to systemd through the long-lived helper process. */
export class NotifyHelper implements ServiceNotifier {
  readonly active = true;
  readonly watchdogIntervalMs: number | null;
  readonly #socket: string;
  readonly #python: string;
  readonly #log: Logger;
  #child: ChildProcess | null = null;
  #closing = false;
  #respawns = 0;
  /** Messages written before the helper confirmed its socket; re-sent after a respawn. */
  #lastState: string | null = null;

  private constructor(options: NotifyHelperOptions) {
    this.#socket = options.socket;
    this.watchdogIntervalMs = options.watchdogIntervalMs;
    this.#python = options.python ?? 'python3';
    this.#log = options.logger.child({ component: 'sd-notify' });
  }

  /** Start the helper and wait until it has connected to the socket. Rejects with a clear reason. */
  static async start(options: NotifyHelperOptions): Promise<NotifyHelper> {
    const helper = new NotifyHelper(options);
    await helper.#spawn();
    return helper;
  }

  ready(status: string): void {
    this.#lastState = 'READY=1';
    this.#send(`READY=1\nSTATUS=${oneLine(status)}\nMAINPID=${process.pid}`);
  }

  reloading(): void {
    // MONOTONIC_USEC lets Type=notify-reload (systemd >= 253) match the reload; older versions ignore it.
    const monotonicUs = process.hrtime.bigint() / 1000n;
    this.#send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUs}`);
  }

  stopping(status: string): void {
    this.#lastState = 'STOPPING=1';
    this.#send(`STOPPING=1\nSTATUS=${oneLine(status)}`);
  }

  status(status: string): void {
    this.#send(`STATUS=${oneLine(status)}`);
  }

  watchdog(): void {
    this.#send('WATCHDOG=1');
  }

  async close(): Promise<void> {
    this.#closing = true;
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // EOF on stdin: the helper sends what it has read and exits.
    child.stdin?.end();
    await exited;
  }

  #send(message: string): void {
    const stdin = this.#child?.stdin;
    if (stdin === null || stdin === undefined || stdin.destroyed) {
      this.#log.error({ message: message.split('\n')[0] }, 'systemd notify helper is not running; message dropped');
      return;
    }
    stdin.write(`${JSON.stringify(message)}\n`);
  }

  #spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.env.GATEHOUSE_PYTHON ?? this.#python, ['-c', NOTIFY_HELPER_SOURCE, this.#socket], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      let confirmed = false;
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (confirmed) for (const line of chunk.split('\n').filter((l) => l !== '')) this.#log.error({ helper: line }, 'systemd notify helper');
      });
      child.stdout.setEncoding('utf8');
      child.stdout.once('data', () => {
        confirmed = true;
        this.#child = child;
        resolve();
      });
      child.stdin.on('error', (error) => this.#log.error({ err: error.message }, 'systemd notify helper pipe failed'));
      child.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'ENOENT' ? `${this.#python} not found (install python3; systemd notification needs it)` : error.message;
        if (!confirmed) reject(new Error(`cannot start the systemd notify helper: ${why}`));
      });
      child.once('exit', (code) => {
        if (!confirmed) {
          reject(new Error(`systemd notify helper exited (${code ?? 'signal'}): ${stderr.trim() || 'no reason given'}`));
          return;
        }
        if (this.#closing || this.#child !== child) return;
        this.#child = null;
        this.#respawn(code);
      });
    });
  }

  #respawn(code: number | null): void {
    this.#respawns++;
    this.#log.error({ code, respawns: this.#respawns }, 'systemd notify helper exited; restarting it (without it the watchdog restarts the service)');
    const delay = Math.min(5_000, 100 * 2 ** Math.min(this.#respawns, 6));
    setTimeout(() => {
      if (this.#closing) return;
      this.#spawn().then(
        () => {
          if (this.#lastState === 'READY=1') this.#send('READY=1');
        },
        (error: unknown) => {
          this.#log.error({ err: error instanceof Error ? error.message : String(error) }, 'systemd notify helper did not restart');
          this.#respawn(null);
        },
      );
    }, delay).unref();
  }
}

/** The notifier for this process: the helper when systemd listens, otherwise a no-op. */
export async function createServiceNotifier(logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<ServiceNotifier> {
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return inactiveNotifier;
  return NotifyHelper.start({ socket, watchdogIntervalMs: watchdogInterval(env, process.pid), logger });
}
