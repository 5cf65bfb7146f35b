/**
 * Cooperative time slicing for work that must share the event loop with
 * door decisions: do a slice of at most `budgetMs`, then yield so timers,
 * reader input and the MQTT socket get their turn.
 *
 * Every background task (staging, garbage collection, the next queued
 * message) waits for its turn in one line, and each turn of the event loop
 * runs at most one of them: two slices in the same check phase would add up
 * to one stall twice as long. setImmediate, not a resolved promise: a
 * microtask would run before any I/O callback and yield nothing.
 */
import { performance } from 'node:perf_hooks';

const waiting: (() => void)[] = [];
let scheduled = false;

function pump(): void {
  scheduled = false;
  const next = waiting.shift();
  // Queued from inside the check phase, this runs in the next loop iteration.
  if (waiting.length > 0) schedule();
  next?.();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(pump);
}

/** Resolves in a later turn of the event loop, after timers and I/O had theirs; one waiter per turn. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    schedule();
  });
}

/** Work was stopped because the daemon is shutting down. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError';
}

/**
 * How long work may run before it lets others have their turn, and how it
 * lets them: a turn of the event loop (Slicer, on the daemon's thread), or
 * a pause for the daemon's own writes (the staging worker's pace).
 */
export interface Pace {
  /** Whether the current stretch of work has used its budget. */
  readonly spent: boolean;
  /** End the stretch, let others run, start a new one. Throws AbortedError once stopped. */
  pause(): Promise<void>;
}

/** For work that may run on without a break (CPU-only work on a worker thread). */
export const unpaced: Pace = { spent: false, pause: () => Promise.resolve() };

export class Slicer implements Pace {
  readonly #budgetMs: number;
  readonly #isStopped: () => boolean;
  #sliceStart = performance.now();

  constructor(budgetMs: number, isStopped: () => boolean = () => false) {
    this.#budgetMs = budgetMs;
    this.#isStopped = isStopped;
  }

  /** Whether the current slice has used its budget. */
  get spent(): boolean {
    return performance.now() - this.#sliceStart >= this.#budgetMs;
  }

  /** Give the event loop a turn and start a new slice. Throws AbortedError once stopped. */
  async pause(): Promise<void> {
    await nextTurn();
    if (this.#isStopped()) throw new AbortedError('stopped');
    this.#sliceStart = performance.now();
  }
}
