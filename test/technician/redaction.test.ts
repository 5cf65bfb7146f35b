/**
 * Secrets never leak: the daemon runs with debug logging, a card and a PIN
 * are read, and every technician path is exercised (CLI over the control
 * socket, tail, lookup, HTTP). Then every log line, every CLI answer, the
 * HTTP answers and the database files are searched for the plaintext values.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliArgs, runCli, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { waitFor } from '../support/pty.js';
import { demo, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

/** A value counts as leaked when it appears as a token of its own (not inside a longer number or hex string). */
const leaks = (text: string, value: string): boolean => new RegExp(`(?<![0-9a-fA-F.])${value}(?![0-9a-fA-F.])`).test(text);

describe('secret redaction across every technician path', () => {
  let dir: ReturnType<typeof tempDir>;
  let daemon: DaemonProcess | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    dir.remove();
  });

  it('no plaintext card number or PIN in logs, CLI output, HTTP answers or the database', async () => {
    const unknownPin = '97531246';
    const secrets = [demo.ada.card, demo.ada.card.replace(/^0+/, ''), demo.ada.pin, demo.grace.card.replace(/^0+/, ''), unknownPin];
    const config = writeSite(
      dir.path,
      `http: { enabled: true, port: 0 }\ndoors:\n  - { id: front, relay: { driver: sim } }\nreaders:\n  - { id: front-in, driver: sim, door: front, mode: toggle }\n`,
      { logLevel: 'trace' },
    );
    daemon = await startDaemon(config);
    await daemon.waitForLog('status server listening');
    const port = (JSON.parse(daemon.output().split('\n').find((l) => l.includes('status server listening')) ?? '{}') as { port: number }).port;

    const tail = spawn(process.execPath, [...cliArgs, 'tail', '--json', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tailOut = '';
    let tailErr = '';
    tail.stdout.on('data', (d: Buffer) => (tailOut += d.toString()));
    tail.stderr.on('data', (d: Buffer) => (tailErr += d.toString()));
    await waitFor(() => tailErr.includes('following'), 'tail subscribed', 20_000);

    const answers: string[] = [];
    const cli = async (args: string[], input?: string): Promise<void> => {
      const r = await runCli([...args, '--config', config], {}, input);
      answers.push(r.stdout, r.stderr);
    };
    // The reads themselves: the value is on sim's own command line by design, so only its answer is searched.
    const read = async (args: string[]): Promise<void> => {
      const r = await runCli([...args, '--config', config]);
      expect(r.code).not.toBe(1);
      answers.push(r.stdout, r.stderr);
    };
    await read(['sim', 'card', demo.ada.card]);
    await read(['sim', 'pin', demo.ada.pin]);
    await read(['sim', 'pin', unknownPin]);
    await read(['sim', 'card', demo.grace.card, '--json']);
    await cli(['lookup', 'card'], `${demo.ada.card}\n`);
    await cli(['lookup', 'pin', '--json'], `${demo.ada.pin}\n`);
    await cli(['lookup', 'pin'], `${unknownPin}\n`);
    for (const args of [['status'], ['status', '--json'], ['events', '--json', '--limit', '50'], ['events'], ['outbox', '--json'], ['outbox'], ['relay', 'test', 'front'], ['doctor', '--json'], ['sync', 'status']]) await cli(args);
    for (const path of ['/status', '/metrics', '/']) answers.push(await (await fetch(`http://127.0.0.1:${port}${path}`)).text());
    await waitFor(() => tailOut.split('\n').filter((l) => l.includes('"reader"')).length >= 4, 'four tail lines', 20_000);
    tail.kill('SIGINT');
    answers.push(tailOut, tailErr);
    expect(await daemon.stop()).toBe(0);

    const logs = daemon.output();
    // The daemon logged at trace level and the reads were decided: the search has something to search.
    expect(logs).toMatch(/"level":(10|20)/);
    expect(tailOut).toContain('"outcome":"granted"');
    const db = readdirSync(dir.path)
      .filter((f) => f.startsWith('gatehouse.db'))
      .map((f) => readFileSync(join(dir.path, f)).toString('latin1'))
      .join('\n');
    expect(db.length).toBeGreaterThan(0);
    for (const value of secrets) {
      expect(leaks(logs, value), `log contains ${value}`).toBe(false);
      expect(leaks(answers.join('\n'), value), `CLI/HTTP answer contains ${value}`).toBe(false);
      expect(db.includes(value), `database contains ${value}`).toBe(false);
    }
    // Many CLI processes in a row (each a fresh Node): a generous limit, not a speed requirement.
  }, 180_000);
});
