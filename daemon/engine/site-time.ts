/**
 * Converting an instant to the site's calendar: local weekday, minute of day,
 * date, and the instants at which the local day and month begin (day passes,
 * plan limits, the daily cut-off). Pure: Intl with an explicit time zone does
 * not depend on the host's TZ. Formatters and the current day's bounds (and
 * on a DST-change day, the instant the offset changes) are cached because
 * computing them costs far more than reusing them, and nearly every read
 * falls on the same local day as the one before.
 *
 * A local wall time names the first instant at which the site's clock reads
 * it or later (localInstant). So a local day starts at the first instant of
 * its date and ends where the next date starts, also where clocks change at
 * midnight: in Santiago on 6 Sep 2026 midnight is skipped (00:00 -04 becomes
 * 01:00 -03) and the day starts at 01:00; in Havana on 1 Nov 2026 midnight
 * comes twice (01:00 -04 becomes 00:00 -05) and the day starts at the first.
 */
import type { SiteLocalTime, Weekday } from './types.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const weekdays: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

interface LocalParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: Weekday;
}

function localParts(epochMs: number, timeZone: string): LocalParts {
  const p = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, weekday: 'mon' as Weekday };
  for (const part of formatter(timeZone).formatToParts(epochMs)) {
    switch (part.type) {
      case 'weekday':
        p.weekday = weekdays[part.value] ?? p.weekday;
        break;
      case 'year':
        p.year = Number(part.value);
        break;
      case 'month':
        p.month = Number(part.value);
        break;
      case 'day':
        p.day = Number(part.value);
        break;
      case 'hour':
        p.hour = Number(part.value);
        break;
      case 'minute':
        p.minute = Number(part.value);
        break;
      case 'second':
        p.second = Number(part.value);
        break;
      default:
        break; // literals and separators
    }
  }
  return p;
}

const DAY_MS = 86_400_000;

/** The site's UTC offset at an instant, in ms (local = utc + offset). */
function offsetAt(epochMs: number, timeZone: string): number {
  const p = localParts(epochMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * The first instant at which the site's wall clock reads the given local
 * date and time, or a later one:
 * - a wall time that occurs once: that instant;
 * - one that occurs twice (clocks go back over it): the first occurrence;
 * - one that never occurs (clocks jump over it): the end of the gap, the
 *   instant of the jump. 02:30 in New York on 8 Mar 2026 is 03:00 EDT.
 * This is what every caller means. A day, or a month, starts at the first
 * instant of its date (day passes, plan limits), so midnight skipped at
 * 00:00 -> 01:00 is 01:00. A daily cut-off happens once the clock has reached
 * it: a skipped 00:30 falls at the jump, a repeated one the first time.
 * (Temporal's 'compatible' agrees on repeated times, not on skipped ones: it
 * moves them forward by the gap, 00:30 to 01:30, so 00:59 would come after
 * 01:00.)
 *
 * The offsets a day either side of the wall time (read as UTC, it is within
 * 14 h of the instant) bound the offset at the instant; they differ only
 * near a change, assumed to be the only one within a day of it (zones change
 * their clocks months apart). Away from a change: 2 Intl calls, as before;
 * near one, up to 4; in a gap, a search for the jump (about 14 more).
 */
export function localInstant(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  const earlier = offsetAt(wall - DAY_MS, timeZone);
  const later = offsetAt(wall + DAY_MS, timeZone);
  if (earlier === later) return wall - earlier;
  // The wall time read with the earlier offset comes first when clocks go back; valid if that offset still holds there.
  const withEarlier = wall - earlier;
  if (offsetAt(withEarlier, timeZone) === earlier) return withEarlier;
  const withLater = wall - later;
  if (offsetAt(withLater, timeZone) === later) return withLater;
  // Neither: the clocks jump over the wall time, between withLater (still the earlier offset) and withEarlier.
  return offsetChange(withLater, withEarlier, timeZone).at;
}

/** The one change of UTC offset on a day that has one (DST): the first instant of the new offset, and the offsets either side. */
interface OffsetChange {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

interface DayBounds {
  readonly timeZone: string;
  readonly date: string;
  readonly dayStart: number;
  readonly dayEnd: number;
  readonly monthStart: number;
  readonly weekday: Weekday;
  /** Date.UTC of the local date: an instant's wall clock is instant + offset, its minute of day counts from here. */
  readonly wallMidnight: number;
  /** Null on a day of 24 hours. */
  readonly change: OffsetChange | null;
}

let lastDay: DayBounds | null = null;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * Where the offset changes between two instants: a binary search over whole
 * seconds (offsetAt is the same throughout a second, and offsets change on
 * one), about 19 Intl calls for a day, once per DST-change day. With the
 * same offset at both ends (a day that begins at the change) it is `from`.
 */
function offsetChange(from: number, to: number, timeZone: string): OffsetChange {
  const before = offsetAt(from, timeZone);
  const after = offsetAt(to, timeZone);
  if (before === after) return { at: from, before, after };
  let lo = Math.floor(from / 1000);
  let hi = Math.floor(to / 1000);
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetAt(mid * 1000, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return { at: hi * 1000, before, after };
}

function dayBounds(timeZone: string, p: LocalParts): DayBounds {
  const dayStart = localInstant(p.year, p.month, p.day, 0, timeZone);
  // Date.UTC rolls day 32 and month 13 over, so "the next day" needs no calendar here.
  const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  const dayEnd = localInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, timeZone);
  return {
    timeZone,
    date: `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`,
    dayStart,
    dayEnd,
    monthStart: localInstant(p.year, p.month, 1, 0, timeZone),
    weekday: p.weekday,
    wallMidnight: Date.UTC(p.year, p.month - 1, p.day),
    change: dayEnd - dayStart === DAY_MS ? null : offsetChange(dayStart, dayEnd - 1, timeZone),
  };
}

export function siteLocalTime(epochMs: number, timeZone: string): SiteLocalTime {
  let day = lastDay;
  if (day === null || day.timeZone !== timeZone || epochMs < day.dayStart || epochMs >= day.dayEnd) {
    day = dayBounds(timeZone, localParts(epochMs, timeZone));
    lastDay = day;
  }
  // Minutes since local midnight without Intl. On a day of 24 hours they
  // count from its start; on a DST-change day (23 or 25 hours) the wall
  // clock is the instant plus the offset in force at it, which changes
  // once, at a known instant: every read of that day stays as cheap as on
  // any other (it used to cost about 60 µs of Intl per call, all day long).
  const change = day.change;
  const minuteOfDay =
    change === null
      ? Math.floor((epochMs - day.dayStart) / 60_000)
      : Math.floor((epochMs + (epochMs < change.at ? change.before : change.after) - day.wallMidnight) / 60_000);
  return {
    weekday: day.weekday,
    minuteOfDay,
    date: day.date,
    dayStart: day.dayStart,
    dayEnd: day.dayEnd,
    monthStart: day.monthStart,
  };
}
