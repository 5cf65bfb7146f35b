/**
 * A module of the daemon as compiled into dist/ (npm run build), typed as its
 * source. A benchmark that drives the daemon's code in its own process then
 * measures the code a site runs, and the worker threads that code starts
 * load from compiled files as they do at a site (started from the sources,
 * each would first load tsx's loader and compile its modules: work, and
 * stalls, a site never has).
 *
 *   const { SyncEngine } = await compiled<typeof import('../daemon/sync/sync-engine.js')>('daemon/sync/sync-engine.js');
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function compiled<M>(path: string): Promise<M> {
  const url = new URL(`../dist/${path}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) throw new Error(`dist/${path} is missing: run npm run build first`);
  return (await import(url.href)) as M;
}
