/**
 * Policy rules that need state, through the real AccessPipeline on a real
 * SQLite file: visitor-token starts that survive a restart, time-pass minutes
 * consumed locally, plan limits across a month boundary, the daily cut-off,
 * credential conflicts, anti-passback presence, occupancy per area and a
 * wall-clock jump.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessPipeline, AccessSource } from '../../daemon/access/access-pipeline.js';
import { AutoCheckout, lastCutoff } from '../../daemon/access/auto-checkout.js';
import { ConflictReporter } from '../../daemon/access/conflict-reporter.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import type { CredentialCache } from '../../daemon/store/cache.js';
import type { Db } from '../../daemon/store/database.js';
import type { Journal } from '../../daemon/store/journal.js';
import type { CheckinSessions } from '../../daemon/store/sessions.js';
import { datasetSchema, type DatasetInput } from '../../daemon/sync/dataset.js';
import { checkoutEventSchema, conflictReportSchema } from '../../daemon/uplink/payloads.js';
import { gatewayTopic } from '../../daemon/uplink/topics.js';
import { openPipelineStore } from '../support/pipeline-store.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const london = (hhmm: string, day = '2026-11-23') => Date.parse(`${day}T${hhmm}:00Z`);
const MIN = 60_000;

const people: DatasetInput['people'] = [
  {
    id: 'ada',
    kind: 'member',
    name: 'Ada',
    status: 'active',
    credentials: [{ id: 'ada-pin', kind: 'pin', value: '24680' }],
    entitlements: [{ id: 'ada-plan', kind: 'plan', validFrom: '2026-01-01T00:00:00Z', monthlyCheckins: 3, monthlyHours: null }],
    // The cloud counted 2 check-ins this month up to 09:00 on the 23rd.
    usage: { periodStart: '2026-11-01T00:00:00Z', checkins: 2, minutes: 300, asOf: '2026-11-23T09:00:00Z' },
  },
  {
    id: 'vic',
    kind: 'visitor',
    name: 'Vic',
    status: 'active',
    credentials: [{ id: 'vic-code', kind: 'visitor_code', value: '13579' }],
    entitlements: [{ id: 'vic-token', kind: 'visitor_token', validFrom: '2026-11-23T00:00:00Z', validTo: '2026-11-24T00:00:00Z' }],
  },
  {
    id: 'tim',
    kind: 'contact',
    name: 'Tim',
    status: 'active',
    credentials: [{ id: 'tim-pin', kind: 'pin', value: '11235' }],
    entitlements: [{ id: 'tim-10h', kind: 'time_pass', minutesLeft: 60 }],
  },
  // Two people with one PIN: a conflict.
  { id: 'x1', kind: 'member', name: 'X1', status: 'active', credentials: [{ id: 'x1-pin', kind: 'pin', value: '55555' }], entitlements: [{ id: 'x1-p', kind: 'plan' }] },
  { id: 'x2', kind: 'visitor', name: 'X2', status: 'active', credentials: [{ id: 'x2-code', kind: 'visitor_code', value: '55555' }], entitlements: [{ id: 'x2-t', kind: 'visitor_token' }] },
];

const settings = { visitorTokenMinutes: 120, visitorTokenStart: 'first-checkin', dailyCutoff: '22:00' } as const;

describe('stateful policy through the pipeline and a real store', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let now: number;
  let cache: CredentialCache;
  let sessions: CheckinSessions;
  let journal: Journal;
  let pipeline: AccessPipeline;
  const log = memoryLogger();

  function open(): void {
    ({ db, cache, sessions, journal, pipeline } = openPipelineStore(dir.path, log.logger, {
      pipeline: { now: () => now, areas: { main: { antiPassback: 'hard', timedS: 300 } } },
    }));
  }

  beforeEach(() => {
    dir = tempDir();
    open();
    cache.applySnapshot(datasetSchema.parse({ schema: 'gatehouse.dataset/1', version: 1, settings, people }), london('08:00'));
  });
  afterEach(() => {
    db.close();
    dir.remove();
  });

  const entry: AccessSource = { id: 'lobby', channel: 'door', mode: 'entry', doorId: null, area: null, driver: 'sim' };
  const exit: AccessSource = { ...entry, id: 'lobby-out', mode: 'exit' };
  const pin = (source: AccessSource, code: string, when: number) => {
    now = when;
    return pipeline.present(source, { kind: 'keypad', code: new SecretValue(code) }).decision;
  };

  it('a visitor token started at the first check-in keeps its start across a restart', () => {
    expect(pin(entry, '13579', london('13:00'))).toMatchObject({ outcome: 'granted', validUntil: london('15:00') });
    pin(exit, '13579', london('13:30'));
    db.close();
    open();
    expect(pin(entry, '13579', london('14:30'))).toMatchObject({ outcome: 'granted', validUntil: london('15:00') });
    pin(exit, '13579', london('14:40'));
    expect(pin(entry, '13579', london('15:01'))).toMatchObject({ outcome: 'denied', reason: 'no_valid_pass', checkin: 'failed' });
  });

  it('a time pass loses the minutes checked in on it, offline', () => {
    expect(pin(entry, '11235', london('10:00')).validUntil).toBe(london('11:00'));
    pin(exit, '11235', london('10:40'));
    // 40 of 60 minutes used: 20 left.
    expect(pin(entry, '11235', london('12:00')).validUntil).toBe(london('12:20'));
    expect(pin(exit, '11235', london('12:25')).outcome).toBe('granted');
    expect(pin(entry, '11235', london('13:00'))).toMatchObject({ outcome: 'denied', reason: 'no_valid_pass' });
  });

  it('plan limits count the cloud\'s counters plus local check-ins since, and start again with the month', () => {
    // 2 counted by the cloud + this one = 3 of 3.
    expect(pin(entry, '24680', london('10:00')).outcome).toBe('granted');
    pin(exit, '24680', london('11:00'));
    expect(pin(entry, '24680', london('12:00'))).toMatchObject({ outcome: 'denied', reason: 'plan_limit_reached', checkin: 'failed' });
    // 1 December: November's counters no longer count.
    expect(pin(entry, '24680', london('09:00', '2026-12-01')).outcome).toBe('granted');
  });

  it('the daily cut-off checks everyone out at the cut-off time, also after the gateway was off', () => {
    pin(entry, '24680', london('10:00'));
    pin(entry, '11235', london('10:05'));
    const auto = new AutoCheckout({
      siteId: 's', gatewayId: 'gw', timezone: 'Europe/London', topic: gatewayTopic('gatehouse/v1', 'gw', 'events/checkout'),
      db, cache, sessions, journal, logger: log.logger, now: () => now,
    });
    expect(auto.runCutoff(london('21:59'))).toBe(0);
    // The gateway comes back the next morning: the sessions end at 22:00 the day before.
    expect(auto.runCutoff(london('07:00', '2026-11-24'))).toBe(2);
    expect(sessions.openSessions()).toEqual([]);
    const checkouts = journal.recent(10).filter((e) => e.type === 'checkout').map((e) => checkoutEventSchema.parse(JSON.parse(e.payload)));
    expect(checkouts.map((c) => [c.person.id, c.ts, c.reason]).sort()).toEqual([
      ['ada', '2026-11-23T22:00:00.000Z', 'daily_cutoff'],
      ['tim', '2026-11-23T22:00:00.000Z', 'daily_cutoff'],
    ]);
    expect(auto.runCutoff(london('07:01', '2026-11-24'))).toBe(0);
  });

  it('the latest cut-off is found in the site zone, DST included', () => {
    expect(lastCutoff(Date.parse('2026-07-01T20:59:00Z'), '22:00', 'Europe/London')).toBe(Date.parse('2026-06-30T21:00:00Z'));
    expect(lastCutoff(Date.parse('2026-07-01T21:00:00Z'), '22:00', 'Europe/London')).toBe(Date.parse('2026-07-01T21:00:00Z'));
    expect(lastCutoff(Date.parse('2026-07-01T21:00:00Z'), null, 'Europe/London')).toBeNull();
  });

  it('a cut-off the clocks skip falls when they jump past it; one they repeat falls the first time', () => {
    // Santiago, 6 Sep 2026: 00:00 -04 becomes 01:00 -03. A 00:30 cut-off falls at the jump, not at 23:30 the evening before.
    expect(lastCutoff(Date.parse('2026-09-06T03:59:59Z'), '00:30', 'America/Santiago')).toBe(Date.parse('2026-09-05T04:30:00Z'));
    expect(lastCutoff(Date.parse('2026-09-06T04:00:00Z'), '00:30', 'America/Santiago')).toBe(Date.parse('2026-09-06T04:00:00Z'));
    // New York, 8 Mar 2026: there is no 02:30; the cut-off falls at 03:00 EDT, not at 01:30 EST.
    expect(lastCutoff(Date.parse('2026-03-08T06:59:00Z'), '02:30', 'America/New_York')).toBe(Date.parse('2026-03-07T07:30:00Z'));
    expect(lastCutoff(Date.parse('2026-03-08T07:00:00Z'), '02:30', 'America/New_York')).toBe(Date.parse('2026-03-08T07:00:00Z'));
    // Havana, 1 Nov 2026: 00:30 comes twice (-04, then -05). The first is the cut-off; the second makes no other.
    expect(lastCutoff(Date.parse('2026-11-01T04:30:00Z'), '00:30', 'America/Havana')).toBe(Date.parse('2026-11-01T04:30:00Z'));
    expect(lastCutoff(Date.parse('2026-11-01T05:45:00Z'), '00:30', 'America/Havana')).toBe(Date.parse('2026-11-01T04:30:00Z'));
  });

  it('a PIN shared with a visitor code is refused to both and reported once, by id, never by value', () => {
    expect(pin(entry, '55555', london('10:00'))).toMatchObject({ outcome: 'denied', reason: 'ambiguous_credential', person: null });
    const reporter = new ConflictReporter({ db, cache, journal, topic: gatewayTopic('gatehouse/v1', 'gw', 'events/conflicts'), siteId: 's', gatewayId: 'gw', logger: log.logger });
    reporter.check(london('10:00'));
    reporter.check(london('10:01'));
    const reports = journal.recent(50).filter((e) => e.type === 'conflicts').map((e) => conflictReportSchema.parse(JSON.parse(e.payload)));
    expect(reports).toHaveLength(1);
    expect(reports[0]?.conflicts).toEqual([
      { namespace: 'code', fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/) as string, personIds: ['x1', 'x2'], credentialIds: ['x1-pin', 'x2-code'] },
    ]);
    expect(JSON.stringify(reports)).not.toContain('55555');
    // Fixed by the next sync: an empty report says the conflict is gone.
    cache.applySnapshot(datasetSchema.parse({ schema: 'gatehouse.dataset/1', version: 2, settings, people: people.filter((p) => p.id !== 'x2') }), london('11:00'));
    reporter.check(london('11:00'));
    const last = journal.recent(1)[0];
    expect(conflictReportSchema.parse(JSON.parse(last?.payload ?? '{}')).conflicts).toEqual([]);
  });

  it('anti-passback presence is kept in the store, and occupancy is counted per area', () => {
    const into: AccessSource = { ...entry, id: 'main-in', area: 'main' };
    const outOf: AccessSource = { ...exit, id: 'main-out', area: 'main' };
    expect(pin(into, '13579', london('10:00')).outcome).toBe('granted');
    expect(sessions.occupancyByArea()).toEqual([{ area: 'main', count: 1 }]);
    db.close();
    open();
    // Passed back without leaving: refused (hard), and no failed check-in.
    expect(pin(into, '13579', london('10:05'))).toMatchObject({ outcome: 'denied', reason: 'anti_passback', checkin: 'none' });
    expect(pin(outOf, '13579', london('10:10')).outcome).toBe('granted');
    expect(pin(into, '13579', london('10:15')).outcome).toBe('granted');
  });

  it('a wall-clock jump moves token starts with it: the token keeps the time it had left', () => {
    pin(entry, '13579', london('13:00'));
    // NTP steps the clock forward by an hour at 13:30 (true time): the token must still end 90 minutes later.
    const jump = 60 * MIN;
    expect(sessions.shiftEntitlementStarts(jump, london('13:30') + jump)).toBe(1);
    pin(exit, '13579', london('13:30') + jump);
    expect(pin(entry, '13579', london('14:59') + jump)).toMatchObject({ outcome: 'granted', validUntil: london('15:00') + jump });
  });
});
