/**
 * The policy rules of the decision engine, one table per rule, with the
 * platform's own words (../shared/seeds/) where it has any. Pure: facts in,
 * decision out.
 */
import { describe, expect, it } from 'vitest';
import { entitlement } from '../support/engine-facts.js';
import { decide } from '../../daemon/engine/decide.js';
import { siteLocalTime } from '../../daemon/engine/site-time.js';
import type {
  AreaPolicy,
  Candidate,
  DecisionInput,
  DoorPolicy,
  EntitlementFacts,
  PersonFacts,
  ReaderMode,
  VisitorTokenPolicy,
} from '../../daemon/engine/types.js';

const MIN = 60_000;
/** Site-local London wall time on Monday 23 November 2026 (GMT = UTC in winter). */
const london = (hhmm: string, day = '2026-11-23') => Date.parse(`${day}T${hhmm}:00Z`);

const ent = entitlement;

const person = (o: Partial<PersonFacts> = {}): PersonFacts => ({
  id: 'p-1',
  kind: 'member',
  status: 'active',
  alwaysAllowed: false,
  extendedUnlock: false,
  lockdownOverride: false,
  networkCheckin: true,
  expectedArrival: null,
  ...o,
});

const who = (o: { person?: Partial<PersonFacts>; entitlements?: EntitlementFacts[]; session?: boolean; usage?: Candidate['usage']; presence?: Candidate['areaPresence'] } = {}): Candidate => ({
  person: person(o.person),
  credential: { id: 'c-1', kind: 'pin', status: 'active', validFrom: null, validTo: null },
  entitlements: o.entitlements ?? [],
  openSession: o.session === true ? { id: 's-1', openedAt: london('08:00') } : null,
  usage: o.usage ?? { checkins: 0, minutes: 0 },
  areaPresence: o.presence ?? null,
});

const frontDoor: DoorPolicy = { id: 'front', pulseMs: 3000, extendedPulseMs: null, mode: 'normal', schedule: null };

function at(
  when: number,
  candidate: Candidate,
  o: { mode?: ReaderMode; tokens?: VisitorTokenPolicy; door?: DoorPolicy | null; area?: AreaPolicy | null; stale?: boolean; channel?: 'door' | 'wifi'; clockTrusted?: boolean; clockPolicy?: 'trust' | 'always-allowed-only' | 'deny'; holiday?: boolean } = {},
): DecisionInput {
  return {
    at: when,
    local: siteLocalTime(when, 'Europe/London'),
    holiday: o.holiday ?? false,
    reader: { id: 'r', mode: o.mode ?? 'entry', channel: o.channel ?? 'door', area: o.area ?? null },
    door: o.door === undefined ? frontDoor : o.door,
    candidates: [candidate],
    cache: { stale: o.stale ?? false, policy: 'keep-deciding' },
    clock: { trusted: o.clockTrusted ?? true, policy: o.clockPolicy ?? 'trust' },
    visitorTokens: o.tokens ?? { minutes: 120, start: 'first-checkin' },
  };
}

const visitor = (token: Partial<EntitlementFacts>, expectedArrival: number | null = null) =>
  who({ person: { id: 'v-1', kind: 'visitor', expectedArrival }, entitlements: [ent({ id: 'tok', kind: 'visitor_token', validFrom: london('00:00'), validTo: london('00:00', '2026-11-24'), ...token })] });

describe('visitor access tokens (seeds: "Visitor Access Tokens", "Adding Visitor Access Tokens")', () => {
  const firstCheckin: VisitorTokenPolicy = { minutes: 120, start: 'first-checkin' };
  const expected: VisitorTokenPolicy = { minutes: 60, start: 'expected-arrival' };
  const cases = [
    {
      seed: '"if you let visitors use your Wi-Fi for up to 2 hours and a visitor arrives at 1 PM, they\'ll be able to use your WiFi access token between 1 PM and 3 PM"',
      input: at(london('13:00'), visitor({}), { tokens: firstCheckin }),
      outcome: 'granted', validUntil: london('15:00'), starts: true,
    },
    {
      seed: 'the same token at 2:59 PM, started at 1 PM',
      input: at(london('14:59'), visitor({ startedAt: london('13:00') }), { tokens: firstCheckin }),
      outcome: 'granted', validUntil: london('15:00'), starts: false,
    },
    {
      seed: 'the same token at 3 PM: its two hours are over',
      input: at(london('15:00'), visitor({ startedAt: london('13:00') }), { tokens: firstCheckin }),
      outcome: 'denied', validUntil: null, starts: false,
    },
    {
      seed: '"if a visitor is an hour early, they\'ll be able to connect ... for the entire duration of their visit" (expected 2 PM, arrives 1 PM)',
      input: at(london('13:00'), visitor({}, london('14:00')), { tokens: firstCheckin }),
      outcome: 'granted', validUntil: london('15:00'), starts: true,
    },
    {
      seed: 'first check-in policy: a visitor who arrives late still gets the whole duration (expected 1 PM, arrives 1:30 PM)',
      input: at(london('13:30'), visitor({}, london('13:00')), { tokens: firstCheckin }),
      outcome: 'granted', validUntil: london('15:30'), starts: true,
    },
    {
      seed: '"a visitor expected at 9AM will be able to use the access token from 9 to 10AM" (expected-arrival policy, 60 minutes)',
      input: at(london('09:00'), visitor({}, london('09:00')), { tokens: expected }),
      outcome: 'granted', validUntil: london('10:00'), starts: false,
    },
    {
      seed: '"if they arrive 30 minutes late ... they\'ll effectively lose 30 minutes" (expected-arrival: 9:30 arrival, still until 10)',
      input: at(london('09:30'), visitor({}, london('09:00')), { tokens: expected }),
      outcome: 'granted', validUntil: london('10:00'), starts: false,
    },
    {
      seed: 'expected-arrival policy: an hour early, before the token starts',
      input: at(london('08:00'), visitor({}, london('09:00')), { tokens: expected }),
      outcome: 'denied', validUntil: null, starts: false,
    },
    {
      seed: 'a token not started by the end of its visit day cannot be started',
      input: at(london('09:00', '2026-11-24'), visitor({}), { tokens: firstCheckin }),
      outcome: 'denied', validUntil: null, starts: false,
    },
    {
      seed: 'once started, a token runs its full duration past midnight (arrival 11 PM)',
      input: at(london('00:30', '2026-11-24'), visitor({ startedAt: london('23:00') }), { tokens: firstCheckin }),
      outcome: 'granted', validUntil: london('01:00', '2026-11-24'), starts: false,
    },
  ] as const;
  for (const c of cases) {
    it(c.seed, () => {
      const d = decide(c.input);
      expect(d.outcome).toBe(c.outcome);
      if (c.outcome === 'denied') expect(d.reason).toBe('no_valid_pass');
      expect(d.validUntil).toBe(c.validUntil);
      expect(d.effects.some((e) => e.type === 'start-entitlement')).toBe(c.starts);
    });
  }

  it('"You cannot change the number of minutes included in a visitor\'s access token": the duration comes from the site setting only', () => {
    const d = decide(at(london('13:00'), visitor({}), { tokens: { minutes: 45, start: 'first-checkin' } }));
    expect(d.validUntil).toBe(london('13:45'));
  });
});

describe('passes (seed: "Customers will always need passes or access tokens in their account to check in")', () => {
  it('"If they don\'t have a valid pass or access token, they simply will be recorded as a failed check-in"', () => {
    const d = decide(at(london('10:00'), who()));
    expect(d).toMatchObject({ outcome: 'denied', reason: 'no_valid_pass', checkin: 'failed' });
  });

  const dayPass = (startedAt: number | null) => who({ entitlements: [ent({ id: 'dp', kind: 'day_pass', startedAt })] });
  it('a day pass covers the site-local calendar day of its first use, until local midnight', () => {
    const first = decide(at(london('10:00'), dayPass(null)));
    expect(first).toMatchObject({ outcome: 'granted', validUntil: london('00:00', '2026-11-24') });
    expect(first.effects).toContainEqual({ type: 'start-entitlement', personId: 'p-1', entitlementId: 'dp' });
    expect(decide(at(london('23:59'), dayPass(london('10:00')))).outcome).toBe('granted');
    expect(decide(at(london('00:00', '2026-11-24'), dayPass(london('10:00'))))).toMatchObject({ outcome: 'denied', reason: 'no_valid_pass' });
  });

  it('in a zone east of UTC, the day is the local one (Tokyo: 23:30 UTC is already the next day)', () => {
    const started = Date.parse('2026-11-23T01:00:00Z'); // 10:00 in Tokyo, 23 Nov
    const next = Date.parse('2026-11-23T15:30:00Z'); // 00:30 in Tokyo, 24 Nov
    const input = { ...at(next, dayPass(started)), local: siteLocalTime(next, 'Asia/Tokyo') };
    expect(decide(input).reason).toBe('no_valid_pass');
  });

  it('a time pass with minutes left covers until its minutes run out', () => {
    const d = decide(at(london('10:00'), who({ entitlements: [ent({ id: 'tp', kind: 'time_pass', minutesLeft: 90 })] })));
    expect(d).toMatchObject({ outcome: 'granted', validUntil: london('11:30') });
  });

  it('a plan is used before a day pass, so the day pass is not spent', () => {
    const d = decide(at(london('10:00'), who({ entitlements: [ent({ id: 'dp', kind: 'day_pass' }), ent({ id: 'plan', kind: 'plan' })] })));
    expect(d.effects).toContainEqual({ type: 'check-in', personId: 'p-1', entitlementId: 'plan' });
    expect(d.effects.some((e) => e.type === 'start-entitlement')).toBe(false);
  });

  it('a pass for other doors: no_access_to_door, not a failed check-in', () => {
    const d = decide(at(london('10:00'), who({ entitlements: [ent({ id: 'plan', kind: 'plan', doors: ['bike-room'] })] })));
    expect(d).toMatchObject({ outcome: 'denied', reason: 'no_access_to_door', checkin: 'none' });
    expect(decide(at(london('10:00'), who({ entitlements: [ent({ id: 'plan', kind: 'plan', doors: ['front'] })] }))).outcome).toBe('granted');
  });
});

describe('plan limits ("limit the amount of time that members on a specific plan can spend in your space")', () => {
  const limited = (usage: Candidate['usage'], session = false) =>
    who({ entitlements: [ent({ id: 'plan', kind: 'plan', monthlyHours: 10, monthlyCheckins: 8 })], usage, session });
  const cases = [
    { name: 'under both limits', usage: { checkins: 7, minutes: 599 }, session: false, outcome: 'granted', reason: 'granted' },
    { name: 'the 9th check-in of the month', usage: { checkins: 8, minutes: 0 }, session: false, outcome: 'denied', reason: 'plan_limit_reached' },
    { name: '10 hours used', usage: { checkins: 1, minutes: 600 }, session: false, outcome: 'denied', reason: 'plan_limit_reached' },
    { name: 'already checked in: the check-in limit does not apply to an access-only read', usage: { checkins: 8, minutes: 0 }, session: true, outcome: 'granted', reason: 'granted' },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      const d = decide(at(london('10:00'), limited(c.usage, c.session), { mode: c.session ? 'access-only' : 'entry' }));
      expect(d).toMatchObject({ outcome: c.outcome, reason: c.reason });
      if (c.outcome === 'denied') expect(d.checkin).toBe('failed');
    });
  }

  it('extra passes do not breach a plan limit (the platform\'s rule)', () => {
    const d = decide(at(london('10:00'), who({ entitlements: [ent({ id: 'plan', kind: 'plan', monthlyCheckins: 1 }), ent({ id: 'dp', kind: 'day_pass' })], usage: { checkins: 1, minutes: 0 } })));
    expect(d.reason).toBe('plan_limit_reached');
  });
});

describe('anti-passback per area', () => {
  const area = (mode: AreaPolicy['antiPassback']): AreaPolicy => ({ id: 'main', antiPassback: mode, timedMs: 5 * MIN });
  const inside = (minutesAgo: number) => who({ entitlements: [ent({ id: 'plan', kind: 'plan' })], presence: { inside: true, changedAt: london('10:00') - minutesAgo * MIN } });
  const cases = [
    { name: 'soft: a second entry is granted and flagged', mode: 'soft', ago: 1, stale: false, outcome: 'granted', flag: 'anti_passback_soft' },
    { name: 'hard: a second entry without an exit is refused', mode: 'hard', ago: 60, stale: false, outcome: 'denied', flag: null },
    { name: 'hard on stale data degrades to soft', mode: 'hard', ago: 60, stale: true, outcome: 'granted', flag: 'anti_passback_degraded' },
    { name: 'timed: re-entry within the window is refused', mode: 'timed', ago: 1, stale: false, outcome: 'denied', flag: null },
    { name: 'timed: re-entry after the window is fine', mode: 'timed', ago: 6, stale: false, outcome: 'granted', flag: null },
  ] as const;
  for (const c of cases) {
    it(c.name, () => {
      const d = decide(at(london('10:00'), inside(c.ago), { area: area(c.mode), stale: c.stale }));
      expect(d.outcome).toBe(c.outcome);
      if (c.outcome === 'denied') expect(d.reason).toBe('anti_passback');
      if (c.flag !== null) expect(d.flags).toContain(c.flag);
    });
  }

  it('entering and leaving move the person in and out of the area', () => {
    const fresh = who({ entitlements: [ent({ id: 'plan', kind: 'plan' })] });
    expect(decide(at(london('10:00'), fresh, { area: area('hard') })).effects).toContainEqual({ type: 'area', personId: 'p-1', area: 'main', inside: true });
    const out = decide(at(london('10:00'), inside(30), { area: area('hard'), mode: 'exit' }));
    expect(out.effects).toContainEqual({ type: 'area', personId: 'p-1', area: 'main', inside: false });
  });

  it('leaving an area one was never seen entering is granted and flagged, never refused', () => {
    const d = decide(at(london('10:00'), who(), { area: area('hard'), mode: 'exit' }));
    expect(d).toMatchObject({ outcome: 'granted', flags: ['anti_passback_soft'] });
  });
});

describe('doors: lockdown override, extended unlock, holidays', () => {
  const member = (o: Partial<PersonFacts> = {}) => who({ person: o, entitlements: [ent({ id: 'plan', kind: 'plan' })] });
  it('a locked-down door opens only for the override group', () => {
    const door: DoorPolicy = { ...frontDoor, mode: 'locked-down' };
    expect(decide(at(london('10:00'), member(), { door })).reason).toBe('door_locked_down');
    expect(decide(at(london('10:00'), member({ lockdownOverride: true }), { door })).outcome).toBe('granted');
  });

  it('people who need more time get the door\'s extended pulse', () => {
    const door: DoorPolicy = { ...frontDoor, extendedPulseMs: 12_000 };
    const d = decide(at(london('10:00'), member({ extendedUnlock: true }), { door }));
    expect(d.effects).toContainEqual({ type: 'unlock', doorId: 'front', ms: 12_000 });
    expect(d.flags).toContain('extended_unlock');
    expect(decide(at(london('10:00'), member(), { door })).effects).toContainEqual({ type: 'unlock', doorId: 'front', ms: 3000 });
  });

  it('on a site holiday the schedule\'s "hol" windows apply', () => {
    const weekdays = ['08:00-20:00'];
    const door: DoorPolicy = { ...frontDoor, schedule: { mon: weekdays, tue: weekdays, wed: weekdays, thu: weekdays, fri: weekdays, sat: [], sun: [], hol: ['10:00-14:00'] } };
    expect(decide(at(london('09:00'), member(), { door })).outcome).toBe('granted');
    expect(decide(at(london('09:00'), member(), { door, holiday: true })).reason).toBe('outside_schedule');
    expect(decide(at(london('11:00'), member(), { door, holiday: true })).outcome).toBe('granted');
  });
});

describe('Wi-Fi channel and the clock', () => {
  const member = (o: Partial<PersonFacts> = {}) => who({ person: o, entitlements: [ent({ id: 'plan', kind: 'plan' })] });
  it('a person not allowed network check-in is refused on the Wi-Fi, as a failed check-in', () => {
    const d = decide(at(london('10:00'), member({ networkCheckin: false }), { channel: 'wifi', door: null }));
    expect(d).toMatchObject({ outcome: 'denied', reason: 'network_checkin_not_allowed', checkin: 'failed' });
    expect(decide(at(london('10:00'), member({ networkCheckin: false }))).outcome).toBe('granted');
  });

  const cases = [
    { policy: 'trust', staff: false, outcome: 'granted' },
    { policy: 'always-allowed-only', staff: false, outcome: 'denied' },
    { policy: 'always-allowed-only', staff: true, outcome: 'granted' },
    { policy: 'deny', staff: true, outcome: 'denied' },
  ] as const;
  for (const c of cases) {
    it(`an unsynchronised clock under "${c.policy}" (${c.staff ? 'staff' : 'member'}): ${c.outcome}`, () => {
      const d = decide(at(london('10:00'), member({ alwaysAllowed: c.staff }), { clockTrusted: false, clockPolicy: c.policy }));
      expect(d.outcome).toBe(c.outcome);
      if (c.outcome === 'denied') expect(d.reason).toBe('clock_untrusted');
      else expect(d.flags).toContain('clock_untrusted');
    });
  }

  it('leaving is never refused for the clock', () => {
    const d = decide(at(london('10:00'), who({ session: true }), { mode: 'exit', clockTrusted: false, clockPolicy: 'deny' }));
    expect(d).toMatchObject({ outcome: 'granted', checkin: 'checked_out' });
  });
});
