import type { SiteLocalTime, WeeklySchedule } from './types.js';

const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether a weekly schedule is open at a site-local time. Windows are
 * [from, to). On a site holiday the schedule's "hol" windows replace the
 * weekday's (none by default: closed on holidays).
 */
export function isWithinSchedule(schedule: WeeklySchedule, local: Pick<SiteLocalTime, 'weekday' | 'minuteOfDay'>, holiday = false): boolean {
  for (const window of holiday ? schedule.hol : schedule[local.weekday]) {
    const from = toMinutes(window.slice(0, 5));
    const to = toMinutes(window.slice(6, 11));
    if (local.minuteOfDay >= from && local.minuteOfDay < to) return true;
  }
  return false;
}
