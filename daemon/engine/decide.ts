/**
 * The decision engine: pure and synchronous. Facts in, decision and effects
 * out; no I/O, no clock, no randomness, so every branch is a table-driven test
 * and a decision can be replayed from its inputs.
 *
 * Order of checks (the first that fails decides the reason):
 *   1. unknown credential            -> denied, unknown_credential
 *   2. matches several people        -> denied, ambiguous_credential (never guess)
 *   3. credential revoked/not valid  -> denied, credential_not_valid
 *   4. leaving (exit reader, or toggle while checked in): granted for any
 *      known person, whatever their status, pass or the cache's age; nobody
 *      is held inside
 *   5. cache stale and the stale policy excludes this person
 *                                    -> denied, cache_stale
 *   6. person not active             -> denied, person_inactive
 *   7. door locked down              -> denied, door_locked_down
 *   8. outside the door's schedule   -> denied, outside_schedule
 *   9. no valid pass or token        -> denied, no_valid_pass
 *  10. granted
 * A check-in reader (entry, or toggle while out) records a denial of a known
 * person at 6 or 9 as a failed check-in, as the platform does. A cache_stale
 * denial is not: the gateway's data is at fault, not the person's pass.
 */
import type {
  CacheFacts,
  Candidate,
  CheckinOutcome,
  Decision,
  DecisionInput,
  DecisionReason,
  Effect,
  EntitlementFacts,
  PersonFacts,
} from './types.js';
import { isWithinSchedule } from './schedule.js';

const within = (at: number, from: number | null, to: number | null): boolean =>
  (from === null || from <= at) && (to === null || at < to);

export function hasValidEntitlement(entitlements: readonly EntitlementFacts[], at: number): boolean {
  return entitlements.some(
    (e) => within(at, e.validFrom, e.validTo) && (e.minutesLeft === null || e.minutesLeft > 0),
  );
}

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

function denied(reason: DecisionReason, person: PersonFacts | null, checkin: CheckinOutcome = 'none'): Decision {
  return { outcome: 'denied', reason, person, checkin, effects: [] };
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

  const unlock: Effect[] = door === null ? [] : [{ type: 'unlock', doorId: door.id, ms: door.pulseMs }];
  const session = candidate.openSession;

  const leaving = reader.mode === 'exit' || (reader.mode === 'toggle' && session !== null);
  if (leaving) {
    // Leaving still respects a locked-down door (only the override may pass);
    // physical egress never depends on the gateway.
    if (door !== null && door.mode === 'locked-down') return denied('door_locked_down', person);
    const effects: Effect[] = [...unlock];
    if (session !== null) effects.push({ type: 'check-out', personId: person.id, sessionId: session.id });
    return { outcome: 'granted', reason: 'granted', person, checkin: session !== null ? 'checked_out' : 'none', effects };
  }

  const checksIn = reader.mode === 'entry' || reader.mode === 'toggle';
  const failedCheckin: CheckinOutcome = checksIn ? 'failed' : 'none';

  if (!staleCacheAdmits(input.cache, person)) return denied('cache_stale', person);
  if (person.status !== 'active') return denied('person_inactive', person, failedCheckin);
  if (door !== null && door.mode === 'locked-down') return denied('door_locked_down', person);
  if (door !== null && door.schedule !== null && !isWithinSchedule(door.schedule, input.local)) {
    return denied('outside_schedule', person);
  }
  if (!hasValidEntitlement(candidate.entitlements, at)) return denied('no_valid_pass', person, failedCheckin);

  const effects: Effect[] = [...unlock];
  let checkin: CheckinOutcome = 'none';
  if (checksIn && session === null) {
    effects.push({ type: 'check-in', personId: person.id });
    checkin = 'checked_in';
  }
  return { outcome: 'granted', reason: 'granted', person, checkin, effects };
}
