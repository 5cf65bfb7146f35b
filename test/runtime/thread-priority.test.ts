/**
 * lowerOtherThreads: every thread of the process but the caller's goes some
 * nice steps down (Linux keeps a nice value per thread); the caller's stays.
 */
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { lowerOtherThreads } from '../../daemon/runtime/thread-priority.js';

/** A thread that answers every message with its own nice value. */
const REPORTER = `
const { parentPort } = require('node:worker_threads');
const { getPriority } = require('node:os');
parentPort.on('message', () => parentPort.postMessage(getPriority()));
`;

describe('lowerOtherThreads', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
  });

  const niceOf = async (w: Worker): Promise<number> => {
    w.postMessage('nice?');
    const [nice] = (await once(w, 'message')) as [number];
    return nice;
  };

  it("lowers the other threads, a worker among them, and leaves the caller's priority", async () => {
    worker = new Worker(REPORTER, { eval: true });
    await once(worker, 'online');
    const own = getPriority();
    const workerBefore = await niceOf(worker);
    const lowered = lowerOtherThreads(2);
    expect(lowered.refused).toBeNull();
    expect(lowered.threads).not.toContain(process.pid);
    // The worker and Node's own helpers (V8's platform workers at least).
    expect(lowered.threads.length).toBeGreaterThanOrEqual(2);
    expect(await niceOf(worker)).toBe(Math.min(19, workerBefore + 2));
    expect(getPriority()).toBe(own);
  });

  it('stops at 19', async () => {
    worker = new Worker(REPORTER, { eval: true });
    await once(worker, 'online');
    lowerOtherThreads(40);
    expect(await niceOf(worker)).toBe(19);
  });
});
