/** A worker thread's entry for test/runtime/worker-thread.test.ts: reports the thread's own CPU priority (nice). */
import { getPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';

parentPort?.postMessage(getPriority());
