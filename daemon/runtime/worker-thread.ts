/**
 * A worker thread whose code is a module of this project, started the same
 * way from the compiled daemon (dist/, plain .js) and from the TypeScript
 * sources (tsx, vitest): the compiled file next to the caller when it is
 * there, otherwise the .ts source behind a two-line ESM bootstrap that
 * registers tsx's loader in the new thread first (tsx is a dev dependency,
 * present wherever the sources run).
 *
 * Not `execArgv: ['--import', 'tsx']`: on Node 20 the hooks that flag
 * installs in a worker do not apply to the worker's own entry module
 * ("Unknown file extension .ts"). module.register(), which tsx's register()
 * calls, works in a worker on Node 20, 22 and 24.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `entry`: the compiled module's URL, e.g. new URL('./x-main.js', import.meta.url). */
export function startWorkerThread(entry: URL, options: WorkerOptions): Worker {
  const js = fileURLToPath(entry);
  if (existsSync(js)) return new Worker(js, options);
  const source = pathToFileURL(js.replace(/\.js$/, '.ts')).href;
  const bootstrap = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
register();
await import(${JSON.stringify(source)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}
