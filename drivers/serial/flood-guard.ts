import { performanceClock, type MonotonicClock } from './clock.js';
import type { DriverLogger } from './logger.js';

export interface FloodGuardOptions {
  readonly deviceId: string;
  readonly logger: DriverLogger;
  readonly clock?: MonotonicClock;
  /** Rejections absorbed in one burst (power-up noise, a cable wiggle) before input is shed. */
  readonly burst?: number;
  /** Rejections per second a device may produce indefinitely without counting as a flood. */
  readonly perSecond?: number;
  /** At most one log line per interval, whatever the device does. */
  readonly logIntervalMs?: number;
}

export const FLOOD_DEFAULT_BURST = 20;
export const FLOOD_DEFAULT_PER_SECOND = 5;
export const FLOOD_DEFAULT_LOG_INTERVAL_MS = 60_000;

/** Counters a driver merges into its own; numbers only, as status expects. */
export interface FloodGuardCounters {
  /** 1 while input is being shed, else 0. */
  floodActive: number;
  /** Times the device started flooding. */
  floodEpisodes: number;
  /** Bytes dropped unparsed while flooding. */
  floodShedBytes: number;
}

/**
 * Rate-limits a device that sends garbage: a token bucket on rejected frames.
 *
 * A working device rejects a frame now and then; one that rejects faster than
 * the bucket refills is flooding. Its input is then dropped unparsed until the
 * bucket is full again, so a babbling adapter costs O(1) per chunk instead of a
 * parse, the log gets at most one line per interval, and the state shows in
 * status. Nothing here throws or waits.
 */
export class FloodGuard {
  readonly #deviceId: string;
  readonly #logger: DriverLogger;
  readonly #clock: MonotonicClock;
  readonly #burst: number;
  readonly #perMs: number;
  readonly #logIntervalMs: number;
  #tokens: number;
  #updatedAt: number;
  #flooding = false;
  #episodes = 0;
  #shedBytes = 0;
  #lastLogAt = Number.NEGATIVE_INFINITY;
  #unloggedEpisodes = 0;

  constructor(options: FloodGuardOptions) {
    this.#deviceId = options.deviceId;
    this.#logger = options.logger;
    this.#clock = options.clock ?? performanceClock;
    this.#burst = options.burst ?? FLOOD_DEFAULT_BURST;
    this.#perMs = (options.perSecond ?? FLOOD_DEFAULT_PER_SECOND) / 1000;
    this.#logIntervalMs = options.logIntervalMs ?? FLOOD_DEFAULT_LOG_INTERVAL_MS;
    if (!(this.#burst >= 1) || !(this.#perMs > 0)) throw new RangeError('flood guard needs burst >= 1 and perSecond > 0');
    this.#tokens = this.#burst;
    this.#updatedAt = this.#clock.now();
  }

  get flooding(): boolean {
    this.#refill();
    return this.#flooding;
  }

  /** Says whether a chunk of `byteCount` bytes should be parsed; while flooding it is counted and dropped. */
  admit(byteCount: number): boolean {
    if (!this.flooding) return true;
    this.#shedBytes += byteCount;
    return false;
  }

  /** Records rejected frames (or their equivalent in skipped bytes). */
  reject(units = 1): void {
    // While flooding the bucket stays empty, so one flood lasts burst / perSecond however much garbage arrives.
    if (!(units > 0) || this.flooding) return;
    this.#tokens -= units;
    if (this.#tokens >= 0) return;
    this.#flooding = true;
    this.#tokens = 0;
    this.#episodes += 1;
    this.#unloggedEpisodes += 1;
    this.#log('warn', 'device is flooding garbage: input dropped until it calms down');
  }

  counters(): FloodGuardCounters {
    return { floodActive: this.flooding ? 1 : 0, floodEpisodes: this.#episodes, floodShedBytes: this.#shedBytes };
  }

  /** Refills the bucket for the time passed; a flood is over once it is full again. */
  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#updatedAt = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#perMs);
    if (this.#flooding && this.#tokens >= this.#burst) {
      this.#flooding = false;
      this.#log('info', 'garbage flood over, parsing input again');
    }
  }

  #log(level: 'info' | 'warn', message: string): void {
    const now = this.#clock.now();
    if (now - this.#lastLogAt < this.#logIntervalMs) return;
    this.#lastLogAt = now;
    this.#logger[level](
      { deviceId: this.#deviceId, floodEpisodes: this.#episodes, newEpisodes: this.#unloggedEpisodes, floodShedBytes: this.#shedBytes },
      message,
    );
    this.#unloggedEpisodes = 0;
  }
}

/**
 * Rejection units from a parser's cumulative counters: each rejected frame is
 * one, and skipped bytes count one per `bytesPerUnit`, so pure noise without
 * any frame structure is limited too.
 */
export function rejectionUnits(rejectedFrames: number, garbageBytes: number, bytesPerUnit = 16): number {
  return rejectedFrames + Math.floor(garbageBytes / bytesPerUnit);
}
