/**
 * The daemon's side of a BLE adapter: a DeviceDriver (so the Supervisor
 * restarts it with backoff) whose device is a child process running
 * scanner-worker.ts. open() forks the child and resolves once it scans;
 * the child exiting later is a fault. An adapter that cannot be used
 * (missing, powered off, no capabilities) rejects open() with the fix in
 * the message, and the Supervisor retries at its slow cap: no crash loop,
 * and the status says what to do.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DeviceDriver } from '../types.js';
import type { BleAdvertisement } from './frames.js';
import { fixFor } from './unavailable.js';
import { parseWorkerMessage, type UnavailableReason } from './worker-messages.js';
import { childEnvironment } from '../../daemon/runtime/child-environment.js';

export interface BleScannerLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface BleScannerOptions {
  readonly deviceId: string;
  /** hciN: passed to noble as NOBLE_HCI_DEVICE_ID. */
  readonly hciDevice: number;
  readonly tapCompanyId: number;
  readonly powerOnTimeoutMs: number;
  /** A module the child loads instead of @stoprocent/noble (tests: a fake at the library boundary). */
  readonly nobleModule?: string | undefined;
  /** Extra environment for the child (the fake's fixture). */
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly logger: BleScannerLogger;
}

/** The adapter cannot be used; `fix` says what the technician should do. */
export class BleUnavailableError extends Error {
  override readonly name = 'BleUnavailableError';
  constructor(
    readonly reason: UnavailableReason,
    readonly fix: string,
    detail: string,
  ) {
    super(`${reason}: ${detail}. Fix: ${fix}`);
  }
}

export interface BleScannerCounters {
  advertisements: number;
  malformed: number;
  /** Messages from the child that failed validation. */
  badMessages: number;
  /** Child processes that ended other than by close(). */
  childExits: number;
}

const CLOSE_GRACE_MS = 2_000;

/** The compiled worker next to this file; under the test runner, the TypeScript source through tsx. */
function workerEntry(): { path: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./scanner-worker.js', import.meta.url));
  if (existsSync(js)) return { path: js, execArgv: [] };
  return { path: fileURLToPath(new URL('./scanner-worker.ts', import.meta.url)), execArgv: ['--import', 'tsx'] };
}

export class BleScanner implements DeviceDriver {
  readonly deviceId: string;
  readonly #o: BleScannerOptions;
  readonly #listeners = new Set<(ad: BleAdvertisement) => void>();
  readonly #faultListeners = new Set<(error: Error) => void>();
  readonly #counters: BleScannerCounters = { advertisements: 0, malformed: 0, badMessages: 0, childExits: 0 };
  #child: ChildProcess | null = null;
  /** Children close() ended: their exit is not a fault. */
  readonly #closing = new WeakSet<ChildProcess>();
  #unavailable: BleUnavailableError | null = null;
  #lastExit: string | null = null;

  constructor(options: BleScannerOptions) {
    this.deviceId = options.deviceId;
    this.#o = options;
  }

  onAdvertisement(listener: (ad: BleAdvertisement) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onFault(listener: (error: Error) => void): void {
    this.#faultListeners.add(listener);
  }

  counters(): Readonly<BleScannerCounters> {
    return { ...this.#counters };
  }

  /** Why the adapter was last found unusable, with the fix; null once it scans. */
  unavailable(): { reason: UnavailableReason; fix: string } | null {
    const u = this.#unavailable;
    return u === null ? null : { reason: u.reason, fix: u.fix };
  }

  /** How the last child that was not closed ended ("SIGABRT", "exit code 1"); null if none has. */
  lastExit(): string | null {
    return this.#lastExit;
  }

  /** The child's process id while it runs (tests kill it). */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  open(): Promise<void> {
    const entry = workerEntry();
    const env = childEnvironment({
      ...this.#o.env,
      NOBLE_HCI_DEVICE_ID: String(this.#o.hciDevice),
      GATEHOUSE_BLE_TAP_COMPANY: String(this.#o.tapCompanyId),
      GATEHOUSE_BLE_POWER_ON_MS: String(this.#o.powerOnTimeoutMs),
    });
    if (this.#o.nobleModule !== undefined) env.GATEHOUSE_NOBLE_MODULE = this.#o.nobleModule;
    const child = fork(entry.path, [], { execArgv: entry.execArgv, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
    this.#child = child;
    const log = this.#o.logger;
    // noble prints warnings to the console; they are the best clue when an adapter misbehaves.
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') log.warn({ device: this.deviceId, line: line.slice(0, 500) }, 'ble scanner output');
    };
    child.stdout?.on('data', relay);
    child.stderr?.on('data', relay);

    return new Promise<void>((resolve, reject) => {
      let scanning = false;
      child.on('message', (raw: unknown) => {
        const message = parseWorkerMessage(raw);
        if (message === null) {
          this.#counters.badMessages++;
          return;
        }
        switch (message.type) {
          case 'scanning':
            scanning = true;
            this.#unavailable = null;
            resolve();
            return;
          case 'advertisement':
            this.#counters.advertisements++;
            for (const listener of this.#listeners) listener(message.ad);
            return;
          case 'malformed':
            this.#counters.malformed++;
            log.debug({ device: this.deviceId, error: message.error }, 'malformed BLE advertisement');
            return;
          case 'unavailable':
            this.#unavailable = new BleUnavailableError(message.reason, fixFor(message.reason, this.#o.hciDevice), message.message);
            return;
        }
      });
      child.on('error', (error) => {
        if (!scanning) reject(error);
      });
      child.on('exit', (code, signal) => {
        if (this.#child === child) this.#child = null;
        if (this.#closing.has(child)) return;
        this.#counters.childExits++;
        this.#lastExit = signal ?? `exit code ${code}`;
        const error = this.#unavailable ?? new Error(`ble scanner process ended (${this.#lastExit})`);
        if (!scanning) {
          reject(error);
          return;
        }
        for (const listener of this.#faultListeners) listener(error);
      });
    });
  }

  async close(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    this.#closing.add(child);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

