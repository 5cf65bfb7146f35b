/**
 * Converting an instant to the site's calendar: local weekday, minute of day,
 * date, and the instants at which the local day and month begin (day passes,
 * plan limits, the daily cut-off). Pure: Intl with an explicit time zone does
 * not depend on the host's TZ. Formatters and the current day's bounds (and
 * on a DST-change day, the instant the offset changes) are cached because
 * computing them costs far more than reusing them, and nearly every read
 * falls on the same local day as the one before.
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

/** The site's UTC offset at an instant, in ms (local = utc + offset). */
function offsetAt(epochMs: number, timeZone: string): number {
  const p = localParts(epochMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * The instant at which a local wall time occurs. Around a DST change the
 * offset differs before and after, so it is looked up again at the guess; a
 * local time that does not exist (spring forward) resolves to just after the gap.
 */
export function localInstant(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  let guess = wall - offsetAt(wall, timeZone);
  guess = wall - offsetAt(guess, timeZone);
  return guess;
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

const DAY_MS = 86_400_000;

/**
 * Where the offset changes between two instants with different offsets:
 * a binary search to the millisecond (offsetAt is the same throughout a
 * second, so it ends on the second the new offset starts). About 27 Intl
 * calls, once per DST-change day.
 */
function offsetChange(from: number, to: number, timeZone: string): OffsetChange {
  const before = offsetAt(from, timeZone);
  const after = offsetAt(to, timeZone);
  let lo = from;
  let hi = to;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return { at: hi, before, after };
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
