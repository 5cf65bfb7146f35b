/**
 * Keypad codes through the real AccessPipeline: a real SQLite store with a
 * synced data set, the real journal, sim readers (the driver the demo uses).
 * Monotonic time and timers are faked so lockouts can expire in the test.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessPipeline, type AccessResult } from '../../daemon/access/access-pipeline.js';
import { createCodeSecurity, keypadSource, type CodeSecurity } from '../../daemon/access/code-security.js';
import type { ReaderConfig } from '../../daemon/config/schema.js';
import type { DuressScheme } from '../../daemon/engine/duress.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { Journal } from '../../daemon/store/journal.js';
import { CheckinSessions } from '../../daemon/store/sessions.js';
import { datasetSchema } from '../../daemon/sync/dataset.js';
import { accessEventSchema, alarmEventSchema, type AccessEvent, type AlarmEvent } from '../../daemon/uplink/payloads.js';
import { accessTopic, alarmTopic } from '../../daemon/uplink/topics.js';
import { SimReader } from '../../drivers/sim/sim-reader.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const plan = (personId: string) => [{ id: `${personId}-plan`, kind: 'plan', validFrom: '2020-01-01T00:00:00Z' }];
const dataset = datasetSchema.parse({
  schema: 'gatehouse.dataset/1',
  version: 1,
  people: [
    { id: 'ada', kind: 'member', name: 'Ada', status: 'active', credentials: [{ id: 'ada-pin', kind: 'pin', value: '24680' }, { id: 'ada-card', kind: 'card', value: '4614867' }], entitlements: plan('ada') },
    // Bob's real PIN is Ada's last-digit-plus-one duress code: the real PIN wins.
    { id: 'bob', kind: 'member', name: 'Bob', status: 'active', credentials: [{ id: 'bob-pin', kind: 'pin', value: '24681' }], entitlements: plan('bob') },
    { id: 'grace', kind: 'member', name: 'Grace', status: 'active', credentials: [{ id: 'grace-pin', kind: 'pin', value: '13579' }], entitlements: plan('grace') },
    // No pass: the duress code is denied like the PIN, and still raises the alarm.
    { id: 'alan', kind: 'contact', name: 'Alan', status: 'active', credentials: [{ id: 'alan-pin', kind: 'pin', value: '11235' }] },
    // The same PIN twice: ambiguous, a wrong code for the guard.
    { id: 'twin-1', kind: 'member', name: 'T1', status: 'active', credentials: [{ id: 't1-pin', kind: 'pin', value: '55555' }], entitlements: plan('twin-1') },
    { id: 'twin-2', kind: 'member', name: 'T2', status: 'active', credentials: [{ id: 't2-pin', kind: 'pin', value: '55555' }], entitlements: plan('twin-2') },
  ],
});
const WRONG = ['00000', '00001', '00002', '00003', '00004', '00005', '00006'];
const SECRETS = ['24680', '24681', '13579', '13570', '11235', '11236', '55555', '08642', ...WRONG];

const front: ReaderConfig = { id: 'front', driver: 'sim', mode: 'entry' };
const back: ReaderConfig = { id: 'back', driver: 'sim', mode: 'access-only' };

describe('keypad codes through the access pipeline', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let journal: Journal;
  let codes: CodeSecurity;
  let log: ReturnType<typeof memoryLogger>;
  let readers: Record<'front' | 'back', SimReader>;
  let results: { reader: string; result: AccessResult }[];

  async function setup(duress: DuressScheme = 'off'): Promise<void> {
    db = openDatabase(join(dir.path, 'g.db'));
    const hasher = new CredentialHasher(Buffer.alloc(32, 42));
    const cache = new CredentialCache(db, hasher);
    cache.applySnapshot(dataset, Date.now());
    journal = new Journal(db, 'boot-1');
    codes = createCodeSecurity(
      {
        keypad: { interDigitTimeoutMs: 5_000, maxDigits: 12, duress: { scheme: duress } },
        guessing: { attempts: 5, windowS: 600, lockoutS: 60, growthFactor: 2, maxLockoutS: 1_800, resetAfterS: 86_400 },
      },
      { siteId: 's1', gatewayId: 'gw1', topic: alarmTopic('gatehouse/v1', 'gw1'), journal, logger: log.logger },
    );
    const pipeline = new AccessPipeline({
      siteId: 's1',
      gatewayId: 'gw1',
      timezone: 'Europe/London',
      accessTopic: accessTopic('gatehouse/v1', 'gw1'),
      db,
      hasher,
      cache,
      sessions: new CheckinSessions(db),
      journal,
      doors: new Map(),
      logger: log.logger,
      codes,
    });
    readers = { front: new SimReader('front'), back: new SimReader('back') };
    for (const [config, driver] of [[front, readers.front], [back, readers.back]] as const) {
      await driver.open();
      pipeline.attach(config, driver);
    }
    pipeline.onDecision((result, reader) => results.push({ reader: reader.id, result }));
  }

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    dir = tempDir();
    log = memoryLogger();
    results = [];
  });
  afterEach(() => {
    codes.guard.close();
    db.close();
    dir.remove();
    vi.useRealTimers();
  });

  const keys = (reader: 'front' | 'back', text: string) => readers[reader].present({ kind: 'keystrokes', keys: new SecretValue(text) });
  const pin = (reader: 'front' | 'back', code: string) => readers[reader].present({ kind: 'keypad', code: new SecretValue(code) });
  const last = () => {
    const r = results.at(-1)?.result;
    return { outcome: r?.decision.outcome, reason: r?.decision.reason, person: r?.decision.person?.id ?? null, checkin: r?.decision.checkin };
  };
  const events = () => journal.recent(1_000).reverse();
  const alarms = (): AlarmEvent[] => events().filter((e) => e.type === 'alarm').map((e) => alarmEventSchema.parse(JSON.parse(e.payload)));
  const accesses = (): AccessEvent[] => events().filter((e) => e.type === 'access').map((e) => accessEventSchema.parse(JSON.parse(e.payload)));

  it('assembles keystrokes into a code and decides it like a whole-code keypad', async () => {
    await setup();
    for (const k of '24680#') keys('front', k);
    expect(last()).toEqual({ outcome: 'granted', reason: 'granted', person: 'ada', checkin: 'checked_in' });
    expect(readers.front.lastFeedback).toBe('granted');
    expect(accesses().at(-1)?.credential.kind).toBe('keypad');

    // '*' clears a mistake; a pause discards a half-typed code.
    keys('back', '999*13579#');
    expect(last()).toMatchObject({ outcome: 'granted', person: 'grace' });
    keys('back', '135');
    vi.advanceTimersByTime(5_000);
    keys('back', '79#');
    expect(last()).toMatchObject({ outcome: 'denied', reason: 'unknown_credential' });

    // A too-long entry is rejected at the reader without a decision.
    const decided = results.length;
    keys('back', '1234567890123#');
    expect(results).toHaveLength(decided);
    expect(readers.back.lastFeedback).toBe('denied');
  });

  it('locks a keypad out after 5 wrong codes: even the right PIN is refused, other sources and cards are not', async () => {
    await setup();
    for (const code of WRONG.slice(0, 4)) pin('front', code);
    expect(codes.guard.check(keypadSource('front')).locked).toBe(false);
    pin('front', WRONG[4]!);
    expect(codes.guard.check(keypadSource('front'))).toEqual({ locked: true, remainingMs: 60_000 });

    // The lockout start follows the access event of the fifth wrong code.
    const started = alarms();
    expect(started).toEqual([
      expect.objectContaining({ type: 'lockout_started', priority: 'normal', source: 'keypad:front', lockout: { durationS: 60, level: 1, failures: 5 } }),
    ]);
    expect(started[0]!.seq).toBe((accesses().at(-1)?.seq ?? 0) + 1);

    pin('front', '24680');
    expect(last()).toEqual({ outcome: 'denied', reason: 'locked_out', person: null, checkin: 'none' });
    expect(readers.front.lastFeedback).toBe('denied');
    expect(accesses().at(-1)).toMatchObject({ decision: { outcome: 'denied', reason: 'locked_out' }, person: null, credential: { kind: 'keypad' } });
    // Keystrokes are refused the same way.
    keys('front', '24680#');
    expect(last().reason).toBe('locked_out');

    // Another keypad, and cards at this one, are unaffected.
    pin('back', '24680');
    expect(last()).toMatchObject({ outcome: 'granted', person: 'ada' });
    readers.front.present({ kind: 'card', number: new SecretValue('4614867') });
    expect(last()).toMatchObject({ outcome: 'granted', person: 'ada' });

    // The end is journaled when it happens, and the right PIN works again.
    vi.advanceTimersByTime(59_999);
    expect(alarms()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(alarms().map((a) => [a.type, a.lockout?.durationS])).toEqual([
      ['lockout_started', 60],
      ['lockout_ended', 60],
    ]);
    pin('front', '24680');
    expect(last()).toMatchObject({ outcome: 'granted', person: 'ada' });

    // The next lockout in a row lasts twice as long; codes typed during it do not extend it.
    for (const code of WRONG.slice(0, 5)) pin('front', code);
    expect(alarms().at(-1)).toMatchObject({ type: 'lockout_started', lockout: { durationS: 120, level: 2 } });
    for (const code of WRONG) pin('front', code);
    vi.advanceTimersByTime(120_000);
    expect(alarms().at(-1)).toMatchObject({ type: 'lockout_ended', lockout: { durationS: 120, level: 2 } });
  });

  it('counts ambiguous codes as wrong, never card reads or known codes', async () => {
    await setup();
    for (let i = 0; i < 10; i++) readers.front.present({ kind: 'card', number: new SecretValue(String(900_000 + i)) });
    for (let i = 0; i < 10; i++) pin('front', '11235'); // Alan: known, denied no_valid_pass
    expect(last()).toMatchObject({ reason: 'no_valid_pass' });
    expect(codes.guard.check(keypadSource('front')).locked).toBe(false);
    for (let i = 0; i < 5; i++) pin('front', '55555');
    expect(results.at(-1)?.result.decision.reason).toBe('ambiguous_credential');
    expect(codes.guard.check(keypadSource('front')).locked).toBe(true);
  });

  it('the same guard serves other channels by source id', async () => {
    await setup();
    for (let i = 0; i < 5; i++) codes.guard.recordFailure('radius:ap-1');
    expect(codes.guard.check('radius:ap-1').locked).toBe(true);
    expect(codes.guard.check('kiosk:lobby').locked).toBe(false);
    pin('front', '24680');
    expect(last()).toMatchObject({ outcome: 'granted' });
    expect(alarms().map((a) => a.source)).toEqual(['radius:ap-1']);
  });

  it('duress (last-digit-plus-one): grants like the PIN and raises a silent alarm', async () => {
    await setup('last-digit-plus-one');
    keys('front', '13570#');
    expect(last()).toEqual({ outcome: 'granted', reason: 'granted', person: 'grace', checkin: 'checked_in' });
    expect(readers.front.lastFeedback).toBe('granted');
    const access = accesses().at(-1)!;
    expect(access.decision).toEqual({ outcome: 'granted', reason: 'granted' });
    expect(alarms()).toEqual([
      expect.objectContaining({
        type: 'duress',
        priority: 'high',
        source: 'keypad:front',
        readerId: 'front',
        person: { id: 'grace', kind: 'member' },
        accessEventId: access.eventId,
        lockout: null,
      }),
    ]);
    // Not a wrong code.
    expect(codes.guard.locked()).toEqual([]);

    // Without a pass the duress code is denied like the PIN, and the alarm still goes out.
    pin('back', '11236');
    expect(last()).toMatchObject({ outcome: 'denied', reason: 'no_valid_pass', person: 'alan' });
    expect(alarms().at(-1)).toMatchObject({ type: 'duress', person: { id: 'alan' } });
  });

  it('duress: a variant equal to another person\'s real PIN is that PIN, without an alarm', async () => {
    await setup('last-digit-plus-one');
    pin('front', '24681');
    expect(last()).toMatchObject({ outcome: 'granted', person: 'bob' });
    expect(alarms()).toEqual([]);
    // Ada's own PIN is untouched.
    pin('back', '24680');
    expect(last()).toMatchObject({ outcome: 'granted', person: 'ada' });
  });

  it('duress (reverse), and off: no variant is accepted', async () => {
    await setup('reverse');
    pin('front', '08642');
    expect(last()).toMatchObject({ outcome: 'granted', person: 'ada' });
    expect(alarms().map((a) => a.type)).toEqual(['duress']);
    db.close();
    codes.guard.close();
    dir.remove();
    dir = tempDir();
    results = [];
    await setup('off');
    pin('front', '08642');
    expect(last()).toMatchObject({ outcome: 'denied', reason: 'unknown_credential' });
    expect(alarms()).toEqual([]);
  });

  it('a locked-out keypad refuses duress codes too (no lookup at all)', async () => {
    await setup('last-digit-plus-one');
    for (const code of WRONG.slice(0, 5)) pin('front', code);
    pin('front', '13570');
    expect(last()).toMatchObject({ reason: 'locked_out', person: null });
    expect(alarms().map((a) => a.type)).toEqual(['lockout_started']);
  });

  it('never writes a code to the log or the journal', async () => {
    await setup('last-digit-plus-one');
    keys('front', '24680#13570#1357');
    vi.advanceTimersByTime(5_000);
    for (const code of WRONG.slice(0, 5)) keys('back', `${code}#`);
    keys('back', '55555#');
    vi.advanceTimersByTime(60_000);
    // pino's "time" (epoch ms) and "pid" are the only runs of digits that are not ours: drop them.
    const logText = log.lines.map((line) => line.replace(/"(time|pid)":\d+,/g, '')).join('\n');
    const text = [logText, ...events().map((e) => e.payload)].join('\n');
    expect(alarms().map((a) => a.type)).toEqual(['duress', 'lockout_started', 'lockout_ended']);
    expect(log.lines.filter((l) => /duress code used|locked out|access decision/.test(l)).length).toBeGreaterThan(5);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });
});
