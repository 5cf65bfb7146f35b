/**
 * `gatehouse sync ...`: import a signed snapshot file, show the sync state,
 * ask the cloud for a snapshot.
 *
 * An import goes to the running daemon when there is one (it alone writes its
 * database) and otherwise opens the database directly; either way the file
 * runs through the same verify, assemble and apply code as MQTT snapshots.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { sendControlRequest } from '../control/control-server.js';
import type { ControlRequest } from '../control/protocol.js';
import { createLogger } from '../runtime/logger.js';
import { CredentialCache } from '../store/cache.js';
import { CredentialHasher } from '../store/credential-hash.js';
import { openDatabase } from '../store/database.js';
import { SyncRejectedError, type AppliedSnapshot, type ImportJob, type SyncStatus } from '../sync/sync-engine.js';
import type { SnapshotRequestOutcome } from '../sync/sync-link.js';
import { SyncService } from '../sync/sync-service.js';
import type { CliOptions } from './main.js';

const POLL_MS = 200;

function load(options: CliOptions): LoadedConfig {
  try {
    return loadConfig(options.config);
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`cannot read ${options.config}:\n${error.message}`);
    throw error;
  }
}

async function ask(socket: string, request: ControlRequest): Promise<unknown> {
  const response = await sendControlRequest(socket, request);
  if (!response.ok) throw new Error(response.error);
  return response.data;
}

/** Whether a daemon answers on the control socket (a stale socket file does not). */
function daemonListening(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return Promise.resolve(false);
  return new Promise((done) => {
    const probe = createConnection(socket);
    probe.once('connect', () => {
      probe.destroy();
      done(true);
    });
    probe.once('error', () => done(false));
  });
}

/** How far a snapshot has come: chunks received (of how many, once known) and people staged. */
interface SnapshotProgress {
  readonly chunksReceived: number;
  readonly chunks: number | null;
  readonly people: number;
}

const progressOfImport = (job: ImportJob | null): SnapshotProgress | null =>
  job === null || job.state !== 'running' ? null : { chunksReceived: job.chunks.received, chunks: job.chunks.total, people: job.people };

/** One progress line on stderr, rewritten in place on a terminal, every few seconds otherwise. */
function progressPrinter(label: string): { update(progress: SnapshotProgress | null): void; end(): void } {
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  let shown = false;
  return {
    update(progress) {
      if (progress === null) return;
      const now = Date.now();
      if (!tty && now - lastPrinted < 2_000) return;
      lastPrinted = now;
      const chunks = progress.chunks === null ? 'reading' : `chunk ${progress.chunksReceived}/${progress.chunks}`;
      const line = `${label}: ${chunks}, ${progress.people.toLocaleString('en')} people staged`;
      process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
      shown = true;
    },
    end() {
      if (tty && shown) process.stderr.write('\n');
    },
  };
}

function report(result: AppliedSnapshot): void {
  console.log(
    `applied snapshot${result.snapshotId === null ? '' : ` ${result.snapshotId}`}: version ${result.version}, ${result.people.toLocaleString('en')} people, ${result.credentials.toLocaleString('en')} credentials, ${result.entitlements.toLocaleString('en')} entitlements in ${(result.ms / 1000).toFixed(1)} s`,
  );
  if (result.rejectedCredentials.length > 0) {
    console.log(`${result.rejectedCredentials.length} credential(s) skipped for a malformed value: ${result.rejectedCredentials.slice(0, 10).map((c) => c.id).join(', ')}${result.rejectedCredentials.length > 10 ? ', ...' : ''}`);
  }
}

export async function syncImportCommand(options: CliOptions, file: string): Promise<number> {
  const loaded = load(options);
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const socket = loaded.config.control.socket;
  return (await daemonListening(socket)) ? importViaDaemon(socket, path, options.force) : importDirectly(loaded, path, options.force);
}

async function importViaDaemon(socket: string, path: string, force: boolean): Promise<number> {
  const { job } = (await ask(socket, { op: 'sync-import', path, force })) as { job: number };
  const progress = progressPrinter(`importing ${path}`);
  for (;;) {
    const status = (await ask(socket, { op: 'sync-status' })) as SyncStatus;
    const current = status.import?.id === job ? status.import : null;
    if (current === null) throw new Error('the daemon lost track of the import (restarted?)');
    progress.update(progressOfImport(current));
    if (current.state !== 'running') {
      progress.end();
      if (current.result !== null) {
        report(current.result);
        return 0;
      }
      console.error(`import refused: ${current.error?.reason ?? 'error'}: ${current.error?.detail ?? ''}`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function importDirectly(loaded: LoadedConfig, path: string, force: boolean): Promise<number> {
  const { config } = loaded;
  const db = openDatabase(config.store.path);
  const logger = createLogger('warn', pino.destination({ dest: 2, sync: true }));
  const sync = new SyncService({ config, cache: new CredentialCache(db, new CredentialHasher(loaded.siteKey)), logger, bootId: randomUUID(), transport: null });
  const progress = progressPrinter(`importing ${path}`);
  const timer = setInterval(() => progress.update(progressOfImport(sync.engine.importJob)), POLL_MS);
  try {
    sync.engine.start();
    let code = 0;
    try {
      report(await sync.importFile(path, { force }));
    } catch (error) {
      if (!(error instanceof SyncRejectedError)) throw error;
      console.error(`import refused: ${error.reason}: ${error.detail}`);
      code = 1;
    } finally {
      progress.end();
    }
    // The replaced generation, or what a refused file staged, is deleted before the database is handed back.
    await sync.engine.whenIdle();
    return code;
  } finally {
    clearInterval(timer);
    await sync.stop();
    db.close();
  }
}

export async function syncStatusCommand(options: CliOptions): Promise<number> {
  const status = (await ask(load(options).config.control.socket, { op: 'sync-status' })) as SyncStatus;
  if (options.json) {
    console.log(JSON.stringify(status, null, 2));
    return 0;
  }
  for (const line of describeSync(status)) console.log(line);
  return 0;
}

/** What the daemon answers to sync-request. */
export interface SyncRequestAnswer {
  readonly outcome: SnapshotRequestOutcome;
  readonly version: number;
  readonly snapshotsApplied: number;
}

/** How long `resync` follows the answer before it gives up waiting (the daemon keeps waiting). */
const RESYNC_WAIT_MS = 120_000;

/**
 * `gatehouse resync`: ask the cloud for a snapshot, then follow it until it
 * is in force, with a progress line (chunks received, people staged).
 * Decisions go on from the old data all along. Exit 0 once a new snapshot
 * is applied, 1 if none arrives in time.
 */
export async function syncRequestCommand(options: CliOptions, waitMs = RESYNC_WAIT_MS): Promise<number> {
  const socket = load(options).config.control.socket;
  const answer = (await ask(socket, { op: 'sync-request' })) as SyncRequestAnswer;
  const o = answer.outcome;
  const said =
    o.kind === 'sent'
      ? `snapshot requested from the cloud (request ${o.requestId}); the cache is at version ${answer.version}`
      : o.kind === 'throttled'
        ? `snapshot requests are rate-limited: this one goes out in ${Math.ceil(o.inMs / 1000)} s by itself`
        : 'not connected to the broker: the request goes out when the link is back (see gatehouse status)';
  if (options.json) console.log(JSON.stringify(answer));
  else console.log(said);

  const progress = progressPrinter('receiving the snapshot');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const status = (await ask(socket, { op: 'sync-status' })) as SyncStatus;
    if (status.applied.snapshots > answer.snapshotsApplied) {
      progress.end();
      if (options.json) console.log(JSON.stringify({ applied: true, version: status.version, snapshotId: status.snapshotId }));
      else console.log(`snapshot ${status.snapshotId ?? ''} applied: the cache is at version ${status.version}`);
      return 0;
    }
    const r = status.receiving;
    progress.update(r === null ? null : { chunksReceived: r.chunksReceived, chunks: r.chunks, people: r.people });
    if (Date.now() > deadline) {
      progress.end();
      const rejection = status.lastRejection === null ? '' : `; last rejected message: ${status.lastRejection.reason} (${status.lastRejection.detail})`;
      console.error(`no snapshot applied within ${Math.round(waitMs / 1000)} s${rejection}. The daemon keeps deciding from version ${status.version} and applies the snapshot whenever it comes.`);
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const age = (s: number | null): string => (s === null ? 'never synced' : s < 120 ? `${s}s old` : s < 7200 ? `${Math.round(s / 60)}m old` : `${Math.round(s / 3600)}h old`);

/** The sync part of `gatehouse status` and `gatehouse sync status`. */
export function describeSync(s: SyncStatus): string[] {
  const lines = [
    `version ${s.version}, ${age(s.ageS)}${s.syncedAt === null ? '' : ` (last sync ${s.syncedAt}, ${s.source ?? '?'})`}${s.stale ? `, STALE: ${s.stalePolicy ?? ''}` : ''}`,
    `state ${s.state}${s.receiving === null ? '' : `: snapshot ${s.receiving.snapshotId} v${s.receiving.version}, chunk ${s.receiving.chunksReceived}/${s.receiving.chunks}`}; ${s.applied.snapshots} snapshot(s), ${s.applied.deltas} delta(s) applied this run`,
  ];
  if (s.keys.length === 0) lines.push('no cloud keys configured: only unsigned seed files can fill the cache');
  if (s.lastRequest !== null) lines.push(`last request ${s.lastRequest.at} (${s.lastRequest.reason})`);
  const rejected = Object.entries(s.rejected).map(([reason, n]) => `${reason}=${n}`);
  lines.push(`rejected ${rejected.length === 0 ? 'none' : rejected.join(' ')}`);
  if (s.lastRejection !== null) lines.push(`last rejection ${s.lastRejection.at}: ${s.lastRejection.reason}: ${s.lastRejection.detail}`);
  if (s.import !== null) lines.push(`last import ${s.import.file}: ${s.import.state}${s.import.error === null ? '' : ` (${s.import.error.reason})`}`);
  return lines;
}
