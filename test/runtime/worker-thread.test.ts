/**
 * startWorkerThread: a worker from the TypeScript sources (tsx in the new
 * thread), and one started some nice steps below its caller, from its
 * first instruction (the staging worker's way of leaving the cores to the
 * event loop).
 */
import { getPriority } from 'node:os';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startWorkerThread } from '../../daemon/runtime/worker-thread.js';

const entry = new URL('../support/priority-report-main.js', import.meta.url);

async function reportedPriority(nicerBy?: number): Promise<number> {
  const worker = startWorkerThread(entry, nicerBy === undefined ? {} : { nicerBy });
  try {
    const [priority] = (await once(worker, 'message')) as [number];
    return priority;
  } finally {
    await worker.terminate();
  }
}

describe('worker threads', () => {
  it("runs at the caller's priority unless told otherwise", async () => {
    expect(await reportedPriority()).toBe(getPriority());
  });

  it('runs nicerBy steps below its caller, capped at 19', async () => {
    expect(await reportedPriority(5)).toBe(Math.min(19, getPriority() + 5));
    expect(await reportedPriority(40)).toBe(19);
    // The caller's own thread is left as it was.
    expect(getPriority()).toBeLessThan(19);
  });
});
