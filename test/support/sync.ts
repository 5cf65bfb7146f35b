/**
 * Sites, data sets and database dumps for the cache-sync tests.
 */
import { generationPath, generationsOnDisk, pointedGeneration } from '../../daemon/store/cache-files.js';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { datasetSchema, type Dataset, type DatasetInput } from '../../daemon/sync/dataset.js';
import type { SigningKey } from '../../scripts/cloud-sim/protocol.js';
import type { TestCloudKey } from './cloud-keys.js';
import { DEMO_DATASET, TEST_SITE_KEY } from './site.js';

export const simDoor = `doors:
  - { id: front, relay: { driver: sim }, pulseMs: 300 }
readers:
  - { id: front-in, driver: sim, door: front, mode: entry }
  - { id: front-out, driver: sim, door: front, mode: exit }
`;

export function signerOf(key: TestCloudKey): SigningKey {
  return { keyId: key.id, privateKey: key.privateKey };
}

export interface SyncSiteOptions {
  readonly brokerUrl?: string;
  /** Seed the cache from the plain demo data set (version 1). Default true. */
  readonly seed?: boolean | string;
  /** Extra lines of the cloud section, e.g. "  staleAfterHours: 0.001\n". */
  readonly cloud?: string;
  readonly hardware?: string;
  readonly logLevel?: string;
  readonly gatewayId?: string;
}

/** A complete site in `dir` whose cloud section trusts `key`; returns the config path. */
export function writeSyncSite(dir: string, key: TestCloudKey, options: SyncSiteOptions = {}): string {
  writeFileSync(join(dir, 'secrets.yaml'), `siteKey: ${TEST_SITE_KEY}\n`, { mode: 0o600 });
  let seed = '';
  if (options.seed === undefined || options.seed === true) {
    copyFileSync(DEMO_DATASET, join(dir, 'dataset.json'));
    seed = ', seedFile: dataset.json';
  } else if (typeof options.seed === 'string') {
    seed = `, seedFile: ${options.seed}`;
  }
  const pem = key.publicPem.trim().split('\n').map((line) => `        ${line}`).join('\n');
  const path = join(dir, 'gatehouse.yaml');
  writeFileSync(
    path,
    `site: { id: test, timezone: Europe/London }
gateway: { id: ${options.gatewayId ?? 'gw1'} }
secretsFile: secrets.yaml
store: { path: gatehouse.db${seed} }
control: { socket: control.sock }
log: { level: ${options.logLevel ?? 'warn'} }
${options.brokerUrl === undefined ? '' : `mqtt: { url: "${options.brokerUrl}", reconnectMs: 200 }\n`}cloud:
  publicKeys:
    - id: ${key.id}
      key: |
${pem}
${options.cloud ?? ''}${options.hardware ?? simDoor}`,
  );
  return path;
}

/** The demo data set (people m-1001 ... v-2001), at a chosen version. */
export function demoDataset(version: number): Dataset {
  const base = datasetSchema.parse(JSON.parse(readFileSync(DEMO_DATASET, 'utf8')));
  return { ...base, version };
}

export function dataset(input: Omit<DatasetInput, 'schema'>): Dataset {
  return datasetSchema.parse({ schema: 'gatehouse.dataset/1', ...input });
}

const CACHE_TABLES = ['cache_people', 'cache_credentials', 'cache_entitlements', 'cache_settings', 'cache_doors', 'cache_schedules', 'sync_state'];

/**
 * The store at `dbPath` opened as the daemon sees it, the generation file in
 * force attached as `cache`: read-only unless `readonly` is false (a check
 * after a crash, which may have to recover the WAL).
 */
export function openStoreReadonly(dbPath: string, readonly = true): Database.Database {
  const db = new Database(dbPath, { readonly, fileMustExist: true });
  const gen = pointedGeneration(db);
  if (gen !== null) db.prepare('ATTACH DATABASE ? AS cache').run(generationPath(dbPath, gen));
  return db;
}

const rowsOf = (db: Database.Database, table: string): string => {
  const rows = db.prepare(`SELECT rowid AS _rowid, * FROM ${table} ORDER BY rowid`).all() as Record<string, unknown>[];
  return `${table}\n${rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).join('\n')}`;
};

/**
 * Every row of every cache table of the file in force (all generations in
 * it), sync_state and meta, in rowid order, blobs in hex, and the
 * generation files on disk: equal dumps mean byte-for-byte equal cache
 * contents and no file left behind.
 */
export function cacheDump(dbPath: string): string {
  const db = openStoreReadonly(dbPath);
  try {
    return [...CACHE_TABLES.map((table) => rowsOf(db, table)), rowsOf(db, 'main.meta'), `files ${generationsOnDisk(dbPath).join(',')}`].join('\n');
  } finally {
    db.close();
  }
}

export const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * What is left of cache generations other than the one in force: their
 * rows inside the file in force, plus one for every other generation file
 * on disk (staged, abandoned, or not yet collected).
 */
export function strayRows(dbPath: string): number {
  const db = openStoreReadonly(dbPath);
  try {
    const inForce = pointedGeneration(db);
    const gen = (db.prepare('SELECT gen FROM sync_state').get() as { gen: number }).gen;
    const rows = CACHE_TABLES.slice(0, 6).reduce((n, t) => n + (db.prepare(`SELECT count(*) AS n FROM ${t} WHERE gen != ?`).get(gen) as { n: number }).n, 0);
    return rows + generationsOnDisk(dbPath).filter((g) => g !== inForce).length;
  } finally {
    db.close();
  }
}

/** The data in force (the views over the active generation), sync_state and meta, through an open connection. */
export function activeDump(db: Database.Database): string {
  return ['people', 'credentials', 'entitlements', 'site_settings', 'synced_doors', 'synced_schedules', 'sync_state', 'main.meta']
    .map((view) => {
      const rows = db.prepare(`SELECT * FROM ${view} ORDER BY 1`).all() as Record<string, unknown>[];
      return `${view}\n${rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).join('\n')}`;
    })
    .join('\n');
}
