/** The recorded RSSI sequences of test/fixtures/ble/presence-sequences.json as [t, rssi] samples. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Pattern = { everyMs: number; durationMs: number; rssi: number[] };
const raw = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/ble/presence-sequences.json'), 'utf8')) as Record<string, [number, number][] | Pattern | string>;

export function sequence(name: 'arrive' | 'linger' | 'leave' | 'flapping'): [number, number][] {
  const s = raw[name];
  if (s === undefined || typeof s === 'string') throw new Error(`no sequence ${name}`);
  if (Array.isArray(s)) return s;
  const out: [number, number][] = [];
  for (let t = 0, i = 0; t < s.durationMs; t += s.everyMs, i++) out.push([t, s.rssi[i % s.rssi.length] ?? -100]);
  return out;
}
