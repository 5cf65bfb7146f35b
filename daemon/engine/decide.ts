/**
 * The decision engine: pure and synchronous. Facts in, decision and effects
 * out; no I/O, no clock, no randomness, so every branch is a table-driven test
 * and a decision can be replayed from its inputs.
 *
 * Order of checks (the first that fails decides the reason; docs/policy.md):
 *   1. unknown credential              -> unknown_credential
 *   2. matches several people          -> ambiguous_credential (never guess)
 *   3. credential revoked/not valid    -> credential_not_valid
 *   4. leaving (exit reader, or toggle while checked in): granted for any
 *      known person, whatever their status, pass or the cache's age; nobody
 *      is held inside. Only a locked-down door (without the override) refuses.
 *   5. cache stale and the stale policy excludes this person -> cache_stale
 *   6. clock not synchronised and the clock policy excludes this person
 *                                      -> clock_untrusted
 *   7. person not active               -> person_inactive
 *   8. Wi-Fi, and the person may not check in by Wi-Fi
 *                                      -> network_checkin_not_allowed
 *   9. door locked down (no override)  -> door_locked_down
 *  10. outside the door's schedule     -> outside_schedule
 *  11. no pass or token valid now      -> no_valid_pass
 *  12. valid passes, none for this door-> no_access_to_door
 *  13. a plan's monthly limit reached  -> plan_limit_reached
 *  14. anti-passback (hard, or timed within its window) -> anti_passback
 *  15. granted
 * A check-in attempt (entry reader, toggle while out, Wi-Fi, kiosk) refused
 * at 7, 8, 11 or 13 is a failed check-in, as the platform records it. The
 * other refusals are about the door, the gateway's data or its clock, not
 * about the person's pass.
 */
import type {
  CacheFacts,
  Candidate,
  CheckinOutcome,
  ClockFacts,
  Decision,
  DecisionFlag,
  DecisionInput,
  DecisionReason,
  Effect,
  PersonFacts,
} from './types.js';
import { isWithinSchedule } from './schedule.js';
import { chooseCoverage, planLimitReached } from './entitlements.js';

const within = (at: number, from: number | null, to: number | null): boolean =>
  (from === null || from <= at) && (to === null || at < to);

/** Whether the stale policy still lets this person be decided on the cached facts. */
export function staleCacheAdmits(cache: CacheFacts, person: PersonFacts): boolean {
  if (!cache.stale) return true;
  switch (cache.policy) {
    case 'keep-deciding':
      return true;
    case 'always-allowed-only':
      return person.alwaysAllowed;
    case 'deny-all':
      return false;
  }
}

/** Whether an unsynchronised clock still lets this person be granted on time-based facts. */
export function clockAdmits(clock: ClockFacts, person: PersonFacts): boolean {
  if (clock.trusted) return true;
  switch (clock.policy) {
    case 'trust':
      return true;
    case 'always-allowed-only':
      return person.alwaysAllowed;
    case 'deny':
      return false;
  }
}

function denied(reason: DecisionReason, person: PersonFacts | null, checkin: CheckinOutcome = 'none'): Decision {
  return { outcome: 'denied', reason, person, checkin, effects: [], flags: [], validUntil: null };
}

function unlockMs(input: DecisionInput, person: PersonFacts): number {
  const door = input.door;
  if (door === null) return 0;
  return person.extendedUnlock && door.extendedPulseMs !== null ? Math.max(door.extendedPulseMs, door.pulseMs) : door.pulseMs;
}

export function decide(input: DecisionInput): Decision {
  const { at, reader, door, candidates } = input;

  const first = candidates[0];
  if (first === undefined) return denied('unknown_credential', null);
  if (candidates.some((c) => c.person.id !== first.person.id)) return denied('ambiguous_credential', null);

  // Several matching credentials of one person (e.g. the same number cached
  // twice) are fine: any valid one will do.
  const candidate: Candidate =
    candidates.find((c) => c.credential.status === 'active' && within(at, c.credential.validFrom, c.credential.validTo)) ??
    first;
  const { person } = candidate;
  if (candidate.credential.status !== 'active' || !within(at, candidate.credential.validFrom, candidate.credential.validTo)) {
    return denied('credential_not_valid', person);
  }

  const flags: DecisionFlag[] = [];
  const ms = unlockMs(input, person);
  if (ms > (door?.pulseMs ?? 0)) flags.push('extended_unlock');
  const unlock: Effect[] = door === null ? [] : [{ type: 'unlock', doorId: door.id, ms }];
  const lockedDown = door !== null && door.mode === 'locked-down' && !person.lockdownOverride;
  const session = candidate.openSession;
  const area = reader.area;

  const leaving = reader.mode === 'exit' || (reader.mode === 'toggle' && session !== null);
  if (leaving) {
    // Physical egress never depends on the gateway (REX, free egress); this
    // is the credential on the way out, refused only by a lockdown.
    if (lockedDown) return denied('door_locked_down', person);
    const effects: Effect[] = [...unlock];
    if (session !== null) effects.push({ type: 'check-out', personId: person.id, sessionId: session.id });
    if (area !== null && area.antiPassback !== 'off') {
      // Leaving an area one was never seen entering is flagged, never refused.
      if (candidate.areaPresence?.inside !== true) flags.push('anti_passback_soft');
      effects.push({ type: 'area', personId: person.id, area: area.id, inside: false });
    }
    return { outcome: 'granted', reason: 'granted', person, checkin: session !== null ? 'checked_out' : 'none', effects, flags, validUntil: null };
  }

  const checksIn = reader.mode === 'entry' || reader.mode === 'toggle';
  const failedCheckin: CheckinOutcome = checksIn ? 'failed' : 'none';

  if (!staleCacheAdmits(input.cache, person)) return denied('cache_stale', person);
  if (!clockAdmits(input.clock, person)) return denied('clock_untrusted', person);
  if (!input.clock.trusted) flags.push('clock_untrusted');
  if (person.status !== 'active') return denied('person_inactive', person, failedCheckin);
  if (reader.channel === 'wifi' && !person.networkCheckin) return denied('network_checkin_not_allowed', person, failedCheckin);
  if (lockedDown) return denied('door_locked_down', person);
  if (door !== null && door.schedule !== null && !isWithinSchedule(door.schedule, input.local, input.holiday)) {
    return denied('outside_schedule', person);
  }

  const chosen = chooseCoverage(candidate.entitlements, person, at, input.local, input.visitorTokens, door?.id ?? null);
  if (chosen.kind === 'none') return denied('no_valid_pass', person, failedCheckin);
  if (chosen.kind === 'not-this-door') return denied('no_access_to_door', person);
  const { coverage } = chosen;

  const newCheckin = checksIn && session === null;
  if (planLimitReached(candidate.entitlements, candidate.usage, at, newCheckin)) {
    return denied('plan_limit_reached', person, failedCheckin);
  }

  let entersArea = false;
  if (area !== null && area.antiPassback !== 'off') {
    entersArea = true;
    const presence = candidate.areaPresence;
    const passback =
      presence !== null &&
      presence.inside &&
      (area.antiPassback !== 'timed' || at - presence.changedAt < area.timedMs);
    if (passback) {
      // On data that may be stale, a hard rule would lock out people whose
      // exit the gateway never heard of: it degrades to soft.
      if (area.antiPassback === 'soft') flags.push('anti_passback_soft');
      else if (input.cache.stale) flags.push('anti_passback_degraded');
      else return denied('anti_passback', person);
    }
  }

  const effects: Effect[] = [...unlock];
  if (coverage.starts) effects.push({ type: 'start-entitlement', personId: person.id, entitlementId: coverage.entitlement.id });
  let checkin: CheckinOutcome = 'none';
  if (newCheckin) {
    effects.push({ type: 'check-in', personId: person.id, entitlementId: coverage.entitlement.id });
    checkin = 'checked_in';
  }
  if (entersArea && area !== null) effects.push({ type: 'area', personId: person.id, area: area.id, inside: true });
  return { outcome: 'granted', reason: 'granted', person, checkin, effects, flags, validUntil: coverage.validUntil };
}
