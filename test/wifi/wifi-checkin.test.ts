/**
 * Wi-Fi check-in end to end against the real FreeRADIUS client (radclient):
 * a real SQLite store with a synced data set, the real AccessPipeline,
 * journal and AutoCheckout, the RADIUS server on free UDP ports of 127.0.0.1.
 * The wall clock and the monotonic clock are the test's, so inactivity can be
 * driven (and a wall-clock jump shown to change nothing).
 */
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessPipeline } from '../../daemon/access/access-pipeline.js';
import { AutoCheckout } from '../../daemon/access/auto-checkout.js';
import { createCodeSecurity, type CodeSecurity } from '../../daemon/access/code-security.js';
import type { RadiusConfig } from '../../daemon/config/schema.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { Journal } from '../../daemon/store/journal.js';
import { CheckinSessions } from '../../daemon/store/sessions.js';
import { datasetSchema } from '../../daemon/sync/dataset.js';
import { accessEventSchema, checkoutEventSchema, type AccessEvent, type CheckoutEvent } from '../../daemon/uplink/payloads.js';
import { accessTopic, alarmTopic } from '../../daemon/uplink/topics.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import { hidePassword, signRequest } from '../../daemon/wifi/radius-auth.js';
import { Attr, RadiusCode, decodePacket, encodePacket, textValue } from '../../daemon/wifi/radius-packet.js';
import { WifiService } from '../../daemon/wifi/wifi-service.js';
import { radclient, type RadclientResult } from '../support/radclient.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { fcOptions } from '../support/fast-check.js';

const SECRET = 'wifi-controller-shared-secret-1';
const START = Date.parse('2026-03-10T10:00:00Z');
const plan = (id: string) => [{ id: `${id}-plan`, kind: 'plan', validFrom: '2020-01-01T00:00:00Z' }];
const dataset = datasetSchema.parse({
  schema: 'gatehouse.dataset/1',
  version: 1,
  settings: { visitorTokenMinutes: 120, visitorTokenStart: 'first-checkin', deviceLimit: 2, wifiIdleMinutes: 15 },
  people: [
    { id: 'ada', kind: 'member', name: 'Ada', status: 'active', email: 'ada@example.org', credentials: [{ id: 'ada-pin', kind: 'pin', value: '24680' }], entitlements: plan('ada') },
    { id: 'grace', kind: 'member', name: 'Grace', status: 'active', email: 'grace@example.org', deviceLimit: 1, credentials: [{ id: 'grace-pin', kind: 'pin', value: '13579' }], entitlements: plan('grace') },
    { id: 'alan', kind: 'contact', name: 'Alan', status: 'active', email: 'alan@example.org', credentials: [{ id: 'alan-pin', kind: 'pin', value: '11235' }] },
    { id: 'nora', kind: 'member', name: 'Nora', status: 'active', email: 'nora@example.org', networkCheckin: false, credentials: [{ id: 'nora-pin', kind: 'pin', value: '31415' }], entitlements: plan('nora') },
    { id: 'vera', kind: 'visitor', name: 'Vera', status: 'active', email: 'vera@example.org', credentials: [{ id: 'vera-code', kind: 'visitor_code', value: '57721' }], entitlements: [{ id: 'vera-token', kind: 'visitor_token' }] },
  ],
});
const CODES = ['24680', '13579', '11235', '31415', '57721', '99999', '00000', '00001', '00002', '00003', '00004', '00005'];

const MAC = { a: 'AA-BB-CC-00-00-01', b: 'AA-BB-CC-00-00-02', c: 'AA-BB-CC-00-00-03', d: 'AA-BB-CC-00-00-04' };

describe('Wi-Fi check-in through the RADIUS server (real radclient)', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let journal: Journal;
  let codes: CodeSecurity;
  let wifi: WifiService;
  let log: ReturnType<typeof memoryLogger>;
  let sessions: CheckinSessions;
  let pipeline: AccessPipeline;
  let wall: number;
  let mono: number;

  async function setup(overrides: Partial<RadiusConfig> = {}): Promise<void> {
    db = openDatabase(join(dir.path, 'g.db'));
    const hasher = new CredentialHasher(Buffer.alloc(32, 42));
    const cache = new CredentialCache(db, hasher);
    cache.applySnapshot(dataset, START);
    journal = new Journal(db, 'boot-1');
    sessions = new CheckinSessions(db);
    const guessing = { attempts: 5, windowS: 600, lockoutS: 60, growthFactor: 2, maxLockoutS: 1_800, resetAfterS: 86_400 };
    codes = createCodeSecurity(
      { keypad: { interDigitTimeoutMs: 5_000, maxDigits: 12, duress: { scheme: 'off' } }, guessing },
      { siteId: 's1', gatewayId: 'gw1', topic: alarmTopic('gatehouse/v1', 'gw1'), journal, logger: log.logger },
    );
    const now = () => wall;
    pipeline = new AccessPipeline({
      siteId: 's1',
      gatewayId: 'gw1',
      timezone: 'Europe/London',
      accessTopic: accessTopic('gatehouse/v1', 'gw1'),
      db,
      hasher,
      cache,
      sessions,
      journal,
      doors: new Map(),
      logger: log.logger,
      codes,
      now,
    });
    const autoCheckout = new AutoCheckout({ siteId: 's1', gatewayId: 'gw1', timezone: 'Europe/London', topic: 'gatehouse/v1/gw1/events/checkout', db, cache, sessions, journal, logger: log.logger, now });
    const config: RadiusConfig = {
      host: '127.0.0.1',
      authPort: 0,
      acctPort: 0,
      clients: [{ name: 'unifi', address: '127.0.0.0/8' }],
      checkInOn: 'accounting-start',
      duplicateWindowS: 30,
      maxSessionTimeoutS: 86_400,
      perClient: { ratePerS: 1_000, burst: 1_000 },
      perUser: { ratePerS: 1, burst: 20 },
      idleCheckS: 5,
      ...overrides,
    };
    wifi = new WifiService({
      config,
      secrets: { unifi: SECRET },
      guessing: { attempts: 5, windowMs: 600_000, lockoutMs: 60_000, growthFactor: 2, maxLockoutMs: 1_800_000, resetAfterMs: 86_400_000 },
      db,
      pipeline,
      cache,
      hasher,
      sessions,
      autoCheckout,
      timezone: 'Europe/London',
      logger: log.logger,
      now,
      monotonic: () => mono,
    });
    await wifi.start();
  }

  beforeEach(() => {
    dir = tempDir();
    log = memoryLogger();
    wall = START;
    mono = 1_000_000;
  });
  async function teardown(): Promise<void> {
    await wifi.stop();
    codes.guard.close();
    db.close();
  }
  afterEach(async () => {
    await teardown();
    dir.remove();
  });

  const auth = (email: string, code: string, mac: string | null, options: { secret?: string; messageAuthenticator?: boolean } = {}): Promise<RadclientResult> =>
    radclient({
      port: wifi.server.ports().authPort,
      service: 'auth',
      secret: options.secret ?? SECRET,
      dir: dir.path,
      attributes: [
        `User-Name = "${email}"`,
        `User-Password = "${code}"`,
        ...(mac === null ? [] : [`Calling-Station-Id = "${mac}"`]),
        'NAS-Identifier = "unifi-ap-lobby"',
        ...(options.messageAuthenticator === false ? [] : ['Message-Authenticator = 0x00']),
      ],
    });
  const acct = (status: 'Start' | 'Interim-Update' | 'Stop', email: string, mac: string, sessionId: string): Promise<RadclientResult> =>
    radclient({
      port: wifi.server.ports().acctPort,
      service: 'acct',
      secret: SECRET,
      dir: dir.path,
      attributes: [`Acct-Status-Type = ${status}`, `User-Name = "${email}"`, `Calling-Station-Id = "${mac}"`, `Acct-Session-Id = "${sessionId}"`, 'Acct-Input-Octets = 1000'],
    });
  const connect = async (email: string, code: string, mac: string, sessionId: string): Promise<RadclientResult> => {
    const reply = await auth(email, code, mac);
    if (reply.reply === 'Access-Accept') expect((await acct('Start', email, mac, sessionId)).reply).toBe('Accounting-Response');
    return reply;
  };
  const eventsOf = <T,>(type: string, schema: { parse(value: unknown): T }): T[] =>
    journal
      .recent(1_000)
      .reverse()
      .filter((e) => e.type === type)
      .map((e) => schema.parse(JSON.parse(e.payload)));
  const accesses = (): AccessEvent[] => eventsOf('access', accessEventSchema);
  const checkouts = (): CheckoutEvent[] => eventsOf('checkout', checkoutEventSchema);

  it('accepts a member with Session-Timeout, Idle-Timeout and Message-Authenticator first; checks in on Accounting-Start', async () => {
    await setup();
    const reply = await auth('Ada@Example.org', '24680', MAC.a);
    expect(reply.reply).toBe('Access-Accept');
    expect(reply.output).not.toMatch(/verification failed/i);
    expect(Object.keys(reply.attributes)[0]).toBe('Message-Authenticator');
    expect(reply.attributes['Idle-Timeout']).toEqual(['900']);
    expect(reply.attributes['Acct-Interim-Interval']).toEqual(['300']);
    // An open-ended plan and no daily cut-off: the configured cap.
    expect(reply.attributes['Session-Timeout']).toEqual(['86400']);
    // Accepted, not yet connected: nobody is in and nothing is journaled.
    expect(sessions.openSessionOf('ada')).toBeNull();
    expect(accesses()).toHaveLength(0);

    wall += 3_000;
    expect((await acct('Start', 'ada@example.org', MAC.a, 'sess-1')).reply).toBe('Accounting-Response');
    const session = sessions.openSessionOf('ada');
    expect(session).toMatchObject({ source: 'radius', openedAt: START + 3_000 });
    const [event] = accesses();
    expect(event).toMatchObject({
      channel: 'wifi',
      readerId: 'wifi:unifi/aa:bb:cc:00:00:01',
      doorId: null,
      person: { id: 'ada', kind: 'member' },
      decision: { outcome: 'granted', reason: 'granted' },
      checkin: 'checked_in',
      sessionId: session?.id,
      unlockMs: 0,
      credential: { kind: 'keypad' },
    });
    expect(wifi.devices.openMacsOf('ada')).toEqual(['aa:bb:cc:00:00:01']);
    // A second Start for the same device session checks nobody in twice.
    expect((await acct('Start', 'ada@example.org', MAC.a, 'sess-1')).reply).toBe('Accounting-Response');
    expect(accesses()).toHaveLength(1);
  });

  it("a visitor token's Session-Timeout is its remaining validity, and the token starts at the first check-in", async () => {
    await setup();
    const reply = await connect('vera@example.org', '57721', MAC.a, 'v-1');
    expect(reply.reply).toBe('Access-Accept');
    expect(reply.attributes['Session-Timeout']).toEqual(['7200']);
    expect(accesses().at(-1)).toMatchObject({ person: { id: 'vera', kind: 'visitor' }, checkin: 'checked_in' });
    // Signing in again an hour later: an hour left.
    wall += 3_600_000;
    const again = await auth('vera@example.org', '57721', MAC.a);
    expect(again.attributes['Session-Timeout']).toEqual(['3600']);
  });

  it('rejects with a Reply-Message that says why; failed check-ins of known people are journaled', async () => {
    await setup();
    const cases: [string, string, string, RegExp, AccessEvent['decision']['reason'], AccessEvent['checkin']][] = [
      ['alan@example.org', '11235', MAC.a, /no valid pass or access token/, 'no_valid_pass', 'failed'],
      ['nora@example.org', '31415', MAC.b, /may not check in through the Wi-Fi/, 'network_checkin_not_allowed', 'failed'],
      // Ada's PIN with Grace's email: the code is Ada's, the email is not hers.
      ['grace@example.org', '24680', MAC.c, /email address or the code is not right/, 'unknown_credential', 'none'],
    ];
    for (const [email, code, mac, message, reason, checkin] of cases) {
      const reply = await auth(email, code, mac);
      expect(reply.reply).toBe('Access-Reject');
      expect(Object.keys(reply.attributes)[0]).toBe('Message-Authenticator');
      expect(reply.attributes['Reply-Message']?.[0]).toMatch(message);
      expect(accesses().at(-1)).toMatchObject({ channel: 'wifi', decision: { outcome: 'denied', reason }, checkin });
    }
    expect(accesses().map((e) => e.person?.id ?? null)).toEqual(['alan', 'nora', null]);
    expect(sessions.openSessions()).toHaveLength(0);
  });

  it('drops requests with a wrong secret or without Message-Authenticator, and from unknown clients (radclient times out)', async () => {
    await setup();
    const wrong = await auth('ada@example.org', '24680', MAC.a, { secret: 'not-the-right-secret-at-all' });
    expect(wrong.reply).toBeNull();
    expect(wrong.output).toMatch(/No reply from server/);
    const bare = await auth('ada@example.org', '24680', MAC.a, { messageAuthenticator: false });
    expect(bare.reply).toBeNull();
    const counters = wifi.server.counters();
    // radclient -r 1 sends each once: dropped and counted.
    expect(counters.dropped).toMatchObject({ bad_message_authenticator: 1, missing_message_authenticator: 1 });
    expect(counters.answered).toBe(0);
    expect(accesses()).toHaveLength(0);
    const reasons = log.lines.filter((l) => l.includes('RADIUS request dropped')).map((l) => (JSON.parse(l) as { reason: string }).reason);
    expect(new Set(reasons)).toEqual(new Set(['bad_message_authenticator', 'missing_message_authenticator']));

    await teardown();
    await setup({ clients: [{ name: 'unifi', address: '10.9.9.0/24' }] });
    expect((await auth('ada@example.org', '24680', MAC.a)).reply).toBeNull();
    expect(wifi.server.counters().dropped).toMatchObject({ unknown_client: 1 });
  });

  it('answers a retransmitted Access-Request from the cache without deciding it again', async () => {
    await setup();
    const secret = new SecretValue(SECRET);
    const request = {
      code: RadiusCode.AccessRequest,
      identifier: 7,
      authenticator: Buffer.alloc(16, 5),
      attributes: [textValue(Attr.UserName, 'alan@example.org'), { type: Attr.UserPassword, value: hidePassword(Buffer.from('11235'), secret, Buffer.alloc(16, 5)) }, textValue(Attr.CallingStationId, MAC.a)],
    };
    const bytes = signRequest(request, secret);
    const socket = createSocket('udp4');
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const send = () => new Promise<void>((resolve) => socket.send(bytes, wifi.server.ports().authPort, '127.0.0.1', () => resolve()));
    const waitFor = async (n: number) => {
      while (replies.length < n) await new Promise((r) => setTimeout(r, 10));
    };
    await send();
    await waitFor(1);
    await send();
    await waitFor(2);
    socket.close();
    expect(replies[1]?.equals(replies[0] ?? Buffer.alloc(0))).toBe(true);
    expect(decodePacket(replies[0] ?? Buffer.alloc(0)).code).toBe(RadiusCode.AccessReject);
    expect(wifi.server.counters().duplicates).toBe(1);
    expect(accesses()).toHaveLength(1);
  });

  it('enforces the device limit: a new MAC beyond it is rejected, a connected one may reconnect, a stopped one frees its place', async () => {
    await setup();
    // Ada: site default of 2 devices.
    expect((await connect('ada@example.org', '24680', MAC.a, 'a-1')).reply).toBe('Access-Accept');
    expect((await connect('ada@example.org', '24680', MAC.b, 'a-2')).reply).toBe('Access-Accept');
    const third = await auth('ada@example.org', '24680', MAC.c);
    expect(third.reply).toBe('Access-Reject');
    expect(third.attributes['Reply-Message']?.[0]).toMatch(/maximum number of connected devices/);
    expect(accesses().at(-1)).toMatchObject({ person: { id: 'ada' }, decision: { outcome: 'denied', reason: 'device_limit_reached' }, checkin: 'none' });
    // Reconnecting (roaming) device: still fine.
    expect((await auth('ada@example.org', '24680', MAC.b)).reply).toBe('Access-Accept');
    // One device leaves: the third may come on.
    expect((await acct('Stop', 'ada@example.org', MAC.a, 'a-1')).reply).toBe('Accounting-Response');
    expect((await auth('ada@example.org', '24680', MAC.c)).reply).toBe('Access-Accept');
    // Only the first device checked Ada in.
    expect(accesses().filter((e) => e.checkin === 'checked_in')).toHaveLength(1);

    // Grace's own limit of 1 overrides the site's 2; an accepted but not yet connected device counts.
    expect((await auth('grace@example.org', '13579', MAC.a)).reply).toBe('Access-Accept');
    const second = await auth('grace@example.org', '13579', MAC.d);
    expect(second.reply).toBe('Access-Reject');
    expect(accesses().at(-1)).toMatchObject({ person: { id: 'grace' }, decision: { reason: 'device_limit_reached' }, checkin: 'failed' });
  });

  it('accounting: Interim-Update is activity, Stop closes the device; no activity for 15 minutes checks out (monotonic clock)', async () => {
    await setup();
    await connect('ada@example.org', '24680', MAC.a, 'a-1');
    expect(sessions.openSessionOf('ada')).not.toBeNull();

    // Ten minutes, an interim update, ten more: still in (20 minutes since Start, 10 since activity).
    mono += 10 * 60_000;
    wall += 10 * 60_000;
    expect((await acct('Interim-Update', 'ada@example.org', MAC.a, 'a-1')).reply).toBe('Accounting-Response');
    mono += 10 * 60_000;
    wall += 10 * 60_000;
    expect(wifi.tick()).toBe(0);
    // The wall clock jumps a day ahead: the monotonic clock did not move, nobody is checked out.
    wall += 86_400_000;
    expect(wifi.tick()).toBe(0);
    wall -= 86_400_000;

    expect((await acct('Stop', 'ada@example.org', MAC.a, 'a-1')).reply).toBe('Accounting-Response');
    expect(wifi.devices.openMacsOf('ada')).toEqual([]);
    mono += 14 * 60_000;
    expect(wifi.tick()).toBe(0);
    expect(sessions.openSessionOf('ada')).not.toBeNull();
    mono += 60_000;
    wall += 15 * 60_000;
    expect(wifi.tick()).toBe(1);
    expect(sessions.openSessionOf('ada')).toBeNull();
    expect(checkouts()).toEqual([expect.objectContaining({ person: { id: 'ada' }, reason: 'inactivity', ts: new Date(wall).toISOString() })]);
  });

  it('a device that goes silent without a Stop also ends in a check-out; a door check-in is never checked out by the Wi-Fi', async () => {
    await setup();
    await connect('ada@example.org', '24680', MAC.a, 'a-1');
    // Grace checked in at a door keypad, then joins the Wi-Fi: no second check-in.
    pipeline.present({ id: 'front', channel: 'door', mode: 'entry', doorId: null, area: null, driver: 'sim' }, { kind: 'keypad', code: new SecretValue('13579') });
    expect((await connect('grace@example.org', '13579', MAC.b, 'g-1')).reply).toBe('Access-Accept');
    expect(accesses().filter((e) => e.checkin === 'checked_in').map((e) => e.readerId)).toEqual(['wifi:unifi/aa:bb:cc:00:00:01', 'front']);
    mono += 15 * 60_000;
    expect(wifi.tick()).toBe(1);
    expect(wifi.devices.openMacsOf('ada')).toEqual([]);
    expect(wifi.devices.openMacsOf('grace')).toEqual([]);
    expect(checkouts().map((c) => c.person.id)).toEqual(['ada']);
    expect(sessions.openSessionOf('grace')).toMatchObject({ readerId: 'front' });
  });

  it('checkInOn access-accept: the check-in is journaled with the Access-Accept', async () => {
    await setup({ checkInOn: 'access-accept' });
    expect((await auth('ada@example.org', '24680', MAC.a)).reply).toBe('Access-Accept');
    expect(accesses().at(-1)).toMatchObject({ person: { id: 'ada' }, checkin: 'checked_in' });
    expect((await acct('Start', 'ada@example.org', MAC.a, 'a-1')).reply).toBe('Accounting-Response');
    expect(accesses()).toHaveLength(1);
    expect(wifi.devices.openMacsOf('ada')).toEqual(['aa:bb:cc:00:00:01']);
  });

  it('wrong codes lock out the device (shared keypad guard) and the user (per-user guard); no code or secret in any log', async () => {
    await setup();
    for (const code of ['00000', '00001', '00002', '00003', '00004']) expect((await auth('ada@example.org', code, MAC.a)).reply).toBe('Access-Reject');
    expect(codes.guard.check('wifi:unifi/aa:bb:cc:00:00:01').locked).toBe(true);
    expect(wifi.userGuard.locked().map((l) => l.source)).toEqual([expect.stringMatching(/^wifi-user:[0-9a-f]{8}$/)]);
    // Even the right PIN is refused now.
    const locked = await auth('ada@example.org', '24680', MAC.a);
    expect(locked.attributes['Reply-Message']?.[0]).toMatch(/Too many wrong codes/);
    // Another device of the same user: the per-user guard has counted the 5 wrong codes too.
    const other = await auth('ada@example.org', '24680', MAC.b);
    expect(other.attributes['Reply-Message']?.[0]).toMatch(/Too many wrong codes/);
    // Another user on another device is not affected.
    expect((await auth('vera@example.org', '57721', MAC.c)).reply).toBe('Access-Accept');

    const text = log.lines.join('\n');
    for (const code of CODES) expect(text).not.toContain(code);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('ada@example.org');
    const journalText = journal.recent(1_000).map((e) => e.payload).join('\n');
    for (const code of CODES) expect(journalText).not.toContain(`"${code}"`);
  });

  it('rate-limits sign-ins per user: over the limit the reply says so and nothing is decided', async () => {
    await setup({ perUser: { ratePerS: 0.01, burst: 2 } });
    expect((await auth('alan@example.org', '11235', MAC.a)).reply).toBe('Access-Reject');
    expect((await auth('alan@example.org', '11235', MAC.a)).reply).toBe('Access-Reject');
    const limited = await auth('alan@example.org', '11235', MAC.a);
    expect(limited.attributes['Reply-Message']?.[0]).toMatch(/Too many sign-in attempts/);
    expect(accesses()).toHaveLength(2);
    // Another user is not limited.
    expect((await auth('ada@example.org', '24680', MAC.b)).reply).toBe('Access-Accept');
    // Time (monotonic) refills the bucket.
    mono += 200_000;
    expect((await auth('alan@example.org', '11235', MAC.a)).attributes['Reply-Message']?.[0]).toMatch(/no valid pass/);
  });

  it('rate-limits per client: requests over the limit are dropped and counted', async () => {
    await setup({ perClient: { ratePerS: 0.001, burst: 1 } });
    expect((await auth('ada@example.org', '24680', MAC.a)).reply).toBe('Access-Accept');
    expect((await auth('ada@example.org', '24680', MAC.b)).reply).toBeNull();
    expect(wifi.server.counters().dropped.rate_limited).toBe(1);
  });

  it('the request handler answers any verified request with random attributes, and never throws', async () => {
    await setup({ perUser: { ratePerS: 1_000, burst: 1_000 } });
    const secret = new SecretValue(SECRET);
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('ada@example.org', 'AA-BB-CC-00-00-01', '24680', ''));
    const attr = fc.oneof(
      fc.record({ type: fc.constantFrom(Attr.UserName, Attr.CallingStationId, Attr.AcctSessionId, Attr.NasIdentifier), value: text.map((t) => Buffer.from(t)) }),
      fc.record({ type: fc.constant(Attr.UserPassword), value: fc.integer({ min: 1, max: 8 }).chain((n) => fc.uint8Array({ minLength: n * 16, maxLength: n * 16 })).map((b) => Buffer.from(b)) }),
      fc.record({ type: fc.constant(Attr.AcctStatusType), value: fc.integer({ min: 0, max: 9 }).map((n) => Buffer.from([0, 0, 0, n])) }),
      fc.record({ type: fc.integer({ min: 100, max: 255 }), value: fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)) }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(attr, { maxLength: 8 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (isAuth, attributes, auth) => {
        const packet = decodePacket(encodePacket({ code: isAuth ? RadiusCode.AccessRequest : RadiusCode.AccountingRequest, identifier: 1, authenticator: Buffer.from(auth), attributes }));
        const reply = wifi.checkin.handle({ service: isAuth ? 'auth' : 'acct', client: { name: 'unifi', secret }, packet, from: { address: '127.0.0.1', port: 1 } });
        const allowed: number[] = isAuth ? [RadiusCode.AccessAccept, RadiusCode.AccessReject] : [RadiusCode.AccountingResponse];
        expect(allowed).toContain(reply?.code);
      }),
      fcOptions(300),
    );
    expect(log.lines.join('\n')).not.toContain(SECRET);
  });
});
