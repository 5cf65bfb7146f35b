/**
 * A gateway with the kiosk on a free port, real HTTP to it, and pairing over
 * the real control socket (what `gatehouse kiosk pair` sends).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sendControlRequest } from '../../daemon/control/control-server.js';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

export interface KioskSite {
  readonly gateway: Gateway;
  readonly url: string;
  readonly dir: string;
  readonly logLines: string[];
  /** Issue a pairing code over the control socket. */
  pairingCode(name?: string): Promise<string>;
  /** Pair a kiosk through the API; its token and id. */
  pair(name?: string): Promise<{ token: string; id: string }>;
  control(request: Record<string, unknown>): Promise<unknown>;
  stop(): Promise<void>;
}

export interface KioskSiteOptions {
  /** YAML inside `kiosk:` besides listen. */
  readonly kiosk?: string;
  /** YAML after the kiosk section (readers, doors, guessing). */
  readonly extra?: string;
  /** Site settings merged into the demo data set. */
  readonly settings?: Record<string, unknown>;
  /** Extra demo people fields by id (emails). */
  readonly people?: Record<string, Record<string, unknown>>;
}

export async function startKioskSite(options: KioskSiteOptions = {}): Promise<KioskSite> {
  const dir = tempDir();
  const config = writeSite(
    dir.path,
    `kiosk:
  listen: { host: 127.0.0.1, port: 0 }
${options.kiosk ?? ''}
${options.extra ?? ''}`,
  );
  const datasetPath = join(dir.path, 'dataset.json');
  const dataset = JSON.parse(readFileSync(datasetPath, 'utf8')) as { settings?: Record<string, unknown>; people: { id: string }[] };
  if (options.settings !== undefined) dataset.settings = { ...dataset.settings, ...options.settings };
  dataset.people = dataset.people.map((p) => ({ ...p, ...options.people?.[p.id] }));
  writeFileSync(datasetPath, JSON.stringify(dataset));
  const { logger, lines } = memoryLogger('info');
  const loaded = loadConfig(config);
  const gateway = await Gateway.start(loaded, logger, '0.0.0-test');
  const kiosk = gateway.kiosk;
  if (kiosk === null) throw new Error('kiosk not configured');
  const control = async (request: Record<string, unknown>): Promise<unknown> => {
    const response = await sendControlRequest(loaded.config.control.socket, request as never);
    if (!response.ok) throw new Error(response.error);
    return response.data;
  };
  const url = kiosk.server.url;
  const pairingCode = async (name = 'lobby'): Promise<string> => ((await control({ op: 'kiosk-pair', name })) as { code: string }).code;
  return {
    gateway,
    url,
    dir: dir.path,
    logLines: lines,
    pairingCode,
    control,
    async pair(name = 'lobby') {
      const code = await pairingCode(name);
      const response = await fetch(`${url}/api/v1/pair`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) });
      if (response.status !== 201) throw new Error(`pairing failed: ${response.status}`);
      const body = (await response.json()) as { token: string; kiosk: { id: string } };
      return { token: body.token, id: body.kiosk.id };
    },
    async stop() {
      await gateway.stop();
      dir.remove();
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> & { error?: { code: string; message: string } };
}

/** A JSON request to the kiosk API. `body` as a string is sent as is. */
export async function call(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(`${url}/api/v1${path}`, { method, headers, body });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Reply['body'] };
}
