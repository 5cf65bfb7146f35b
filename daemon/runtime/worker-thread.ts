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

export interface WorkerThreadOptions extends WorkerOptions {
  /**
   * Run the thread this many nice steps below the caller's CPU priority
   * (Linux keeps a nice value per thread), from its first instruction:
   * loading and compiling its modules is work too. Where the system refuses,
   * the thread runs at the caller's priority.
   */
  readonly nicerBy?: number;
}

/** `entry`: the compiled module's URL, e.g. new URL('./x-main.js', import.meta.url). */
export function startWorkerThread(entry: URL, options: WorkerThreadOptions): Worker {
  const { nicerBy = 0, ...workerOptions } = options;
  const js = fileURLToPath(entry);
  const compiled = existsSync(js);
  if (compiled && nicerBy === 0) return new Worker(js, workerOptions);
  const lines: string[] = [];
  if (nicerBy > 0) {
    lines.push(
      `import { getPriority, setPriority } from 'node:os';`,
      `try { setPriority(Math.min(19, getPriority() + ${Math.trunc(nicerBy)})); } catch { /* refused: the caller's priority */ }`,
    );
  }
  if (compiled) {
    lines.push(`await import(${JSON.stringify(pathToFileURL(js).href)});`);
  } else {
    lines.push(`const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))});`, `register();`);
    lines.push(`await import(${JSON.stringify(pathToFileURL(js.replace(/\.js$/, '.ts')).href)});`);
  }
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(lines.join('\n'))}`), workerOptions);
}
