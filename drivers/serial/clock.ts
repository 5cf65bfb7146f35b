/** A monotonic millisecond clock; wall-clock time can jump (NTP) and would break debouncing and rate limits. */
export interface MonotonicClock {
  now(): number;
}

export const performanceClock: MonotonicClock = { now: () => performance.now() };
