/**
 * Wi-Fi device sessions (table wifi_devices): which MACs of whom are
 * connected through which controller, as RADIUS accounting reports them.
 * Open rows are what the device limit counts.
 */
import type { Db } from './database.js';

export interface WifiDevice {
  readonly id: string;
  readonly personId: string;
  readonly mac: string;
  readonly nas: string;
  readonly acctSessionId: string;
  readonly startedAt: number;
  readonly lastActivityAt: number;
}

interface DeviceRow {
  id: string;
  person_id: string;
  mac: string;
  nas: string;
  acct_session_id: string;
  started_at: number;
  last_activity_at: number;
}

const COLUMNS = 'id, person_id, mac, nas, acct_session_id, started_at, last_activity_at';

export class WifiDevices {
  readonly #stmts;

  constructor(db: Db) {
    this.#stmts = {
      insert: db.prepare(
        `INSERT INTO wifi_devices (id, person_id, mac, nas, acct_session_id, started_at, last_activity_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      find: db.prepare<[string, string], DeviceRow>(
        `SELECT ${COLUMNS} FROM wifi_devices WHERE nas = ? AND acct_session_id = ? AND stopped_at IS NULL`,
      ),
      touch: db.prepare(`UPDATE wifi_devices SET last_activity_at = max(last_activity_at, ?) WHERE id = ?`),
      stop: db.prepare(`UPDATE wifi_devices SET stopped_at = ?, stop_reason = ? WHERE id = ? AND stopped_at IS NULL`),
      stopAllOf: db.prepare(`UPDATE wifi_devices SET stopped_at = ?, stop_reason = ? WHERE person_id = ? AND stopped_at IS NULL`),
      stopAllAt: db.prepare(`UPDATE wifi_devices SET stopped_at = ?, stop_reason = ? WHERE nas = ? AND stopped_at IS NULL`),
      macsOf: db.prepare<[string], { mac: string }>(`SELECT DISTINCT mac FROM wifi_devices WHERE person_id = ? AND stopped_at IS NULL ORDER BY mac`),
      open: db.prepare<[], DeviceRow>(`SELECT ${COLUMNS} FROM wifi_devices WHERE stopped_at IS NULL ORDER BY started_at`),
      limitOf: db.prepare<[string], { device_limit: number | null }>(`SELECT device_limit FROM people WHERE id = ?`),
      prune: db.prepare(`DELETE FROM wifi_devices WHERE stopped_at IS NOT NULL AND stopped_at < ?`),
    };
  }

  /** Record a device session that started; an already open one (same controller and Acct-Session-Id) is returned as is. */
  start(device: WifiDevice): WifiDevice {
    const existing = this.find(device.nas, device.acctSessionId);
    if (existing !== null) return existing;
    this.#stmts.insert.run(device.id, device.personId, device.mac, device.nas, device.acctSessionId, device.startedAt, device.lastActivityAt);
    return device;
  }

  find(nas: string, acctSessionId: string): WifiDevice | null {
    const row = this.#stmts.find.get(nas, acctSessionId);
    return row === undefined ? null : toDevice(row);
  }

  touch(id: string, at: number): void {
    this.#stmts.touch.run(at, id);
  }

  stop(id: string, at: number, reason: string): boolean {
    return this.#stmts.stop.run(at, reason, id).changes === 1;
  }

  /** Close every open device of a person (checked out for inactivity). */
  stopAllOf(personId: string, at: number, reason: string): number {
    return this.#stmts.stopAllOf.run(at, reason, personId).changes;
  }

  /** Close every open device of a controller (Accounting-On/Off: it restarted). */
  stopAllAt(nas: string, at: number, reason: string): number {
    return this.#stmts.stopAllAt.run(at, reason, nas).changes;
  }

  /** Distinct MACs of the person's open device sessions. */
  openMacsOf(personId: string): string[] {
    return this.#stmts.macsOf.all(personId).map((r) => r.mac);
  }

  openDevices(): WifiDevice[] {
    return this.#stmts.open.all().map(toDevice);
  }

  /** The person's own device limit (synced override), or null to use the site default. */
  deviceLimitOf(personId: string): number | null {
    return this.#stmts.limitOf.get(personId)?.device_limit ?? null;
  }

  prune(before: number): number {
    return this.#stmts.prune.run(before).changes;
  }
}

const toDevice = (r: DeviceRow): WifiDevice => ({
  id: r.id,
  personId: r.person_id,
  mac: r.mac,
  nas: r.nas,
  acctSessionId: r.acct_session_id,
  startedAt: r.started_at,
  lastActivityAt: r.last_activity_at,
});
