/**
 * Doors and readers as configured, mirrored into the store at boot so that
 * synced data and persisted door modes (lockdown survives a restart) can refer
 * to them. The YAML stays the source of truth for hardware.
 */
import type { Db } from './database.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { DoorMode } from '../engine/types.js';

export function mirrorLayout(db: Db, config: GatehouseConfig, at: number): void {
  const upsertDoor = db.prepare(
    `INSERT INTO doors (id, name, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at`,
  );
  const upsertReader = db.prepare(
    `INSERT INTO readers (id, door_id, mode, driver) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET door_id = excluded.door_id, mode = excluded.mode, driver = excluded.driver`,
  );
  db.transaction(() => {
    for (const door of config.doors) upsertDoor.run(door.id, door.name ?? door.id, at);
    for (const reader of config.readers) upsertReader.run(reader.id, reader.door ?? null, reader.mode, reader.driver);
    const doorIds = config.doors.map((d) => d.id);
    const readerIds = config.readers.map((r) => r.id);
    db.prepare(`DELETE FROM readers WHERE id NOT IN (SELECT value FROM json_each(?))`).run(JSON.stringify(readerIds));
    db.prepare(`DELETE FROM doors WHERE id NOT IN (SELECT value FROM json_each(?))`).run(JSON.stringify(doorIds));
  })();
}

export function doorModes(db: Db): Map<string, DoorMode> {
  const rows = db.prepare<[], { id: string; mode: DoorMode }>(`SELECT id, mode FROM doors`).all();
  return new Map(rows.map((r) => [r.id, r.mode]));
}

/** Persist a door's mode (remote lockdown and release), so it survives a restart. Returns false for an unknown door. */
export function setDoorMode(db: Db, doorId: string, mode: DoorMode, at: number): boolean {
  return db.prepare(`UPDATE doors SET mode = ?, updated_at = ? WHERE id = ?`).run(mode, at, doorId).changes === 1;
}
