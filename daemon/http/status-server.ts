/**
 * Read-only HTTP endpoint for operators on site: /metrics, /status and a
 * status page. Off by default and bound to loopback; anywhere else it needs a
 * bearer token. Separate from any tablet-facing (kiosk) server: nothing here
 * changes state, and it serves no files.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../runtime/logger.js';
import { STATUS_PAGE_HTML } from './status-page.js';

export interface StatusSource {
  statusJson(): unknown;
  metricsText(): string;
  /** The latest decisions, newest first (fingerprints, never credential values). */
  decisionsJson(): unknown;
}

export interface StatusServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string | undefined;
  readonly source: StatusSource;
  readonly logger: Logger;
}

export class StatusServer {
  readonly #o: StatusServerOptions;
  readonly #log: Logger;
  #server: Server | null = null;

  constructor(options: StatusServerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'http' });
  }

  async start(): Promise<AddressInfo> {
    const server = createServer((req, res) => this.#handle(req, res));
    // Slow or idle clients must not pile up on a small gateway.
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.#log.error({ err: error }, 'status server error'));
    this.#server = server;
    const address = server.address() as AddressInfo;
    this.#log.info({ host: address.address, port: address.port }, 'status server listening');
    return address;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #authorised(req: IncomingMessage, url: URL): boolean {
    const token = this.#o.token;
    if (token === undefined) return true;
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : (url.searchParams.get('token') ?? '');
    const a = Buffer.from(presented);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const send = (code: number, type: string, body: string): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        send(405, 'text/plain; charset=utf-8', 'read-only endpoint\n');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!this.#authorised(req, url)) {
        res.setHeader('www-authenticate', 'Bearer');
        send(401, 'text/plain; charset=utf-8', 'token required\n');
        return;
      }
      switch (url.pathname) {
        case '/metrics':
          send(200, 'text/plain; version=0.0.4; charset=utf-8', this.#o.source.metricsText());
          return;
        case '/status':
          send(200, 'application/json; charset=utf-8', `${JSON.stringify(this.#o.source.statusJson(), null, 2)}\n`);
          return;
        case '/decisions':
          send(200, 'application/json; charset=utf-8', `${JSON.stringify(this.#o.source.decisionsJson(), null, 2)}\n`);
          return;
        case '/':
          res.setHeader('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
          send(200, 'text/html; charset=utf-8', STATUS_PAGE_HTML);
          return;
        default:
          send(404, 'text/plain; charset=utf-8', 'not found: try /, /status, /decisions or /metrics\n');
      }
    } catch (error) {
      this.#log.error({ err: error }, 'status request failed');
      if (!res.headersSent) send(500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    }
  }
}
