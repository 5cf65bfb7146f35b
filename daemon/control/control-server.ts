/**
 * Unix socket for the CLI (`gatehouse status`, `gatehouse sim ...`). Owner-only
 * permissions: whoever can talk to it can open doors in simulation and read
 * who is on site.
 */
import { chmodSync, mkdirSync, unlinkSync, existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../runtime/logger.js';
import { MAX_REQUEST_BYTES, parseControlRequest, type ControlRequest, type ControlResponse } from './protocol.js';

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/**
 * A handler's answer for streaming requests (tail): every item is written as
 * its own `{"ok":true,"data":...}` line until the client disconnects.
 */
export class ControlStream {
  constructor(readonly subscribe: (emit: (data: unknown) => void) => () => void) {}
}

export class ControlServer {
  readonly #path: string;
  readonly #handler: ControlHandler;
  readonly #log: Logger;
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();

  constructor(path: string, handler: ControlHandler, logger: Logger) {
    this.#path = path;
    this.#handler = handler;
    this.#log = logger.child({ component: 'control' });
  }

  async start(): Promise<void> {
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o750 });
    await removeStaleSocket(this.#path);
    const server = createServer((socket) => this.#serve(socket));
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(previous);
    }
    chmodSync(this.#path, 0o600);
    server.on('error', (error) => this.#log.error({ err: error }, 'control socket error'));
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(10_000, () => socket.destroy());
    let buffer = '';
    const reply = (response: ControlResponse): void => {
      socket.end(`${JSON.stringify(response)}\n`);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) {
        if (buffer.length > MAX_REQUEST_BYTES) {
          socket.removeAllListeners('data');
          reply({ ok: false, error: 'request too long' });
        }
        return;
      }
      const line = buffer.slice(0, newline);
      socket.removeAllListeners('data');
      const parsed = parseControlRequest(line);
      if (!parsed.ok) {
        reply({ ok: false, error: parsed.error });
        return;
      }
      this.#handler(parsed.request).then(
        (data) => {
          if (data instanceof ControlStream) this.#stream(socket, data);
          else reply({ ok: true, data });
        },
        (error: unknown) => reply({ ok: false, error: error instanceof Error ? error.message : String(error) }),
      );
    });
  }

  #stream(socket: Socket, stream: ControlStream): void {
    socket.setTimeout(0);
    const unsubscribe = stream.subscribe((data) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify({ ok: true, data } satisfies ControlResponse)}\n`);
    });
    socket.once('close', unsubscribe);
    // A first line with no data: the client knows it is subscribed and nothing is missed from here on.
    socket.write(`${JSON.stringify({ ok: true, data: null } satisfies ControlResponse)}\n`);
    // Whatever the client sends now (or its EOF) ends the stream.
    socket.on('data', () => socket.end());
    socket.once('end', () => socket.end());
  }
}

/** A socket file left by a crashed daemon is removed; a live one means another daemon runs. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another Gatehouse is already listening on ${path}`);
  unlinkSync(path);
}

/** Send a streaming request (tail); calls onData per line and resolves when the daemon closes the stream. */
export function streamControlRequest(path: string, request: ControlRequest, onData: (data: unknown) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const response = JSON.parse(buffer.slice(0, newline)) as ControlResponse;
        buffer = buffer.slice(newline + 1);
        if (!response.ok) {
          socket.destroy();
          reject(new Error(response.error));
          return;
        }
        onData(response.data);
      }
    });
    socket.once('error', (error) => reject(new Error(`${path}: ${error.message}`)));
    socket.once('close', () => resolve());
  });
}

/** Send one request to a running daemon. */
export function sendControlRequest(path: string, request: ControlRequest, timeoutMs = 10_000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let data = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    });
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === 'ENOENT' || error.code === 'ECONNREFUSED'
          ? `no Gatehouse daemon is listening on ${path} (is it running, with this config?)`
          : error.code === 'EACCES'
            ? `permission denied on ${path}: run as the gatehouse user or root`
            : error.message;
      reject(new Error(hint));
    });
    socket.once('end', () => {
      try {
        resolve(JSON.parse(data) as ControlResponse);
      } catch {
        reject(new Error('malformed answer from the daemon'));
      }
    });
  });
}
