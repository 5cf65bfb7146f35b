/**
 * The kiosk's own listener (config kiosk.listen), apart from the control
 * socket: the page's static files and the JSON API under /api/v1. HTTPS when
 * kiosk.tls is set (tablets give the camera only to secure pages).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../runtime/logger.js';
import { MAX_BODY_BYTES } from './api-schemas.js';
import type { ApiResponse, KioskApi } from './kiosk-api.js';
import type { StaticAsset } from './static-assets.js';

export interface KioskServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly api: KioskApi;
  readonly assets: ReadonlyMap<string, StaticAsset>;
  readonly logger: Logger;
}

/** Nothing but this gateway: no CDN, no inline script, no framing. wasm needs its own allowance. */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(self), microphone=(), geolocation=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class KioskServer {
  readonly #o: KioskServerOptions;
  readonly #log: Logger;
  readonly #sockets = new Set<Socket>();
  #server: Server | null = null;

  constructor(options: KioskServerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'kiosk' });
  }

  get url(): string {
    const address = this.#server?.address() as AddressInfo | null | undefined;
    if (address === null || address === undefined) throw new Error('the kiosk server is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.#o.tls === undefined ? 'http' : 'https'}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.#serve(req, res).catch((err: unknown) => {
        this.#log.error({ err }, 'kiosk request failed');
        if (!res.headersSent) this.#json(res, { status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
        else res.destroy();
      });
    };
    const tls = this.#o.tls;
    const server = tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, handler);
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#log.error({ err }, 'kiosk server error'));
    this.#server = server;
    this.#log.info({ url: this.url }, 'kiosk listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://kiosk.invalid');
    if (url.pathname.startsWith('/api/')) {
      let body: unknown;
      try {
        body = await readJsonBody(req);
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        this.#json(res, { status: err.status, body: { error: { code: err.code, message: err.message } } });
        if (err.status === 413) req.destroy();
        return;
      }
      const response = this.#o.api.handle({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        authorization: req.headers.authorization,
        body,
        ip: req.socket.remoteAddress ?? 'unknown',
      });
      this.#json(res, response);
      return;
    }
    const asset = this.#o.assets.get(url.pathname);
    if (asset === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(asset === undefined ? 404 : 405, { ...PAGE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(asset === undefined ? 'not found\n' : 'method not allowed\n');
      return;
    }
    res.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': asset.contentType, 'Content-Length': asset.body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  #json(res: ServerResponse, response: ApiResponse): void {
    const body = JSON.stringify(response.body);
    res.writeHead(response.status, {
      ...PAGE_HEADERS,
      ...response.headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    });
    res.end(body);
  }
}

/** The request's JSON body: undefined when empty; BodyError for a wrong type, too large or not JSON. */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) throw new BodyError(413, 'body_too_large', `the body is limited to ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyError(413, 'body_too_large', `the body is limited to ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  if (size === 0) return undefined;
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new BodyError(415, 'unsupported_media_type', 'send the body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new BodyError(400, 'bad_request', 'the body is not valid JSON');
  }
}
