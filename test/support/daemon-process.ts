/**
 * The `gatehouse` command as a real process: the daemon under test and the
 * CLI commands a technician types, talking over the real control socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './pty.js';

const root = join(import.meta.dirname, '../..');
// One process, no tsx wrapper: signals must reach the daemon itself.
export const cliArgs = ['--import', 'tsx', join(root, 'daemon/cli/main.ts')];

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliArgs, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  /** Everything the daemon wrote to stdout and stderr so far. */
  output(): string;
  waitForLog(text: string | RegExp): Promise<void>;
  /** SIGTERM and the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export async function startDaemon(config: string, env: NodeJS.ProcessEnv = {}, waitStarted = true): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [...cliArgs, 'run', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const daemon: DaemonProcess = {
    child,
    output: () => out,
    waitForLog: (text) => waitFor(() => (typeof text === 'string' ? out.includes(text) : text.test(out)), `daemon log ${String(text)}`, 20_000),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  if (waitStarted) await daemon.waitForLog('gatehouse started');
  return daemon;
}
