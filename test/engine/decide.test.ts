import { describe, expect, it } from 'vitest';
import { entitlement } from '../support/engine-facts.js';
import { decide } from '../../daemon/engine/decide.js';
import { chooseCoverage } from '../../daemon/engine/entitlements.js';
import { isWithinSchedule } from '../../daemon/engine/schedule.js';
import { siteLocalTime } from '../../daemon/engine/site-time.js';
import { freshness } from '../../daemon/engine/staleness.js';
import type {
  CacheFacts,
  Candidate,
  DecisionInput,
  DoorPolicy,
  EntitlementFacts,
  ReaderMode,
  WeeklySchedule,
} from '../../daemon/engine/types.js';

const T = Date.parse('2026-11-23T10:00:00Z'); // a Monday, 10:00 in London
const HOUR = 3_600_000;

const ent = entitlement;

const plan: EntitlementFacts = ent({ id: 'e1', kind: 'plan', validFrom: T - 24 * HOUR });

function candidate(over: Partial<{ personId: string; status: Candidate['person']['status']; alwaysAllowed: boolean; entitlements: EntitlementFacts[]; session: boolean; credential: Partial<Candidate['credential']> }> = {}): Candidate {
  return {
    person: {
      id: over.personId ?? 'm-1',
      kind: 'member',
      status: over.status ?? 'active',
      alwaysAllowed: over.alwaysAllowed ?? false,
      extendedUnlock: false,
      lockdownOverride: false,
      networkCheckin: true,
      expectedArrival: null,
    },
    credential: { id: 'c-1', kind: 'card', status: 'active', validFrom: null, validTo: null, ...over.credential },
    entitlements: over.entitlements ?? [plan],
    openSession: over.session === true ? { id: 's-1', openedAt: T - HOUR } : null,
    usage: { checkins: 0, minutes: 0 },
    areaPresence: null,
  };
}

const door = (over: Partial<DoorPolicy> = {}): DoorPolicy => ({ id: 'front', pulseMs: 3000, extendedPulseMs: null, mode: 'normal', schedule: null, ...over });

const fresh: CacheFacts = { stale: false, policy: 'deny-all' };

function input(mode: ReaderMode, candidates: Candidate[], d: DoorPolicy | null = door(), at = T, cache: CacheFacts = fresh): DecisionInput {
  return {
    at,
    local: siteLocalTime(at, 'Europe/London'),
    holiday: false,
    reader: { id: 'r1', mode, channel: 'door', area: null },
    door: d,
    candidates,
    cache,
    clock: { trusted: true, policy: 'trust' },
    visitorTokens: { minutes: 120, start: 'first-checkin' },
  };
}

const weekdaysNineToFive: WeeklySchedule = {
  mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'], sat: [], sun: [], hol: [],
};

describe('decide: one row per reason', () => {
  const cases: { name: string; input: DecisionInput; outcome: 'granted' | 'denied'; reason: string; checkin: string; unlock: boolean }[] = [
    { name: 'granted at an entry reader checks in', input: input('entry', [candidate()]), outcome: 'granted', reason: 'granted', checkin: 'checked_in', unlock: true },
    { name: 'unknown credential', input: input('entry', []), outcome: 'denied', reason: 'unknown_credential', checkin: 'none', unlock: false },
    { name: 'the same code belongs to two people', input: input('entry', [candidate(), candidate({ personId: 'v-9' })]), outcome: 'denied', reason: 'ambiguous_credential', checkin: 'none', unlock: false },
    { name: 'revoked credential', input: input('entry', [candidate({ credential: { status: 'revoked' } })]), outcome: 'denied', reason: 'credential_not_valid', checkin: 'none', unlock: false },
    { name: 'credential not yet valid', input: input('entry', [candidate({ credential: { validFrom: T + 1 } })]), outcome: 'denied', reason: 'credential_not_valid', checkin: 'none', unlock: false },
    { name: 'credential expired (validTo is exclusive)', input: input('entry', [candidate({ credential: { validTo: T } })]), outcome: 'denied', reason: 'credential_not_valid', checkin: 'none', unlock: false },
    { name: 'suspended person: a failed check-in', input: input('entry', [candidate({ status: 'suspended' })]), outcome: 'denied', reason: 'person_inactive', checkin: 'failed', unlock: false },
    { name: 'archived person at an access-only reader: no check-in recorded', input: input('access-only', [candidate({ status: 'archived' })]), outcome: 'denied', reason: 'person_inactive', checkin: 'none', unlock: false },
    { name: 'no pass: a failed check-in (the platform records these)', input: input('entry', [candidate({ entitlements: [] })]), outcome: 'denied', reason: 'no_valid_pass', checkin: 'failed', unlock: false },
    { name: 'expired day pass', input: input('toggle', [candidate({ entitlements: [ent({ id: 'd', kind: 'day_pass', validFrom: T - 48 * HOUR, validTo: T - 24 * HOUR })] })]), outcome: 'denied', reason: 'no_valid_pass', checkin: 'failed', unlock: false },
    { name: 'time pass with no minutes left', input: input('entry', [candidate({ entitlements: [ent({ id: 't', kind: 'time_pass', minutesLeft: 0 })] })]), outcome: 'denied', reason: 'no_valid_pass', checkin: 'failed', unlock: false },
    { name: 'outside the door schedule (Monday 08:00)', input: input('entry', [candidate()], door({ schedule: weekdaysNineToFive }), T - 2 * HOUR), outcome: 'denied', reason: 'outside_schedule', checkin: 'none', unlock: false },
    { name: 'door locked down', input: input('entry', [candidate()], door({ mode: 'locked-down' })), outcome: 'denied', reason: 'door_locked_down', checkin: 'none', unlock: false },
    { name: 'inside the schedule', input: input('entry', [candidate()], door({ schedule: weekdaysNineToFive })), outcome: 'granted', reason: 'granted', checkin: 'checked_in', unlock: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decide(c.input);
      expect(d.outcome).toBe(c.outcome);
      expect(d.reason).toBe(c.reason);
      expect(d.checkin).toBe(c.checkin);
      expect(d.effects.some((e) => e.type === 'unlock')).toBe(c.unlock);
    });
  }
});

describe('decide: reader modes', () => {
  it('entry while already checked in opens the door without a second session', () => {
    const d = decide(input('entry', [candidate({ session: true })]));
    expect(d.outcome).toBe('granted');
    expect(d.checkin).toBe('none');
    expect(d.effects).toEqual([{ type: 'unlock', doorId: 'front', ms: 3000 }]);
  });

  it('toggle checks in when out and out when in', () => {
    expect(decide(input('toggle', [candidate()])).effects).toContainEqual({ type: 'check-in', personId: 'm-1', entitlementId: 'e1' });
    const out = decide(input('toggle', [candidate({ session: true })]));
    expect(out.checkin).toBe('checked_out');
    expect(out.effects).toContainEqual({ type: 'check-out', personId: 'm-1', sessionId: 's-1' });
  });

  it('exit lets any known person leave, even without a pass or while suspended', () => {
    const d = decide(input('exit', [candidate({ status: 'suspended', entitlements: [], session: true })]));
    expect(d.outcome).toBe('granted');
    expect(d.checkin).toBe('checked_out');
    expect(d.effects).toContainEqual({ type: 'unlock', doorId: 'front', ms: 3000 });
  });

  it('exit of someone not checked in opens the door and records no check-out', () => {
    const d = decide(input('exit', [candidate()]));
    expect(d.outcome).toBe('granted');
    expect(d.checkin).toBe('none');
    expect(d.effects.map((e) => e.type)).toEqual(['unlock']);
  });

  it('exit at a locked-down door is denied', () => {
    expect(decide(input('exit', [candidate({ session: true })], door({ mode: 'locked-down' }))).reason).toBe('door_locked_down');
  });

  it('access-only opens the door and never touches presence', () => {
    const d = decide(input('access-only', [candidate()]));
    expect(d.outcome).toBe('granted');
    expect(d.checkin).toBe('none');
    expect(d.effects.map((e) => e.type)).toEqual(['unlock']);
  });

  it('a reader without a door only checks in', () => {
    const d = decide(input('entry', [candidate()], null));
    expect(d.effects).toEqual([{ type: 'check-in', personId: 'm-1', entitlementId: 'e1' }]);
  });

  it('a person with one revoked and one valid credential matching is granted', () => {
    const d = decide(input('entry', [candidate({ credential: { status: 'revoked' } }), candidate({ credential: { id: 'c-2' } })]));
    expect(d.outcome).toBe('granted');
  });
});

describe('time helpers', () => {
  it('converts to site-local weekday and minute across DST', () => {
    expect(siteLocalTime(Date.parse('2026-07-06T08:30:00Z'), 'Europe/London')).toMatchObject({ weekday: 'mon', minuteOfDay: 9 * 60 + 30, date: '2026-07-06' });
    expect(siteLocalTime(Date.parse('2026-11-23T08:30:00Z'), 'Europe/London')).toMatchObject({ weekday: 'mon', minuteOfDay: 8 * 60 + 30, date: '2026-11-23' });
    expect(siteLocalTime(Date.parse('2026-11-22T23:30:00Z'), 'Asia/Tokyo')).toMatchObject({ weekday: 'mon', minuteOfDay: 8 * 60 + 30, date: '2026-11-23' });
  });

  it('gives the wall clock of Intl at every instant of a year, read in order, DST-change days included', () => {
    // The cache keeps a day (and on a DST-change day the instant the offset
    // changes); this reads a whole year in order as a gateway does and
    // compares every answer with Intl asked afresh.
    const weekdays: Record<string, string> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };
    // London and New York (1 h, at 01:00 and 02:00), Lord Howe (30 min), Santiago (at midnight), Tokyo (none).
    for (const timeZone of ['Europe/London', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Tokyo']) {
      const f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
      const expected = (at: number): { weekday: string; minuteOfDay: number; date: string } => {
        const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
        return { weekday: weekdays[p.weekday!]!, minuteOfDay: Number(p.hour) * 60 + Number(p.minute), date: `${p.year}-${p.month}-${p.day}` };
      };
      const hoursOff = (at: number): number => siteLocalTime(at, timeZone).dayEnd - siteLocalTime(at, timeZone).dayStart;
      const start = Date.parse('2026-01-01T00:00:00Z');
      for (let at = start; at < start + 365 * 86_400_000; ) {
        const local = siteLocalTime(at, timeZone);
        expect(local).toMatchObject(expected(at));
        // Every minute (and a second before each) on a day of 23 or 25 hours, every 31 minutes otherwise.
        if (hoursOff(at) === 86_400_000) {
          at += 31 * 60_000;
        } else {
          expect(siteLocalTime(at + 59_999, timeZone)).toMatchObject(expected(at + 59_999));
          at += 60_000;
        }
      }
    }
  });

  it('schedule windows are half-open and 24:00 ends the day', () => {
    const s: WeeklySchedule = { ...weekdaysNineToFive, sun: ['22:00-24:00'] };
    expect(isWithinSchedule(s, { weekday: 'mon', minuteOfDay: 9 * 60 })).toBe(true);
    expect(isWithinSchedule(s, { weekday: 'mon', minuteOfDay: 17 * 60 })).toBe(false);
    expect(isWithinSchedule(s, { weekday: 'sun', minuteOfDay: 1439 })).toBe(true);
    expect(isWithinSchedule(s, { weekday: 'sat', minuteOfDay: 600 })).toBe(false);
  });

  it('entitlement validity: from inclusive, to exclusive, metered passes need minutes', () => {
    const e = (o: Partial<EntitlementFacts>): EntitlementFacts => ent({ id: 'x', kind: 'time_pass', validFrom: T, validTo: T + HOUR, minutesLeft: 30, ...o });
    const person = candidate().person;
    const tokens = { minutes: 120, start: 'first-checkin' } as const;
    const covered = (list: EntitlementFacts[], at: number): boolean =>
      chooseCoverage(list, person, at, siteLocalTime(at, 'Europe/London'), tokens, null).kind === 'covered';
    expect(covered([e({})], T)).toBe(true);
    expect(covered([e({})], T + HOUR)).toBe(false);
    expect(covered([e({})], T - 1)).toBe(false);
    expect(covered([e({ minutesLeft: 0 })], T)).toBe(false);
    expect(covered([e({ minutesLeft: 0 }), e({ minutesLeft: null, kind: 'plan' })], T)).toBe(true);
  });
});

describe('stale cache', () => {
  const stale = (policy: CacheFacts['policy']): CacheFacts => ({ stale: true, policy });
  const staff = candidate({ personId: 'staff-1', alwaysAllowed: true });

  it('is stale once the last sync is older than the limit (injected clock), and never without a limit', () => {
    const limit = 72 * HOUR;
    expect(freshness(T - limit, T, limit)).toEqual({ stale: false, ageMs: limit });
    expect(freshness(T - limit - 1, T, limit)).toEqual({ stale: true, ageMs: limit + 1 });
    expect(freshness(null, T, limit)).toEqual({ stale: true, ageMs: null });
    expect(freshness(T - 1000 * HOUR, T, null)).toEqual({ stale: false, ageMs: 1000 * HOUR });
    // A clock that went backwards is not a negative age.
    expect(freshness(T + HOUR, T, limit)).toEqual({ stale: false, ageMs: 0 });
  });

  const cases: { policy: CacheFacts['policy']; member: string; staff: string }[] = [
    { policy: 'keep-deciding', member: 'granted', staff: 'granted' },
    { policy: 'always-allowed-only', member: 'cache_stale', staff: 'granted' },
    { policy: 'deny-all', member: 'cache_stale', staff: 'cache_stale' },
  ];
  for (const c of cases) {
    it(`${c.policy}: a member is ${c.member}, site staff ${c.staff}`, () => {
      const member = decide(input('entry', [candidate()], door(), T, stale(c.policy)));
      const s = decide(input('entry', [staff], door(), T, stale(c.policy)));
      expect(member.reason).toBe(c.member);
      expect(s.reason).toBe(c.staff);
      // A stale-cache denial is the gateway's fault, not a failed check-in of the person.
      if (member.reason === 'cache_stale') expect(member).toMatchObject({ outcome: 'denied', checkin: 'none', effects: [] });
    });
  }

  it('the same facts decide normally while the cache is fresh, whatever the policy', () => {
    expect(decide(input('entry', [candidate()], door(), T, { stale: false, policy: 'deny-all' })).reason).toBe('granted');
  });

  it('never holds anyone inside: leaving is granted on a stale cache under deny-all', () => {
    const d = decide(input('exit', [candidate({ session: true })], door(), T, stale('deny-all')));
    expect(d).toMatchObject({ outcome: 'granted', checkin: 'checked_out' });
  });

  it('earlier reasons still win: unknown, ambiguous and invalid credentials are named as such', () => {
    expect(decide(input('entry', [], door(), T, stale('deny-all'))).reason).toBe('unknown_credential');
    expect(decide(input('entry', [candidate({ credential: { status: 'revoked' } })], door(), T, stale('deny-all'))).reason).toBe('credential_not_valid');
  });

  it('staff still need what anyone needs: an active status and a pass', () => {
    expect(decide(input('entry', [candidate({ alwaysAllowed: true, status: 'suspended' })], door(), T, stale('always-allowed-only'))).reason).toBe('person_inactive');
    expect(decide(input('entry', [candidate({ alwaysAllowed: true, entitlements: [] })], door(), T, stale('always-allowed-only'))).reason).toBe('no_valid_pass');
  });
});
