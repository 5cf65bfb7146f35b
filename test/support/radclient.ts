/**
 * The real FreeRADIUS client (Debian freeradius-utils: /usr/bin/radclient),
 * spawned with attribute lines on stdin. The secret goes through a 0600 file
 * (-S), not the command line. Replies are parsed from its -x output.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RadclientResult {
  /** Reply packet name ("Access-Accept"), or null when none arrived (dropped). */
  readonly reply: string | null;
  /** Attributes of the reply, name -> values as printed (strings unquoted). */
  readonly attributes: Readonly<Record<string, string[]>>;
  readonly exitCode: number | null;
  readonly output: string;
}

export interface RadclientOptions {
  readonly port: number;
  readonly service: 'auth' | 'acct';
  readonly secret: string;
  /** Directory for the secret file. */
  readonly dir: string;
  /** Attribute lines, e.g. ['User-Name = "ada@example.org"', 'Message-Authenticator = 0x00']. */
  readonly attributes: readonly string[];
  readonly timeoutS?: number;
}

let secretFiles = 0;

export function radclient(o: RadclientOptions): Promise<RadclientResult> {
  const secretFile = join(o.dir, `radclient-secret-${++secretFiles}`);
  writeFileSync(secretFile, `${o.secret}\n`, { mode: 0o600 });
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/radclient', ['-x', '-t', String(o.timeoutS ?? 1), '-r', '1', '-S', secretFile, `127.0.0.1:${o.port}`, o.service], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ ...parseReply(output), exitCode, output }));
    child.stdin.end(`${o.attributes.join('\n')}\n`);
  });
}

function parseReply(output: string): Pick<RadclientResult, 'reply' | 'attributes'> {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => /^Received (\S+) Id /.test(l));
  if (start === -1) return { reply: null, attributes: {} };
  const reply = /^Received (\S+) Id /.exec(lines[start] ?? '')?.[1] ?? null;
  const attributes: Record<string, string[]> = {};
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+([\w-]+) = (.*)$/.exec(line);
    if (m === null) break;
    const value = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
    (attributes[m[1] ?? ''] ??= []).push(value);
  }
  return { reply, attributes };
}
