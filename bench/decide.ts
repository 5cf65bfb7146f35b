/**
 * The read-to-decision step at several cache sizes: keyed hash, cache lookup
 * (credential, person, open session, entitlements, and the sync state the
 * decision is stamped with: version and age for the event, staleness for
 * the decision), site-local time and the pure engine, as the access
 * pipeline runs them before commanding a door. Beside it, in the same run
 * and on the same file, the bare indexed better-sqlite3 lookup of one
 * credential: the floor any SQLite-backed decision stands on; and the
 * keyed hash alone, the part of a decision that is not SQLite.
 *
 * The store holds what a site that has run for a while holds: three past
 * check-ins per person over the last 60 days (each on the person's first
 * pass) and one person in ten checked in now, so the plan-limit and
 * time-pass sums have history to read.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decide } from '../daemon/engine/decide.js';
import { siteLocalTime } from '../daemon/engine/site-time.js';
import { CredentialCache } from '../daemon/store/cache.js';
import { CredentialHasher } from '../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../daemon/store/database.js';
import type { PersonRecord } from '../daemon/sync/dataset.js';
import { generateDataset } from '../scripts/lib/dataset-generator.js';
import { tempDir } from '../test/support/temp-dir.js';
import { putInForceBuilt } from './built-cache.js';
import { summarize } from './stats.js';

export interface DecideFigures {
  readonly people: number;
  readonly credentials: number;
  readonly decide: { p50: number; p99: number };
  readonly sqliteLookup: { p50: number; p99: number };
  /** The keyed hash of the presented value alone (HMAC-SHA-256): the part of decide that is not SQLite. */
  readonly hash: { p50: number; p99: number };
}

function addSessionHistory(db: Db, people: readonly PersonRecord[], now: number): void {
  const insert = db.prepare(
    `INSERT INTO checkin_sessions (id, person_id, opened_at, closed_at, source, open_event_id, entitlement_id) VALUES (?, ?, ?, ?, 'door', ?, ?)`,
  );
  const day = 86_400_000;
  db.transaction(() => {
    people.forEach((person, i) => {
      const pass = person.entitlements[0]?.id ?? null;
      for (let k = 0; k < 3; k++) {
        const opened = now - ((i * 7 + k * 19) % 60) * day - 9 * 3_600_000;
        insert.run(`h-${i}-${k}`, person.id, opened, opened + 4 * 3_600_000, `e-h-${i}-${k}`, pass);
      }
      if (i % 10 === 0) insert.run(`o-${i}`, person.id, now - 3_600_000, null, `e-o-${i}`, pass);
    });
  })();
}

/** Microseconds per call, one sample per call (hrtime resolution is ample at µs). */
function timeEach(n: number, fn: (i: number) => void): number[] {
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    samples[i] = (performance.now() - t0) * 1000;
  }
  return samples;
}

export function measureDecide(people: number, samples: number): DecideFigures {
  const dir = tempDir('gatehouse-bench-');
  try {
    const db = openDatabase(join(dir.path, 'bench.db'));
    const hasher = new CredentialHasher(Buffer.alloc(32, 7));
    const cache = new CredentialCache(db, hasher);
    const now = new Date('2026-11-23T10:00:00Z');
    const dataset = generateDataset({ people, seed: 7, now });
    const presented = dataset.people.flatMap((p) => p.credentials.map((c) => ({ kind: c.kind === 'card' ? ('card' as const) : ('keypad' as const), value: c.value })));
    putInForceBuilt(cache, hasher, dataset, now.getTime());
    const result = { credentials: cache.counts().credentials };
    addSessionHistory(db, dataset.people, now.getTime());
    db.pragma('optimize');

    // Presented in a shuffled order so the page cache is not walked sequentially.
    const order = Array.from({ length: samples }, (_, i) => presented[(i * 7919) % presented.length]!);
    const lookups = order.map((p) => hasher.lookupOf(p.kind, p.value));
    const bare = db.prepare<[Buffer], { person_id: string }>('SELECT person_id FROM credentials WHERE lookup = ?');

    const reader = { id: 'front-in', mode: 'entry' as const, channel: 'door' as const, area: null };
    const door = { id: 'front', pulseMs: 3000, extendedPulseMs: null, mode: 'normal' as const, schedule: null };
    const clock = { trusted: true, policy: 'trust' as const };
    const visitorTokens = { minutes: 120, start: 'first-checkin' as const };
    const cacheFacts = { stale: false, policy: 'keep-deciding' as const };
    const at = now.getTime();
    const decideOnce = (i: number): void => {
      const p = order[i]!;
      const lookup = hasher.lookupOf(p.kind, p.value);
      const local = siteLocalTime(at, 'Europe/London');
      // The sync state comes with the candidates; the pipeline reads it apart only when nothing matched.
      const read = cache.read(lookup, { at, monthStart: local.monthStart, area: null });
      if ((read.state ?? cache.state()).version < 0) throw new Error('unreachable');
      const d = decide({
        at,
        local,
        holiday: false,
        reader,
        door,
        candidates: read.candidates,
        cache: cacheFacts,
        clock,
        visitorTokens,
      });
      if (d.reason === undefined) throw new Error('unreachable');
    };

    // Warm both paths (JIT, statement cache, page cache), then alternate blocks so
    // both see the same machine state.
    timeEach(Math.min(samples, 2000), decideOnce);
    timeEach(Math.min(samples, 2000), (i) => bare.get(lookups[i]!));
    const hashOnce = (i: number): void => {
      const p = order[i]!;
      if (hasher.lookupOf(p.kind, p.value).length === 0) throw new Error('unreachable');
    };
    timeEach(Math.min(samples, 2000), hashOnce);
    const decideSamples: number[] = [];
    const lookupSamples: number[] = [];
    const hashSamples: number[] = [];
    const block = 1000;
    for (let start = 0; start < samples; start += block) {
      const n = Math.min(block, samples - start);
      lookupSamples.push(...timeEach(n, (i) => bare.get(lookups[start + i]!)));
      decideSamples.push(...timeEach(n, (i) => decideOnce(start + i)));
      hashSamples.push(...timeEach(n, (i) => hashOnce(start + i)));
    }
    db.close();
    const d = summarize(decideSamples);
    const l = summarize(lookupSamples);
    const h = summarize(hashSamples);
    return {
      people,
      credentials: result.credentials,
      decide: { p50: d.p50, p99: d.p99 },
      sqliteLookup: { p50: l.p50, p99: l.p99 },
      hash: { p50: h.p50, p99: h.p99 },
    };
  } finally {
    dir.remove();
  }
}
