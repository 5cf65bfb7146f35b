/**
 * The event loop decides every door; on a two-core box it must get a core
 * the moment it wants one. Node starts threads of its own beside it, at the
 * same priority: V8's platform workers (garbage collection helpers, for the
 * event loop's heap and for the staging worker's, which allocates hundreds
 * of MB per snapshot) and libuv's pool. Linux shares a core fairly between
 * equal threads, so a woken event loop waits for the running helper's time
 * slice to end: 4 to 8 ms at a time were measured during a 100k apply
 * (bench/sync-apply.ts --gaps --threads).
 *
 * Linux keeps a nice value per thread, so the daemon lowers every thread of
 * its process but the event loop's, once, at start. Threads started later
 * inherit their starter's value: the staging worker lowers itself further
 * (worker-thread.ts). The event loop's own helpers still run ahead of that
 * worker, and the event loop does most of its collecting itself.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export interface Lowered {
  /** Thread ids lowered. */
  readonly threads: number[];
  /** Why some could not be, when none could (no /proc, or refused). */
  readonly refused: string | null;
}

/** How far below the event loop the daemon puts the other threads of its process. */
export const HELPERS_NICER_BY = 10;

/** Lower every thread of this process other than the calling (main) one by `nicerBy` nice steps, capped at 19. Never throws. */
export function lowerOtherThreads(nicerBy: number = HELPERS_NICER_BY): Lowered {
  const threads: number[] = [];
  let refused: string | null = null;
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch (error) {
    return { threads, refused: error instanceof Error ? error.message : String(error) };
  }
  for (const tid of tids) {
    if (tid === process.pid) continue;
    try {
      // setpriority(PRIO_PROCESS, tid) sets one thread's nice value on Linux.
      setPriority(tid, Math.min(19, getPriority(tid) + nicerBy));
      threads.push(tid);
    } catch (error) {
      // A thread that ended meanwhile, or a system that refuses: the rest are still worth lowering.
      refused ??= error instanceof Error ? error.message : String(error);
    }
  }
  return { threads, refused: threads.length === 0 ? refused : null };
}
