/**
 * What a SIGHUP reload may change while running, computed from the old and
 * the new (already validated) configuration. Pure: the gateway carries the
 * plan out. Anything that shapes identity, storage, hashing or the cloud link
 * (site, gateway id, store, control socket, secrets, mqtt, cloud, http,
 * Home Assistant discovery) is only
 * reported as needing a restart and left as it is.
 */
import { isDeepStrictEqual } from 'node:util';
import type { LoadedConfig } from '../config/load.js';
import type { DoorConfig, GatehouseConfig, ReaderConfig } from '../config/schema.js';

export interface ReloadPlan {
  /** Settings that differ but only take effect after `systemctl restart gatehouse`. */
  readonly restartRequired: string[];
  readonly logLevel: GatehouseConfig['log']['level'] | null;
  readonly doors: {
    readonly added: DoorConfig[];
    readonly removed: string[];
    /** The relay itself changed: the door's relay driver restarts. */
    readonly relayChanged: DoorConfig[];
    /** Name, pulse, lock type or schedule changed: applied to the running door. */
    readonly settingsChanged: DoorConfig[];
  };
  readonly readers: {
    readonly added: ReaderConfig[];
    readonly removed: string[];
    /** Any setting changed: only this reader's driver restarts. */
    readonly changed: ReaderConfig[];
  };
  /** Human-readable list of what the reload changes, for the log and the CLI. */
  readonly summary: string[];
}

const RESTART_SECTIONS = ['site', 'gateway', 'secretsFile', 'store', 'control', 'mqtt', 'cloud', 'http', 'homeAssistant'] as const;

/**
 * Door settings that the running door cannot take over: its devices (relay,
 * contact, REX) and what its state machine was built with. Such a door is
 * rebuilt (locked first); the rest is applied to the running door.
 */
const REBUILD_KEYS = ['relay', 'contact', 'rex', 'rexMode', 'heldOpenS', 'preAlarmS', 'unlockSchedule', 'firstPersonIn'] as const;
const rebuilt = (a: DoorConfig, b: DoorConfig): boolean => REBUILD_KEYS.some((key) => !isDeepStrictEqual(a[key], b[key]));

const byId = <T extends { id: string }>(items: readonly T[]): Map<string, T> => new Map(items.map((item) => [item.id, item]));

export function planReload(current: LoadedConfig, next: LoadedConfig): ReloadPlan {
  const a = current.config;
  const b = next.config;
  const restartRequired: string[] = RESTART_SECTIONS.filter((key) => !isDeepStrictEqual(a[key], b[key]));
  // Secrets are compared, never reported by value.
  if (!current.siteKey.equals(next.siteKey)) restartRequired.push('secrets.siteKey');
  if (current.secrets.mqttPassword !== next.secrets.mqttPassword) restartRequired.push('secrets.mqttPassword');
  if (current.secrets.httpToken !== next.secrets.httpToken) restartRequired.push('secrets.httpToken');

  const summary: string[] = [];
  const logLevel = a.log.level === b.log.level ? null : b.log.level;
  if (logLevel !== null) summary.push(`log level ${a.log.level} -> ${logLevel}`);

  const oldDoors = byId(a.doors);
  const newDoors = byId(b.doors);
  const schedulesChanged = (door: DoorConfig): boolean =>
    door.schedule !== undefined && !isDeepStrictEqual(a.schedules[door.schedule], b.schedules[door.schedule]);
  const doors = {
    added: b.doors.filter((d) => !oldDoors.has(d.id)),
    removed: a.doors.filter((d) => !newDoors.has(d.id)).map((d) => d.id),
    relayChanged: b.doors.filter((d) => {
      const old = oldDoors.get(d.id);
      return old !== undefined && rebuilt(old, d);
    }),
    settingsChanged: b.doors.filter((d) => {
      const old = oldDoors.get(d.id);
      if (old === undefined || rebuilt(old, d)) return false;
      return !isDeepStrictEqual({ ...old, relay: null }, { ...d, relay: null }) || schedulesChanged(d);
    }),
  };
  for (const d of doors.added) summary.push(`door ${d.id} added`);
  for (const id of doors.removed) summary.push(`door ${id} removed`);
  for (const d of doors.relayChanged) summary.push(`door ${d.id}: relay driver restarted`);
  for (const d of doors.settingsChanged) summary.push(`door ${d.id}: settings applied`);

  const oldReaders = byId(a.readers);
  const newReaders = byId(b.readers);
  const readers = {
    added: b.readers.filter((r) => !oldReaders.has(r.id)),
    removed: a.readers.filter((r) => !newReaders.has(r.id)).map((r) => r.id),
    changed: b.readers.filter((r) => {
      const old = oldReaders.get(r.id);
      return old !== undefined && !isDeepStrictEqual(old, r);
    }),
  };
  for (const r of readers.added) summary.push(`reader ${r.id} added`);
  for (const id of readers.removed) summary.push(`reader ${id} removed`);
  for (const r of readers.changed) summary.push(`reader ${r.id}: driver restarted`);

  return { restartRequired, logLevel, doors, readers, summary };
}
