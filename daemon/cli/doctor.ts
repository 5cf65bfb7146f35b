/**
 * `gatehouse doctor`: what a technician checks first on a site, in one run.
 * Each check is independent and says ok, warn or fail with a reason and,
 * where there is one, the command that fixes it. Works with or without a
 * running daemon; touches no device beyond opening (and closing) its path.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readdirSync, readlinkSync, statSync, statfsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { ConfigError, loadConfig, type LoadedConfig } from '../config/load.js';
import { sendControlRequest } from '../control/control-server.js';
import type { GatewayStatusReport } from '../runtime/gateway.js';
import { generationPath, generationsOnDisk } from '../store/cache-files.js';
import { EXIT } from './exit-codes.js';
import type { CliOptions } from './main.js';

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly check: string;
  readonly level: CheckLevel;
  readonly detail: string;
}

/** What a check gets: the config when it loaded, and the CLI options. */
export interface DoctorContext {
  readonly options: CliOptions;
  readonly loaded: LoadedConfig | null;
}

export type DoctorCheck = (context: DoctorContext) => Promise<CheckResult[]>;

/**
 * Extra checks registered by other parts (e.g. a USB HID device listing):
 * call registerDoctorCheck at module load and they run after the built-in ones.
 */
const extraChecks: DoctorCheck[] = [];
export function registerDoctorCheck(check: DoctorCheck): void {
  extraChecks.push(check);
}

const run = (file: string, args: string[]): Promise<{ ok: boolean; stdout: string; error: string }> =>
  new Promise((done) => {
    execFile(file, args, { timeout: 5_000 }, (error, stdout) => done({ ok: error === null, stdout, error: error?.message ?? '' }));
  });

async function configCheck({ options }: DoctorContext): Promise<CheckResult[]> {
  try {
    const loaded = loadConfig(options.config);
    return [
      { check: 'config', level: 'ok', detail: `${loaded.path} is valid (${loaded.config.doors.length} door(s), ${loaded.config.readers.length} reader(s))` },
      ...loaded.warnings.map((w): CheckResult => ({ check: 'config', level: 'warn', detail: w })),
    ];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [{ check: 'config', level: 'fail', detail: `${error.problems.length} problem(s):\n${error.message}` }];
  }
}

async function secretFilesCheck({ loaded }: DoctorContext): Promise<CheckResult[]> {
  if (loaded === null) return [];
  const files = [loaded.config.secretsFile, loaded.config.mqtt?.tls?.keyFile].filter((f): f is string => f !== undefined);
  return files.map((file) => {
    const mode = statSync(file).mode & 0o777;
    return (mode & 0o077) === 0
      ? { check: 'secrets', level: 'ok', detail: `${file} mode ${mode.toString(8)}` }
      : { check: 'secrets', level: 'fail', detail: `${file} mode ${mode.toString(8)} is readable by group or others; run: chmod 600 ${file}` };
  });
}

function configuredDevicePaths(loaded: LoadedConfig): { owner: string; path: string }[] {
  const paths: { owner: string; path: string }[] = [];
  for (const door of loaded.config.doors) if ('path' in door.relay) paths.push({ owner: `door ${door.id}`, path: door.relay.path });
  for (const reader of loaded.config.readers) {
    // A HID reader's path is optional (it is found by usbId); serial readers always have one.
    if ('path' in reader && reader.path !== undefined) paths.push({ owner: `reader ${reader.id}`, path: reader.path });
  }
  return paths;
}

/**
 * A config example for a USB serial adapter the config does not use, from
 * the chip in its by-id name. The chip does not say what is behind it, so
 * the example names the usual devices for that chip.
 */
export function serialSnippet(name: string, path: string): string {
  if (/1a86|CH34/i.test(name)) return `a CH340: an LCUS relay board is  relay: { driver: lcus, path: ${path}, channel: 1 }  (an RDM6300 reader: driver: rdm6300)`;
  if (/CP210|Silicon_Labs/i.test(name)) return `a CP210x: a PN532 module is  { id: nfc, driver: pn532, path: ${path}, mode: entry }`;
  if (/FTDI|FT232|RS485|RS-485/i.test(name)) return `an RS-485 adapter: Modbus relays are  relay: { driver: modbus-rtu, path: ${path}, coil: 0 }, OSDP readers  osdp: { buses: { bus1: { path: ${path} } } }`;
  return `a serial line reader is  { id: scanner, driver: serial-line, path: ${path}, mode: entry }`;
}

async function serialDevicesCheck({ loaded }: DoctorContext, daemonRunning: boolean): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const byId = '/dev/serial/by-id';
  const present = existsSync(byId) ? readdirSync(byId) : [];
  results.push({
    check: 'serial',
    level: 'ok',
    detail: present.length === 0 ? `no USB serial adapters under ${byId}` : `${byId}: ${present.map((name) => `${name} -> ${resolve(byId, readlinkSync(`${byId}/${name}`))}`).join(', ')}`,
  });
  if (loaded === null) return results;
  // Several doors may share one board's port: check each path once.
  const seen = new Map<string, string[]>();
  for (const { owner, path } of configuredDevicePaths(loaded)) seen.set(path, [...(seen.get(path) ?? []), owner]);
  const configured = new Set([...seen.keys()].map((p) => (existsSync(p) ? resolve(p) : p)));
  for (const name of present) {
    const path = `${byId}/${name}`;
    if (seen.has(path) || configured.has(resolve(byId, readlinkSync(path)))) continue;
    results.push({ check: 'serial', level: 'ok', detail: `${path} is not in the config; ${serialSnippet(name, path)}` });
  }
  for (const [path, owners] of seen) {
    const who = owners.join(', ');
    try {
      closeSync(openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK));
      results.push({ check: 'serial', level: 'ok', detail: `${path} (${who}) opens` });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      const hint =
        code === 'ENOENT'
          ? 'not present: check the cable, dmesg, and the udev symlink (systemd/60-gatehouse.rules)'
          : code === 'EACCES'
            ? 'permission denied: the service user needs the dialout group'
            : code === 'EBUSY'
              ? daemonRunning
                ? 'in use (held by the running daemon)'
                : 'in use by another program (ModemManager? brltty?)'
              : code;
      results.push({ check: 'serial', level: code === 'EBUSY' && daemonRunning ? 'ok' : 'fail', detail: `${path} (${who}): ${hint}` });
    }
  }
  return results;
}

function brokerAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const secure = /^(mqtts|ssl|wss):$/.test(parsed.protocol);
  const fallback = parsed.protocol.startsWith('ws') ? (secure ? 443 : 80) : secure ? 8883 : 1883;
  return { host: parsed.hostname, port: parsed.port === '' ? fallback : Number(parsed.port) };
}

async function brokerCheck({ loaded }: DoctorContext): Promise<CheckResult[]> {
  const url = loaded?.config.mqtt?.url;
  if (url === undefined) return [{ check: 'broker', level: loaded === null ? 'warn' : 'ok', detail: 'no mqtt section: events stay queued locally' }];
  const { host, port } = brokerAddress(url);
  const reached = await new Promise<string | null>((done) => {
    const socket = connect({ host, port });
    socket.setTimeout(3_000, () => {
      socket.destroy();
      done('no answer within 3 s');
    });
    socket.once('connect', () => {
      socket.destroy();
      done(null);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
  // Doors keep working without the broker: a warning, not a failure.
  return [reached === null ? { check: 'broker', level: 'ok', detail: `${host}:${port} accepts connections` } : { check: 'broker', level: 'warn', detail: `${host}:${port}: ${reached}; decisions continue, events queue` }];
}

async function clockCheck(): Promise<CheckResult[]> {
  const now = new Date();
  const results: CheckResult[] = [];
  // A gateway booting without an RTC may start in 1970: schedules and validity would be wrong.
  results.push(
    now.getUTCFullYear() < 2024
      ? { check: 'clock', level: 'fail', detail: `system clock says ${now.toISOString()}: not set (no RTC and no NTP?)` }
      : { check: 'clock', level: 'ok', detail: `${now.toISOString()} (${Intl.DateTimeFormat().resolvedOptions().timeZone})` },
  );
  const timedatectl = await run('timedatectl', ['show', '--property=NTPSynchronized', '--value']);
  if (timedatectl.ok) {
    const synced = timedatectl.stdout.trim() === 'yes';
    results.push({ check: 'ntp', level: synced ? 'ok' : 'warn', detail: synced ? 'NTP synchronised (timedatectl)' : 'NTP not synchronised: check timedatectl timesync-status and the network' });
  } else if (existsSync('/run/systemd/timesync/synchronized')) {
    results.push({ check: 'ntp', level: 'ok', detail: 'NTP synchronised (systemd-timesyncd)' });
  } else {
    results.push({ check: 'ntp', level: 'warn', detail: 'cannot tell whether the clock is synchronised (no timedatectl answer)' });
  }
  return results;
}

const MB = 1024 * 1024;

/**
 * Free space against what the store needs: a margin for the journal, and
 * room for the next snapshot, which is built as a file of its own beside
 * the cache in force (about as large) before the old one is deleted.
 */
export function diskLevel(freeBytes: number, cacheBytes: number): CheckLevel {
  if (freeBytes < 50 * MB + cacheBytes) return 'fail';
  if (freeBytes < 500 * MB + 2 * cacheBytes) return 'warn';
  return 'ok';
}

async function diskCheck({ loaded }: DoctorContext): Promise<CheckResult[]> {
  if (loaded === null || loaded.config.store.path === ':memory:') return [];
  const db = loaded.config.store.path;
  const dir = dirname(db);
  if (!existsSync(dir)) return [{ check: 'disk', level: 'fail', detail: `${dir} (store directory) does not exist` }];
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const size = existsSync(db) ? statSync(db).size : 0;
  // The largest generation file is the one in force (others are a build in progress or leftovers).
  const cache = Math.max(0, ...generationsOnDisk(db).map((gen) => statSync(generationPath(db, gen), { throwIfNoEntry: false })?.size ?? 0));
  const level = diskLevel(free, cache);
  const detail = `${(free / MB).toFixed(0)} MB free on the store's file system; database ${(size / MB).toFixed(1)} MB, cache ${(cache / MB).toFixed(1)} MB${
    level === 'ok' ? '' : ` (the next snapshot is built beside the cache in force: keep at least ${((500 * MB + 2 * cache) / MB).toFixed(0)} MB free)`
  }`;
  return [{ check: 'disk', level, detail }];
}

async function daemonCheck({ loaded }: DoctorContext): Promise<{ results: CheckResult[]; running: boolean }> {
  if (loaded === null) return { results: [], running: false };
  try {
    const response = await sendControlRequest(loaded.config.control.socket, { op: 'status' }, 5_000);
    if (!response.ok) return { results: [{ check: 'daemon', level: 'fail', detail: response.error }], running: true };
    const s = response.data as GatewayStatusReport;
    const offline = [...s.readers.filter((r) => r.device.state !== 'online').map((r) => `reader ${r.id}`), ...s.doors.filter((d) => d.relay.state !== 'online').map((d) => `relay of ${d.id}`)];
    return {
      running: true,
      results: [
        { check: 'daemon', level: 'ok', detail: `running since ${s.gateway.startedAt}, cache version ${s.cache.version}${s.cache.stale ? ' (STALE)' : ''}, ${s.journal.pending} event(s) queued` },
        ...(offline.length === 0 ? [] : [{ check: 'devices', level: 'warn' as const, detail: `offline: ${offline.join(', ')}` }]),
      ],
    };
  } catch (error) {
    return { running: false, results: [{ check: 'daemon', level: 'warn', detail: error instanceof Error ? error.message : String(error) }] };
  }
}

export async function doctorChecks(options: CliOptions): Promise<CheckResult[]> {
  const config = await configCheck({ options, loaded: null });
  let loaded: LoadedConfig | null = null;
  try {
    loaded = loadConfig(options.config);
  } catch {
    loaded = null;
  }
  const context: DoctorContext = { options, loaded };
  const daemon = await daemonCheck(context);
  const results = [
    ...config,
    ...(await secretFilesCheck(context)),
    ...daemon.results,
    ...(await serialDevicesCheck(context, daemon.running)),
    ...(await brokerCheck(context)),
    ...(await clockCheck()),
    ...(await diskCheck(context)),
  ];
  for (const extra of extraChecks) {
    try {
      results.push(...(await extra(context)));
    } catch (error) {
      results.push({ check: 'extra', level: 'fail', detail: `check failed: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  return results;
}

/** Exit 0 when all is well, 4 with warnings only, 1 with any failure. */
export async function doctorCommand(options: CliOptions): Promise<number> {
  const results = await doctorChecks(options);
  if (options.json) console.log(JSON.stringify(results, null, 2));
  else {
    const mark = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
    for (const r of results) console.log(`${mark[r.level]}  ${r.check.padEnd(8)} ${r.detail.replace(/\n/g, '\n                ')}`);
  }
  if (results.some((r) => r.level === 'fail')) return EXIT.failure;
  return results.some((r) => r.level === 'warn') ? EXIT.warnings : EXIT.ok;
}
