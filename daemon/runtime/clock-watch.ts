/**
 * Watches the wall clock against the monotonic clock.
 *
 * Two things about time matter to access decisions:
 *  - whether the wall clock can be believed at all: a mini-PC with a flat RTC
 *    battery boots in 1970 or in last year until NTP corrects it, and passes,
 *    tokens and schedules are all judged against the wall clock. The kernel
 *    knows whether it has been synchronised since boot (adjtimex STA_UNSYNC),
 *    which `timedatectl show -p NTPSynchronized` reports for any NTP client.
 *  - jumps: when NTP (or a technician) steps the clock, a running visitor
 *    token must neither gain nor lose the time of the step. Each tick compares
 *    how far both clocks moved; a difference beyond the tolerance is a jump,
 *    and listeners shift what they recorded in wall time (token starts).
 *
 * Door pulses and lockouts use timers, which run on the monotonic clock
 * already.
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { childEnvironment } from './child-environment.js';

/** The oldest wall time that can be right: the release of this code. A clock before it is certainly unsynchronised. */
export const EARLIEST_PLAUSIBLE = Date.parse('2026-01-01T00:00:00Z');

export type SyncProbe = () => Promise<boolean | null>;

/** Ask timedated (systemd) whether the kernel clock is synchronised; null when it cannot tell. */
export const timedatectlProbe: SyncProbe = () =>
  new Promise((resolve) => {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 5_000, env: childEnvironment() }, (error, stdout) => {
      if (error !== null) return resolve(null);
      const value = stdout.trim();
      resolve(value === 'yes' ? true : value === 'no' ? false : null);
    });
  });

export interface ClockWatchOptions {
  /** Where the answer comes from; null = trust the clock whenever it is plausible (no probe available). */
  readonly probe?: SyncProbe | null;
  readonly tickMs?: number;
  readonly probeEveryMs?: number;
  /** A disagreement between the clocks beyond this is a jump. */
  readonly toleranceMs?: number;
  readonly wallNow?: () => number;
  readonly monoNow?: () => number;
}

export class ClockWatch {
  readonly #probe: SyncProbe | null;
  readonly #tickMs: number;
  readonly #probeEveryMs: number;
  readonly #toleranceMs: number;
  readonly #wallNow: () => number;
  readonly #monoNow: () => number;
  readonly #jumpListeners = new Set<(deltaMs: number, at: number) => void>();
  #synced: boolean | null = null;
  #lastWall: number;
  #lastMono: number;
  #sinceProbe = 0;
  #timer: NodeJS.Timeout | null = null;
  #jumps = 0;
  #probing = false;

  constructor(options: ClockWatchOptions = {}) {
    this.#probe = options.probe === undefined ? timedatectlProbe : options.probe;
    this.#tickMs = options.tickMs ?? 1_000;
    this.#probeEveryMs = options.probeEveryMs ?? 60_000;
    this.#toleranceMs = options.toleranceMs ?? 2_000;
    this.#wallNow = options.wallNow ?? Date.now;
    this.#monoNow = options.monoNow ?? (() => performance.now());
    this.#lastWall = this.#wallNow();
    this.#lastMono = this.#monoNow();
  }

  /** Start ticking and probing; returns once the first probe has answered. */
  async start(): Promise<void> {
    await this.#runProbe();
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Whether time-based decisions may believe the wall clock now. */
  trusted(): boolean {
    if (this.#wallNow() < EARLIEST_PLAUSIBLE) return false;
    // Without a way to ask, a plausible clock is believed; once the kernel
    // has said "synchronised" it stays believed until it says otherwise.
    return this.#synced !== false;
  }

  status(): { trusted: boolean; synchronised: boolean | null; jumps: number } {
    return { trusted: this.trusted(), synchronised: this.#synced, jumps: this.#jumps };
  }

  onJump(listener: (deltaMs: number, at: number) => void): () => void {
    this.#jumpListeners.add(listener);
    return () => this.#jumpListeners.delete(listener);
  }

  /** One comparison of both clocks (run by the timer; public for tests). */
  tick(): void {
    const wall = this.#wallNow();
    const mono = this.#monoNow();
    const delta = wall - this.#lastWall - (mono - this.#lastMono);
    this.#sinceProbe += mono - this.#lastMono;
    this.#lastWall = wall;
    this.#lastMono = mono;
    if (Math.abs(delta) > this.#toleranceMs) {
      this.#jumps++;
      for (const listener of this.#jumpListeners) listener(delta, wall);
    }
    if (this.#sinceProbe >= this.#probeEveryMs) {
      this.#sinceProbe = 0;
      void this.#runProbe();
    }
  }

  async #runProbe(): Promise<void> {
    if (this.#probe === null || this.#probing) return;
    this.#probing = true;
    try {
      const answer = await this.#probe();
      if (answer !== null) this.#synced = answer;
    } finally {
      this.#probing = false;
    }
  }
}
