/**
 * The pure part of Wi-Fi check-in: device addresses, the device limit, what
 * an Access-Accept grants and what an Access-Reject says. No I/O, no clock.
 */
import type { Decision, DecisionReason } from '../engine/types.js';
import { lastCutoff } from '../access/auto-checkout.js';

/**
 * A Calling-Station-Id as one canonical MAC ("aa:bb:cc:dd:ee:ff"). Controllers
 * send AA-BB-CC-DD-EE-FF (RFC 3580), aa:bb:..., aabb.ccdd.eeff or bare hex;
 * anything else is null.
 */
export function normalizeMac(value: string | undefined): string | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (!/^([0-9a-fA-F]{2}[-:]){5}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$|^[0-9a-fA-F]{12}$/.test(trimmed)) return null;
  const hex = trimmed.replace(/[-:.]/g, '').toLowerCase();
  return hex.match(/../g)?.join(':') ?? null;
}

export interface DeviceLimitFacts {
  /** The device signing in. */
  readonly mac: string;
  /** Null: no limit. */
  readonly limit: number | null;
  /** Distinct MACs of the person already connected (or just accepted). */
  readonly connectedMacs: readonly string[];
}

/**
 * A granted sign-in is refused when the device would be one more than the
 * person may connect. A device already connected (reconnecting, roaming)
 * never counts twice. The refusal keeps the person: it is journaled as
 * theirs, a failed check-in when it would have checked them in.
 */
export function applyDeviceLimit(decision: Decision, facts: DeviceLimitFacts): Decision {
  if (decision.outcome !== 'granted' || facts.limit === null) return decision;
  const others = facts.connectedMacs.filter((m) => m !== facts.mac);
  if (others.length === facts.connectedMacs.length && others.length >= facts.limit) {
    return {
      outcome: 'denied',
      reason: 'device_limit_reached',
      person: decision.person,
      checkin: decision.checkin === 'checked_in' ? 'failed' : 'none',
      effects: [],
      flags: decision.flags,
      validUntil: null,
    };
  }
  return decision;
}

/** A granted decision committed after someone else already checked the person in: keep everything but the check-in. */
export function withoutCheckIn(decision: Decision): Decision {
  if (decision.checkin !== 'checked_in') return decision;
  return { ...decision, checkin: 'none', effects: decision.effects.filter((e) => e.type !== 'check-in') };
}

/** The next daily cut-off strictly after `at`, or null when the site has none. */
export function nextCutoff(at: number, cutoff: string | null, timezone: string): number | null {
  // The latest cut-off within the next 24 h is today's if it is still ahead, else tomorrow's.
  const next = lastCutoff(at + 86_400_000, cutoff, timezone);
  return next === null || next <= at ? null : next;
}

/**
 * Session-Timeout in seconds: until the pass or token ends, or the daily
 * cut-off if that comes first, never longer than `maxS` and at least 1.
 */
export function sessionTimeoutS(at: number, validUntil: number | null, cutoffAt: number | null, maxS: number): number {
  const ends = [validUntil, cutoffAt].filter((t): t is number => t !== null);
  const until = ends.length === 0 ? Infinity : Math.min(...ends);
  return Math.max(1, Math.min(maxS, Math.ceil((until - at) / 1000)));
}

/**
 * Acct-Interim-Interval asked of the controller: a third of the inactivity
 * limit (at least 60 s, RFC 2869 §5.16), so a connected device is heard from
 * several times before it could count as inactive.
 */
export const interimIntervalS = (idleMinutes: number): number => Math.max(60, Math.floor((idleMinutes * 60) / 3));

/** What an Access-Reject tells the person (Reply-Message, shown by most captive portals). */
export const REPLY_MESSAGES: Readonly<Record<DecisionReason, string>> = {
  granted: 'Welcome.',
  unknown_credential: 'The email address or the code is not right.',
  ambiguous_credential: 'This code cannot be used to sign in. Please ask the front desk.',
  credential_not_valid: 'Your code is not valid at the moment.',
  person_inactive: 'Your account is not active. Please ask the front desk.',
  no_valid_pass: 'You have no valid pass or access token right now.',
  outside_schedule: 'Sign-in is not possible at this time.',
  door_locked_down: 'Sign-in is not possible right now.',
  cache_stale: 'Sign-in is unavailable right now. Please ask the front desk.',
  no_access_to_door: 'Your pass does not include the Wi-Fi.',
  plan_limit_reached: "Your plan's limit for this month is reached.",
  anti_passback: 'Sign-in is not possible right now.',
  clock_untrusted: 'Sign-in is unavailable right now. Please ask the front desk.',
  network_checkin_not_allowed: 'Your account may not check in through the Wi-Fi.',
  locked_out: 'Too many wrong codes. Please try again later.',
  device_limit_reached: 'You have reached your maximum number of connected devices. Disconnect another device first.',
};

/** Refusals before any decision (nothing to journal). */
export const PRE_DECISION_MESSAGES = {
  missingCredentials: 'Sign in with your email address and your PIN or visitor code.',
  missingDevice: 'Your device did not send its address; sign-in is not possible.',
  tooManyAttempts: 'Too many sign-in attempts. Please wait a minute and try again.',
} as const;
