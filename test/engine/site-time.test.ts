/**
 * Site-local day and month bounds, and localInstant, where clocks change at
 * or across local midnight, checked against an oracle that shares nothing
 * with site-time.ts: it asks Intl for the wall clock of instants, minute by
 * minute around each clock change it finds, and takes the first instant that
 * reads a date (or a date and time) or later.
 *
 * The rule under test (site-time.ts): localInstant is the first instant at
 * which the wall clock reads the given local time or later. A wall time
 * that occurs twice resolves to its first occurrence; one skipped by a
 * change resolves to the end of the gap. So a day starts at the first
 * instant of its date: at 01:00 where midnight is skipped (Santiago,
 * 6 Sep 2026), at the first of two midnights where midnight repeats
 * (Havana, 1 Nov 2026); and it ends where the next one starts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseCoverage } from '../../daemon/engine/entitlements.js';
import { localInstant, siteLocalTime } from '../../daemon/engine/site-time.js';
import { entitlement } from '../support/engine-facts.js';
import { fcOptions } from '../support/fast-check.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// ---- The oracle: Intl only.

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock at an instant, 'YYYY-MM-DDTHH:MM:SS': strings of this form sort as the times they name. */
function wallOf(at: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

const dateOf = (at: number, timeZone: string): string => wallOf(at, timeZone).slice(0, 10);

/** Local minus UTC, in ms (instants here are after 1970, so truncating to the second is flooring). */
const offsetOf = (at: number, timeZone: string): number => Date.parse(`${wallOf(at, timeZone)}Z`) - (at - (at % 1000));

/** A wall time given as a Date.UTC value, in the form wallOf uses. */
const wallText = (wallAsUtc: number): string => new Date(wallAsUtc).toISOString().slice(0, 19);

interface Change {
  readonly timeZone: string;
  /** The first instant of the new offset. */
  readonly at: number;
  /** The wall clock the old offset would show at `at`, and the one the new offset shows. */
  readonly wallBefore: string;
  readonly wallAfter: string;
}

/** Every change of UTC offset in [from, to): a day-by-day scan, then minute by minute inside the day it happened. */
function changesOf(timeZone: string, from: number, to: number): Change[] {
  const found: Change[] = [];
  let previous = offsetOf(from, timeZone);
  for (let day = from + DAY; day <= to; day += DAY) {
    const offset = offsetOf(day, timeZone);
    if (offset === previous) continue;
    let t = day - DAY;
    while (offsetOf(t + MINUTE, timeZone) === previous) t += MINUTE;
    const at = t + MINUTE;
    // The scan assumes changes fall on whole minutes: the millisecond before must still have the old offset.
    if (offsetOf(at - 1, timeZone) !== previous) throw new Error(`${timeZone}: the change near ${new Date(at).toISOString()} is not on a whole minute`);
    found.push({ timeZone, at, wallBefore: wallText(at + previous), wallAfter: wallOf(at, timeZone) });
    previous = offset;
  }
  return found;
}

/** Does the change skip or repeat a local midnight, or move the clock across one? */
const touchesMidnight = (c: Change): boolean =>
  c.wallBefore.slice(0, 10) !== c.wallAfter.slice(0, 10) || c.wallBefore.endsWith('T00:00:00') || c.wallAfter.endsWith('T00:00:00');

/** The wall clock of every minute from some hours before a change to as many after it. */
interface Around {
  readonly first: number;
  readonly walls: readonly string[];
}

const aroundCache = new Map<string, Around>();

function around(c: Change, hours: number): Around {
  const key = `${c.timeZone} ${c.at} ${hours}`;
  let a = aroundCache.get(key);
  if (a === undefined) {
    const first = c.at - hours * HOUR;
    a = { first, walls: Array.from({ length: 2 * hours * 60 }, (_, i) => wallOf(first + i * MINUTE, c.timeZone)) };
    aroundCache.set(key, a);
  }
  return a;
}

/** The first instant (of the scanned minutes) whose wall clock reads `wall` or later; checked to the millisecond. */
function firstAtOrAfter(a: Around, wall: string, timeZone: string): number {
  const i = a.walls.findIndex((w) => w >= wall);
  expect(i, `${wall} is inside the scanned window`).toBeGreaterThan(0);
  const at = a.first + i * MINUTE;
  expect(wallOf(at - 1, timeZone) < wall, `${timeZone}: nothing between the scanned minutes reads ${wall} or later`).toBe(true);
  return at;
}

const monthStarts = new Map<string, number>();

/** The first instant of the local month a date is in: a minute-by-minute scan over the hours UTC offsets can span. */
function oracleMonthStart(date: string, timeZone: string): number {
  const month = date.slice(0, 7);
  const key = `${timeZone} ${month}`;
  let at = monthStarts.get(key);
  if (at === undefined) {
    const firstDay = `${month}-01`;
    at = Date.parse(`${firstDay}T00:00:00Z`) - 15 * HOUR;
    while (dateOf(at, timeZone) < firstDay) at += MINUTE;
    expect(dateOf(at - 1, timeZone) < firstDay).toBe(true);
    monthStarts.set(key, at);
  }
  return at;
}

interface Bounds {
  readonly date: string;
  readonly dayStart: number;
  readonly dayEnd: number;
  readonly monthStart: number;
}

/** Each local date from 26 h before a change to 26 h after it, with its bounds (a day lasts at most 25 h). */
function oracleDays(c: Change): Map<string, Bounds> {
  const a = around(c, 54);
  const days = new Map<string, Bounds>();
  for (const wall of a.walls.slice(28 * 60, 80 * 60)) {
    const date = wall.slice(0, 10);
    if (days.has(date)) continue;
    const next = wallText(Date.parse(`${date}T00:00:00Z`) + DAY).slice(0, 10);
    days.set(date, {
      date,
      dayStart: firstAtOrAfter(a, `${date}T00:00:00`, c.timeZone),
      dayEnd: firstAtOrAfter(a, `${next}T00:00:00`, c.timeZone),
      monthStart: oracleMonthStart(date, c.timeZone),
    });
  }
  return days;
}

// ---- The zones.

const Y2026 = Date.UTC(2026, 0, 1);
const Y2028 = Date.UTC(2028, 0, 1);

/**
 * Zones whose clocks change at (or across) local midnight. West of Greenwich
 * (Santiago, Havana, the Azores) and east of it (Beirut, Cairo) are both
 * here: the old two-step offset guess failed only west of it. Paraguay has
 * kept -03 all year since October 2024, so Asuncion is scanned from 2024
 * (its last changes, both at midnight); its 2026-2027 days are still read.
 */
const midnightZones: ReadonlyArray<readonly [timeZone: string, from: number]> = [
  ['America/Santiago', Y2026],
  ['America/Asuncion', Date.UTC(2024, 0, 1)],
  ['America/Havana', Y2026],
  ['Asia/Beirut', Y2026],
  ['Atlantic/Azores', Y2026],
  ['Africa/Cairo', Y2026],
  ['America/Nuuk', Y2026],
  ['America/Scoresbysund', Y2026],
];

/** Elsewhere: changes at 01:00 UTC and at 02:00 local, of 30 minutes (Lord Howe), at +12:45 (Chatham), at 22:00 (Easter Island), and none (Kolkata, Tokyo). */
const otherZones = ['Europe/London', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Easter', 'Asia/Kolkata', 'Asia/Tokyo'];

const midnightChanges = midnightZones.flatMap(([timeZone, from]) => changesOf(timeZone, from, Y2028).filter(touchesMidnight));
const allChanges = [...midnightChanges, ...otherZones.flatMap((timeZone) => changesOf(timeZone, Y2026, Y2028))];

const iso = (at: number): string => new Date(at).toISOString();

describe('site-local days where clocks change at midnight', () => {
  it('finds every kind of midnight change to check', () => {
    // Midnight skipped west and east of Greenwich, midnight repeated, and 00:00 falling back to 23:00.
    const kinds = new Set(
      midnightChanges.map((c) => {
        if (c.wallBefore.endsWith('T00:00:00') && c.wallAfter > c.wallBefore) return Date.parse(`${c.wallAfter}Z`) > c.at ? 'skipped, east' : 'skipped, west';
        if (c.wallAfter.endsWith('T00:00:00') && c.wallAfter < c.wallBefore) return 'repeated';
        return c.wallAfter < c.wallBefore ? 'back across midnight' : 'forward across midnight';
      }),
    );
    expect([...kinds].sort()).toEqual(['back across midnight', 'forward across midnight', 'repeated', 'skipped, east', 'skipped, west']);
    expect(midnightChanges.length).toBeGreaterThanOrEqual(28);
  });

  it('starts a day where midnight is skipped at the end of the gap, where it repeats at the first midnight', () => {
    const at = (text: string, timeZone: string) => siteLocalTime(Date.parse(text), timeZone);
    // Santiago, 6 Sep 2026: 00:00 -04 becomes 01:00 -03. The 5th has its full 24 hours, the 6th 23.
    expect(at('2026-09-06T03:30:00Z', 'America/Santiago')).toMatchObject({
      date: '2026-09-05', minuteOfDay: 23 * 60 + 30, dayStart: Date.parse('2026-09-05T04:00:00Z'), dayEnd: Date.parse('2026-09-06T04:00:00Z'),
    });
    expect(at('2026-09-06T04:00:00Z', 'America/Santiago')).toMatchObject({
      date: '2026-09-06', minuteOfDay: 60, dayStart: Date.parse('2026-09-06T04:00:00Z'), dayEnd: Date.parse('2026-09-07T03:00:00Z'),
    });
    // Santiago, 5 Apr 2026: 00:00 -03 becomes 23:00 -04 of the 4th, which has 25 hours.
    expect(at('2026-04-05T03:30:00Z', 'America/Santiago')).toMatchObject({
      date: '2026-04-04', minuteOfDay: 23 * 60 + 30, dayStart: Date.parse('2026-04-04T03:00:00Z'), dayEnd: Date.parse('2026-04-05T04:00:00Z'),
    });
    // Havana, 1 Nov 2026: 01:00 -04 becomes 00:00 -05; the day starts at the first midnight and has 25 hours.
    expect(at('2026-11-01T05:30:00Z', 'America/Havana')).toMatchObject({
      date: '2026-11-01', minuteOfDay: 30, dayStart: Date.parse('2026-11-01T04:00:00Z'), dayEnd: Date.parse('2026-11-02T05:00:00Z'),
      monthStart: Date.parse('2026-11-01T04:00:00Z'),
    });
    // Azores, 29 Mar 2026: 00:00 -01 becomes 01:00 +00.
    expect(at('2026-03-28T12:00:00Z', 'Atlantic/Azores')).toMatchObject({ dayEnd: Date.parse('2026-03-29T01:00:00Z') });
    // Beirut, 29 Mar 2026: 00:00 +02 becomes 01:00 +03 (east of Greenwich; this one was right before).
    expect(at('2026-03-29T12:00:00Z', 'Asia/Beirut')).toMatchObject({ dayStart: Date.parse('2026-03-28T22:00:00Z') });
  });

  it('gives each day the bounds of the oracle, read minute by minute across every change', () => {
    const shown = (b: Bounds | undefined): string => (b === undefined ? 'no day' : `${b.date} [${iso(b.dayStart)}, ${iso(b.dayEnd)}) month ${iso(b.monthStart)}`);
    let reads = 0;
    for (const c of midnightChanges) {
      const days = oracleDays(c);
      const a = around(c, 54);
      const wrong: string[] = [];
      // In order, as a gateway reads: the cached day and its offset change are exercised, and so is every day boundary.
      for (let i = 28 * 60; i < 80 * 60; i++) {
        const expected = days.get(a.walls[i]!.slice(0, 10));
        // Changes fall on whole minutes, so a minute's last millisecond has the date of its first.
        for (const at of [a.first + i * MINUTE, a.first + i * MINUTE + 59_999]) {
          const local = siteLocalTime(at, c.timeZone);
          const same = expected !== undefined && local.date === expected.date && local.dayStart === expected.dayStart && local.dayEnd === expected.dayEnd && local.monthStart === expected.monthStart;
          if (!same) wrong.push(`${c.timeZone} at ${iso(at)}: ${shown(local)}, expected ${shown(expected)}`);
          reads++;
        }
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      // Asked cold, at each bound itself.
      for (const b of days.values()) {
        siteLocalTime(c.at - 40 * DAY, c.timeZone);
        expect(siteLocalTime(b.dayEnd - 1, c.timeZone)).toMatchObject({ date: b.date, dayStart: b.dayStart, dayEnd: b.dayEnd, monthStart: b.monthStart });
        siteLocalTime(c.at + 40 * DAY, c.timeZone);
        expect(siteLocalTime(b.dayStart, c.timeZone)).toMatchObject({ date: b.date, dayStart: b.dayStart, dayEnd: b.dayEnd, monthStart: b.monthStart });
      }
    }
    expect(reads).toBeGreaterThan(150_000);
  });

  it('a day pass first used late on the evening before midnight is skipped covers the rest of that evening', () => {
    // First used at 23:30 in Santiago on 5 Sep 2026, read again at 23:45; the day ends at 04:00Z (the clocks then read 01:00 on the 6th).
    const at = Date.parse('2026-09-06T03:45:00Z');
    const pass = entitlement({ id: 'd', kind: 'day_pass', startedAt: Date.parse('2026-09-06T03:30:00Z') });
    const person = { id: 'p', kind: 'member', status: 'active', alwaysAllowed: false, extendedUnlock: false, lockdownOverride: false, networkCheckin: true, expectedArrival: null } as const;
    const tokens = { minutes: 120, start: 'first-checkin' } as const;
    const cover = (t: number) => chooseCoverage([pass], person, t, siteLocalTime(t, 'America/Santiago'), tokens, null);
    expect(cover(at)).toMatchObject({ kind: 'covered', coverage: { validUntil: Date.parse('2026-09-06T04:00:00Z') } });
    expect(cover(Date.parse('2026-09-06T04:00:00Z')).kind).not.toBe('covered');
  });
});

describe('localInstant: the first instant whose wall clock reads the given time or later', () => {
  it('resolves a skipped time to the end of the gap and a repeated one to its first occurrence', () => {
    // Midnight skipped (Santiago): 00:00, 00:30 and 01:00 are all the instant the clocks jump.
    for (const minute of [0, 30, 59, 60]) expect(iso(localInstant(2026, 9, 6, minute, 'America/Santiago'))).toBe('2026-09-06T04:00:00.000Z');
    expect(iso(localInstant(2026, 9, 6, 61, 'America/Santiago'))).toBe('2026-09-06T04:01:00.000Z');
    // 02:30 in New York on 8 Mar 2026 does not exist: 03:00 EDT, not 01:30 EST (which the clock reads before 02:30).
    expect(iso(localInstant(2026, 3, 8, 150, 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z');
    // Repeated: the first occurrence, east and west of Greenwich.
    expect(iso(localInstant(2026, 11, 1, 30, 'America/Havana'))).toBe('2026-11-01T04:30:00.000Z');
    expect(iso(localInstant(2026, 10, 25, 150, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
    expect(iso(localInstant(2026, 10, 25, 30, 'Atlantic/Azores'))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('agrees with the oracle on every 5 minutes of wall time around every change', () => {
    let checked = 0;
    for (const c of allChanges) {
      // The wall times checked are within 3 h of the change's, so their instants within 5 h of it.
      const a = around(c, 8);
      const low = Math.min(Date.parse(`${c.wallBefore}Z`), Date.parse(`${c.wallAfter}Z`)) - 3 * HOUR;
      const high = Math.max(Date.parse(`${c.wallBefore}Z`), Date.parse(`${c.wallAfter}Z`)) + 3 * HOUR;
      for (let wall = low; wall <= high; wall += 5 * MINUTE) {
        const d = new Date(wall);
        const got = localInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours() * 60 + d.getUTCMinutes(), c.timeZone);
        expect(iso(got), `${c.timeZone} ${wallText(wall)}`).toBe(iso(firstAtOrAfter(a, wallText(wall), c.timeZone)));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3000);
  });
});

describe('site-local days: property over random instants', () => {
  const zones = [...midnightZones.map(([timeZone]) => timeZone), ...otherZones];
  // Half the instants are drawn within two days of a clock change, where the bounds can go wrong.
  const instant = fc.oneof(
    fc.integer({ min: Y2026, max: Y2028 - 1 }),
    fc.tuple(fc.constantFrom(...allChanges.map((c) => c.at)), fc.integer({ min: -2 * DAY, max: 2 * DAY })).map(([at, d]) => at + d),
  );

  it('every instant lies in its day, and the day and month bounds are the first instants of their dates', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, fc.array(fc.integer({ min: -3 * HOUR, max: 3 * HOUR }), { maxLength: 4 }), (timeZone, t0, steps) => {
        // A few reads close together, so the cached day answers some of them.
        for (const t of [t0, ...steps.map((s) => t0 + s)]) {
          const local = siteLocalTime(t, timeZone);
          const date = dateOf(t, timeZone);
          const wall = wallOf(t, timeZone);
          expect(local.date).toBe(date);
          expect(local.minuteOfDay).toBe(Number(wall.slice(11, 13)) * 60 + Number(wall.slice(14, 16)));
          expect(local.dayStart <= t && t < local.dayEnd, `${timeZone} ${iso(t)}: [${iso(local.dayStart)}, ${iso(local.dayEnd)})`).toBe(true);
          expect(dateOf(local.dayStart, timeZone)).toBe(date);
          expect(dateOf(local.dayEnd - 1, timeZone)).toBe(date);
          expect(dateOf(local.dayStart - 1, timeZone) < date).toBe(true);
          expect(dateOf(local.dayEnd, timeZone) > date).toBe(true);
          expect(dateOf(local.monthStart, timeZone)).toBe(`${date.slice(0, 7)}-01`);
          expect(dateOf(local.monthStart - 1, timeZone) < `${date.slice(0, 7)}-01`).toBe(true);
        }
      }),
      fcOptions(400),
    );
  });
});
