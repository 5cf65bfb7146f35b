/**
 * A stand-in for systemd's notify socket: a real unix datagram socket (bound
 * by python3, since Node cannot) that reports each datagram with the sender's
 * PID from SCM_CREDENTIALS, the same credentials systemd attributes by.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './pty.js';

const RECEIVER = `
import json, os, socket, struct, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({'bound': path}), flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack('iII', payload[:12])[0]
    print(json.dumps({'pid': pid, 'message': data.decode()}), flush=True)
`;

export interface NotifyMessage {
  readonly pid: number | null;
  /** The datagram's assignments, e.g. { READY: '1', STATUS: '...' }. */
  readonly fields: Record<string, string>;
}

export interface NotifySocket {
  readonly path: string;
  readonly messages: NotifyMessage[];
  waitFor(field: string, value?: string | RegExp, after?: number): Promise<NotifyMessage>;
  close(): Promise<void>;
}

export async function createNotifySocket(dir: string): Promise<NotifySocket> {
  const path = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: NotifyMessage[] = [];
  let bound = false;
  let buffer = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, nl)) as { bound?: string; pid?: number | null; message?: string };
      buffer = buffer.slice(nl + 1);
      if (line.bound !== undefined) bound = true;
      if (line.message !== undefined) {
        const fields = Object.fromEntries(
          line.message.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
        messages.push({ pid: line.pid ?? null, fields });
      }
    }
  });
  await waitFor(() => bound, 'notify socket bound');
  const matches = (m: NotifyMessage, field: string, value?: string | RegExp): boolean => {
    const v = m.fields[field];
    if (v === undefined) return false;
    return value === undefined || (typeof value === 'string' ? v === value : value.test(v));
  };
  return {
    path,
    messages,
    async waitFor(field, value, after = 0) {
      let found: NotifyMessage | undefined;
      await waitFor(() => (found = messages.slice(after).find((m) => matches(m, field, value))) !== undefined, `notify ${field}${value === undefined ? '' : `=${String(value)}`}`, 20_000);
      return found as NotifyMessage;
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
