/**
 * Which of a person's passes covers a grant, and until when. Pure.
 *
 * Each kind has its own notion of "valid now" (docs/policy.md, "Passes"):
 *   plan           validFrom <= t < validTo
 *   time_pass      inside its window and minutes left after local consumption
 *   day_pass       inside its window; the first use fixes the site-local
 *                  calendar day it covers, and it covers only that day
 *   visitor_token  the site's duration, starting at the first check-in or at
 *                  the expected arrival (site setting); the cloud's window
 *                  bounds when the token may be started
 */
import type { EntitlementFacts, PersonFacts, SiteLocalTime, VisitorTokenPolicy } from './types.js';

export interface Coverage {
  readonly entitlement: EntitlementFacts;
  /** Epoch ms at which this pass stops covering; null = open-ended. */
  readonly validUntil: number | null;
  /** This grant is the first use: record it (token start, day-pass day). */
  readonly starts: boolean;
}

const within = (at: number, from: number | null, to: number | null): boolean =>
  (from === null || from <= at) && (to === null || at < to);

const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/** Whether and until when one pass covers the instant `at`. */
export function coverage(
  e: EntitlementFacts,
  person: PersonFacts,
  at: number,
  local: SiteLocalTime,
  tokens: VisitorTokenPolicy,
): Coverage | null {
  const durationMs = tokens.minutes * 60_000;
  switch (e.kind) {
    case 'plan':
      return within(at, e.validFrom, e.validTo) ? { entitlement: e, validUntil: e.validTo, starts: false } : null;
    case 'time_pass': {
      if (!within(at, e.validFrom, e.validTo)) return null;
      if (e.minutesLeft === null) return { entitlement: e, validUntil: e.validTo, starts: false };
      if (e.minutesLeft <= 0) return null;
      return { entitlement: e, validUntil: earliest(e.validTo, at + e.minutesLeft * 60_000), starts: false };
    }
    case 'day_pass': {
      if (!within(at, e.validFrom, e.validTo)) return null;
      if (e.startedAt !== null && (e.startedAt < local.dayStart || e.startedAt >= local.dayEnd)) return null;
      return { entitlement: e, validUntil: earliest(e.validTo, local.dayEnd), starts: e.startedAt === null };
    }
    case 'visitor_token': {
      if (tokens.start === 'expected-arrival') {
        const start = person.expectedArrival ?? e.validFrom;
        if (start === null) return within(at, e.validFrom, e.validTo) ? { entitlement: e, validUntil: e.validTo, starts: false } : null;
        // Late arrivals lose the difference: the token runs from the expected arrival.
        const end = start + durationMs;
        if (!(start <= at && at < end) || !within(at, e.validFrom, null)) return null;
        return { entitlement: e, validUntil: end, starts: false };
      }
      if (e.startedAt !== null) {
        // Once started the token runs its full duration, even past the end of
        // the visit window (an arrival at 23:00 keeps its two hours).
        const end = e.startedAt + durationMs;
        return at >= e.startedAt && at < end ? { entitlement: e, validUntil: end, starts: false } : null;
      }
      // Not started: the first check-in inside the visit window starts it.
      return within(at, e.validFrom, e.validTo) ? { entitlement: e, validUntil: at + durationMs, starts: true } : null;
    }
  }
}

/** Plans first, so a day pass is not used up on a day a plan covers anyway. */
const preference: Readonly<Record<EntitlementFacts['kind'], number>> = {
  plan: 0,
  visitor_token: 1,
  day_pass: 2,
  time_pass: 3,
};

const coversDoor = (e: EntitlementFacts, doorId: string | null): boolean => doorId === null || e.doors === null || e.doors.includes(doorId);

export type CoverageResult =
  | { readonly kind: 'covered'; readonly coverage: Coverage }
  /** Valid passes exist, but none opens this door. */
  | { readonly kind: 'not-this-door' }
  | { readonly kind: 'none' };

/** The pass a grant uses, among those valid now and covering the door. */
export function chooseCoverage(
  entitlements: readonly EntitlementFacts[],
  person: PersonFacts,
  at: number,
  local: SiteLocalTime,
  tokens: VisitorTokenPolicy,
  doorId: string | null,
): CoverageResult {
  let best: Coverage | null = null;
  let anyValid = false;
  for (const e of entitlements) {
    const c = coverage(e, person, at, local, tokens);
    if (c === null) continue;
    anyValid = true;
    if (!coversDoor(e, doorId)) continue;
    if (best === null) {
      best = c;
      continue;
    }
    const rank = preference[e.kind] - preference[best.entitlement.kind];
    // A started day pass before an unstarted one; otherwise the pass that lasts longer.
    if (rank < 0 || (rank === 0 && (Number(best.starts) - Number(c.starts) > 0 || (best.starts === c.starts && (c.validUntil ?? Infinity) > (best.validUntil ?? Infinity))))) {
      best = c;
    }
  }
  if (best !== null) return { kind: 'covered', coverage: best };
  return anyValid ? { kind: 'not-this-door' } : { kind: 'none' };
}

/**
 * Plan limits per calendar month. The platform does not let extra passes
 * breach a plan's limits, so any valid plan at its limit refuses the grant.
 */
export function planLimitReached(
  entitlements: readonly EntitlementFacts[],
  usage: { readonly checkins: number; readonly minutes: number },
  at: number,
  newCheckin: boolean,
): boolean {
  return entitlements.some(
    (e) =>
      e.kind === 'plan' &&
      within(at, e.validFrom, e.validTo) &&
      ((e.monthlyHours !== null && usage.minutes >= e.monthlyHours * 60) ||
        (newCheckin && e.monthlyCheckins !== null && usage.checkins >= e.monthlyCheckins)),
  );
}
