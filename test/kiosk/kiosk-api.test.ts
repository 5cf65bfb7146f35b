/**
 * The kiosk API over real HTTP against a running gateway: tokens (missing,
 * wrong, revoked), pairing codes, check-ins through the engine and journal,
 * registration, malformed bodies, rate limits and garbage bodies.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessEventSchema, alarmEventSchema, registrationEventSchema } from '../../daemon/uplink/payloads.js';
import { fcOptions } from '../support/fast-check.js';
import { createPty, openHost, type HostPort, type PtyPair } from '../support/pty.js';
import { demo } from '../support/site.js';
import { call, startKioskSite, type KioskSite } from './kiosk-site.js';

const root = join(import.meta.dirname, '../..');

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'daemon/cli/main.ts'), ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const journal = (site: KioskSite, type: string) =>
  site.gateway.journal
    .recent(1000)
    .filter((e) => e.type === type)
    .reverse();

describe('kiosk API: pairing and tokens', () => {
  let site: KioskSite;
  beforeAll(async () => {
    site = await startKioskSite();
  });
  afterAll(async () => site.stop());

  it('refuses every API call without a token, with a wrong one, and with a malformed header', async () => {
    for (const path of ['/kiosk', '/hosts?q=ada', '/scans']) {
      const missing = await call(site.url, 'GET', path);
      expect(missing.status).toBe(401);
      expect(missing.body.error?.code).toBe('unauthorized');
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    }
    const wrong = await call(site.url, 'POST', '/checkin', { token: 'A'.repeat(43), body: { method: 'pin', code: demo.ada.pin } });
    expect(wrong.status).toBe(401);
    const short = await call(site.url, 'GET', '/kiosk', { token: 'not-a-token' });
    expect(short.status).toBe(401);
    const basic = await call(site.url, 'GET', '/kiosk', { headers: { Authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    // Nothing was decided for an unauthenticated caller.
    expect(journal(site, 'access')).toEqual([]);
  });

  it('serves the page without a token, with nothing secret in it and no third-party origin', async () => {
    const page = await fetch(`${site.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('Pair this kiosk');
    for (const asset of ['/app.js', '/qr-scanner.js', '/kiosk.css', '/manifest.webmanifest', '/vendor/zxing-wasm/es/reader/index.js', '/vendor/zxing-wasm/es/share.js', '/vendor/zxing-wasm/reader/zxing_reader.wasm']) {
      const response = await fetch(`${site.url}${asset}`);
      expect(response.status, asset).toBe(200);
      // The page's own files name no other origin (zxing's default CDN path is overridden in qr-scanner.js).
      if (!asset.startsWith('/vendor/')) expect(await response.text(), asset).not.toMatch(/https?:\/\//);
    }
    expect((await fetch(`${site.url}/vendor/zxing-wasm/reader/zxing_reader.wasm`)).headers.get('content-type')).toBe('application/wasm');
    expect((await fetch(`${site.url}/../package.json`)).status).toBe(404);
    expect((await fetch(`${site.url}/%2e%2e/%2e%2e/package.json`)).status).toBe(404);
  });

  it('pairs with a code from `gatehouse kiosk pair` once, stores only a hash of the token, lists and revokes', async () => {
    const configPath = join(site.dir, 'gatehouse.yaml');
    const printed = await runCli(['kiosk', 'pair', '--name', 'reception', '--json', '-c', configPath]);
    expect(printed.stderr).toBe('');
    const issued = JSON.parse(printed.stdout) as { code: string; name: string; expiresAt: string };
    expect(issued.code).toMatch(/^\d{8}$/);
    expect(issued.name).toBe('reception');

    const paired = await call(site.url, 'POST', '/pair', { body: { code: `${issued.code.slice(0, 4)}-${issued.code.slice(4)}` } });
    expect(paired.status).toBe(201);
    const token = paired.body.token as string;
    const kiosk = paired.body.kiosk as { id: string; name: string; registration: string };
    expect(kiosk.name).toBe('reception');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const again = await call(site.url, 'POST', '/pair', { body: { code: issued.code } });
    expect(again.status).toBe(403);
    expect(again.body.error?.code).toBe('pairing_refused');

    expect((await call(site.url, 'GET', '/kiosk', { token })).status).toBe(200);
    const db = new Database(join(site.dir, 'gatehouse.db'), { readonly: true });
    const rows = db.prepare<[], { name: string }>('SELECT * FROM kiosks').all();
    db.close();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows.map((r) => r.name)).toContain('reception');

    const listed = await runCli(['kiosk', 'list', '-c', configPath]);
    expect(listed.stdout).toContain(kiosk.id);
    expect(listed.stdout).toContain('reception');

    const revoked = await runCli(['kiosk', 'revoke', kiosk.id, '-c', configPath]);
    expect(revoked.code).toBe(0);
    const after = await call(site.url, 'POST', '/checkin', { token, body: { method: 'pin', code: demo.ada.pin } });
    expect(after.status).toBe(401);
    expect(after.body.error?.code).toBe('kiosk_revoked');
    const unknown = await runCli(['kiosk', 'revoke', 'k-00000000', '-c', configPath]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no kiosk');
  });

  it('refuses wrong and expired pairing codes', async () => {
    const code = await site.pairingCode();
    const wrong = String((Number(code) + 1) % 1e8).padStart(8, '0');
    expect((await call(site.url, 'POST', '/pair', { body: { code: wrong } })).status).toBe(403);
    expect((await call(site.url, 'POST', '/pair', { body: { code } })).status).toBe(201);
  });
});

describe('kiosk API: check-in, registration and errors', () => {
  let site: KioskSite;
  let token: string;
  let kioskId: string;
  let pty: PtyPair;
  let scanner: HostPort;

  beforeAll(async () => {
    const { tempDir } = await import('../support/temp-dir.js');
    const ptyDir = tempDir();
    pty = await createPty(ptyDir.path, 'desk-qr');
    site = await startKioskSite({
      kiosk: '  scanners: [desk-qr]',
      extra: `guessing: { attempts: 3, lockoutS: 60 }
readers:
  - { id: desk-qr, driver: serial-line, path: ${pty.devicePath}, mode: entry }`,
      people: { 'm-1002': { email: 'grace@example.com' } },
    });
    scanner = await openHost(pty.hostPath);
    ({ token, id: kioskId } = await site.pair());
  });
  afterAll(async () => {
    await scanner.close();
    await site.stop();
    await pty.close();
  });

  const checkin = (body: unknown) => call(site.url, 'POST', '/checkin', { token, body });

  it('checks a member in and out with their PIN, through the engine and the journal', async () => {
    const first = await checkin({ method: 'pin', code: demo.ada.pin });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: 'granted', checkin: 'checked_in', title: 'Welcome, Ada' });
    const second = await checkin({ method: 'pin', code: demo.ada.pin });
    expect(second.body).toMatchObject({ outcome: 'granted', checkin: 'checked_out', title: 'Goodbye, Ada' });
    const events = journal(site, 'access').map((e) => accessEventSchema.parse(JSON.parse(e.payload)));
    expect(events.map((e) => [e.channel, e.readerId, e.person?.id, e.checkin, e.credential.kind])).toEqual([
      ['kiosk', `kiosk:${kioskId}`, demo.ada.id, 'checked_in', 'keypad'],
      ['kiosk', `kiosk:${kioskId}`, demo.ada.id, 'checked_out', 'keypad'],
    ]);
    expect(site.logLines.join('\n')).not.toContain(demo.ada.pin);
  });

  it('tells a member without a valid pass why and what to do', async () => {
    const reply = await checkin({ method: 'pin', code: demo.alanNoPass.pin });
    expect(reply.body).toMatchObject({ outcome: 'denied', reason: 'no_valid_pass', checkin: 'failed', title: 'Not checked in' });
    expect(reply.body.detail).toBe('You have no plan, pass or visitor token valid right now.');
    expect(reply.body.next).toContain('front desk');
  });

  it('checks a visitor in with the QR code of their email (a URL with the code) and refuses other QR codes', async () => {
    const reply = await checkin({ method: 'qr', content: `https://spaces.example.com/visit?id=9&code=${demo.veraVisitor.code}` });
    expect(reply.body).toMatchObject({ outcome: 'granted', checkin: 'checked_in', title: 'Welcome, Vera' });
    const other = await checkin({ method: 'qr', content: 'WIFI:S:guest;T:WPA;P:hunter2;;' });
    expect(other.body).toMatchObject({ outcome: 'denied', reason: 'invalid_qr', title: 'Not a check-in code' });
    // A stray QR code is no guess at a code: it did not count towards the lockout.
    expect(journal(site, 'access').at(-1)?.payload).toContain(demo.veraVisitor.id);
  });

  it('decides QR codes from a serial scanner at the gateway and shows them on the tablets', async () => {
    const before = (await call(site.url, 'GET', '/scans', { token })).body.latest as number;
    await scanner.write(new TextEncoder().encode(`https://spaces.example.com/v?code=${demo.veraVisitor.code}\r\n`));
    let scans: { seq: number; result: { outcome: string; checkin: string; title: string } }[] = [];
    await expect
      .poll(async () => {
        scans = (await call(site.url, 'GET', `/scans?after=${before}`, { token })).body.scans as typeof scans;
        return scans.length;
      })
      .toBe(1);
    expect(scans[0]?.result).toMatchObject({ outcome: 'granted', checkin: 'checked_out', title: 'Goodbye, Vera' });
    const last = accessEventSchema.parse(JSON.parse(journal(site, 'access').at(-1)?.payload ?? '{}'));
    expect(last).toMatchObject({ channel: 'kiosk', readerId: 'kiosk:scanner-desk-qr', person: { id: demo.veraVisitor.id } });
  });

  it('searches hosts by name only, from two letters', async () => {
    expect((await call(site.url, 'GET', '/hosts?q=a', { token })).body.hosts).toEqual([]);
    const hosts = (await call(site.url, 'GET', '/hosts?q=LOVE', { token })).body.hosts;
    expect(hosts).toEqual([{ id: demo.ada.id, name: 'Ada Lovelace' }]);
    const suspended = (await call(site.url, 'GET', '/hosts?q=katherine', { token })).body.hosts;
    expect(suspended).toEqual([]);
    const visitors = (await call(site.url, 'GET', '/hosts?q=vera', { token })).body.hosts;
    expect(visitors).toEqual([]);
  });

  it('registers a visitor on the spot, checks them in, and sends the registration to the cloud without logging the email', async () => {
    const email = 'new.visitor@example.org';
    const reply = await call(site.url, 'POST', '/registrations', {
      token,
      body: { name: 'Nora Newcomer', email, hostId: demo.ada.id, termsAccepted: true },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ outcome: 'granted', checkin: 'checked_in', title: 'Welcome, Nora' });
    expect(reply.body.detail).toContain('We let Ada know you are here.');

    const [registration] = journal(site, 'registration');
    expect(registration?.topic).toBe('gatehouse/v1/gw1/events/registration');
    const event = registrationEventSchema.parse(JSON.parse(registration?.payload ?? '{}'));
    expect(event).toMatchObject({ kioskId, visitor: { name: 'Nora Newcomer', email }, host: { id: demo.ada.id }, checkinRequested: true });
    const access = accessEventSchema.parse(JSON.parse(journal(site, 'access').at(-1)?.payload ?? '{}'));
    expect(access).toMatchObject({ person: { id: event.registrationId, kind: 'visitor' }, credential: { kind: 'registration' }, checkin: 'checked_in', channel: 'kiosk' });
    expect(access.seq).toBeGreaterThan(event.seq);
    expect(site.logLines.join('\n')).not.toContain(email);
    expect(site.gateway.sessions.openSessionOf(event.registrationId)).not.toBeNull();

    // The same visitor registering again is the same visit: no second registration, no check-out.
    const again = await call(site.url, 'POST', '/registrations', {
      token,
      body: { name: 'Nora Newcomer', email: ' NEW.visitor@example.org ', hostId: demo.ada.id, termsAccepted: true },
    });
    expect(again.body).toMatchObject({ outcome: 'granted', checkin: 'none' });
    expect(journal(site, 'registration')).toHaveLength(1);
  });

  it('refuses a registration for an unknown host, without the terms, or for someone already registered', async () => {
    const base = { name: 'Olga Other', email: 'olga@example.org', hostId: demo.ada.id, termsAccepted: true };
    const host = await call(site.url, 'POST', '/registrations', { token, body: { ...base, hostId: demo.veraVisitor.id } });
    expect([host.status, host.body.error?.code]).toEqual([422, 'unknown_host']);
    const terms = await call(site.url, 'POST', '/registrations', { token, body: { ...base, termsAccepted: false } });
    expect([terms.status, terms.body.error?.code]).toEqual([400, 'bad_request']);
    const email = await call(site.url, 'POST', '/registrations', { token, body: { ...base, email: 'not an email' } });
    expect(email.status).toBe(400);
    const member = await call(site.url, 'POST', '/registrations', { token, body: { ...base, email: 'Grace@Example.com' } });
    expect([member.status, member.body.error?.code]).toEqual([409, 'already_registered']);
  });

  it('answers malformed requests with a clear error and decides nothing', async () => {
    const before = journal(site, 'access').length;
    const cases: [Promise<{ status: number; body: { error?: { code: string } } }>, number, string][] = [
      [checkin('{"method":"pin",'), 400, 'bad_request'],
      [call(site.url, 'POST', '/checkin', { token, body: 'method=pin', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type'],
      [checkin({ method: 'pin', code: '12a45' }), 400, 'bad_request'],
      [checkin({ method: 'pin', code: demo.ada.pin, extra: 1 }), 400, 'bad_request'],
      [checkin({ method: 'card', number: '123' }), 400, 'bad_request'],
      [checkin({ method: 'qr', content: 'x'.repeat(5000) }), 413, 'body_too_large'],
      [call(site.url, 'DELETE', '/checkin', { token }), 405, 'method_not_allowed'],
      [call(site.url, 'GET', '/nothing', { token }), 404, 'not_found'],
      [call(site.url, 'GET', '/scans?after=-1', { token }), 400, 'bad_request'],
    ];
    for (const [reply, status, code] of cases) {
      const r = await reply;
      expect([r.status, r.body.error?.code]).toEqual([status, code]);
    }
    expect(journal(site, 'access')).toHaveLength(before);
  });

  it('counts wrong PINs towards the lockout of this kiosk and raises the alarm', async () => {
    for (const code of ['00000', '00001', '00002']) expect((await checkin({ method: 'pin', code })).body.reason).toBe('unknown_credential');
    const locked = await checkin({ method: 'pin', code: demo.grace.pin });
    expect(locked.body).toMatchObject({ outcome: 'denied', reason: 'locked_out', title: 'Sorry' });
    expect(locked.body.detail).toBe('Too many wrong codes were typed here.');
    const alarm = alarmEventSchema.parse(JSON.parse(journal(site, 'alarm').at(-1)?.payload ?? '{}'));
    expect(alarm).toMatchObject({ type: 'lockout_started', source: `kiosk:${kioskId}` });
  });

  it('survives garbage bodies on every endpoint (property)', async () => {
    const { token: garbageToken } = await site.pair('garbage');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/checkin', '/registrations', '/pair'), fc.jsonValue(), async (path, value) => {
        const reply = await call(site.url, 'POST', path, { token: garbageToken, body: JSON.stringify(value) });
        expect([200, 400, 403, 409, 413, 422, 429]).toContain(reply.status);
        if (reply.status !== 200) expect(typeof reply.body.error?.message).toBe('string');
      }),
      fcOptions(60),
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (text) => {
        const reply = await call(site.url, 'POST', '/checkin', { token: garbageToken, body: text });
        expect([200, 400, 429]).toContain(reply.status);
      }),
      fcOptions(60),
    );
  });
});

describe('kiosk API: rate limits and a site without registration', () => {
  let site: KioskSite;
  let a: { token: string };
  let b: { token: string };
  beforeAll(async () => {
    site = await startKioskSite({
      kiosk: '  rateLimit: { perIpPerMinute: 40, perKioskPerMinute: 3, pairingPerMinute: 2 }',
      settings: { kioskRegistration: 'off' },
    });
    a = await site.pair('a');
    b = await site.pair('b');
  });
  afterAll(async () => site.stop());

  it('refuses registration when the site does not allow it, and says so to the kiosk', async () => {
    expect((await call(site.url, 'GET', '/kiosk', { token: b.token })).body.registration).toBe('off');
    const reply = await call(site.url, 'POST', '/registrations', {
      token: b.token,
      body: { name: 'No Body', email: 'n@example.org', hostId: demo.ada.id, termsAccepted: true },
    });
    expect([reply.status, reply.body.error?.code]).toEqual([403, 'registration_off']);
    expect(site.gateway.journal.recent(100).filter((e) => e.type === 'registration')).toEqual([]);
  });

  it('limits check-ins per kiosk and pairing attempts per address, with Retry-After', async () => {
    for (let i = 0; i < 3; i++) expect((await call(site.url, 'POST', '/checkin', { token: a.token, body: { method: 'pin', code: demo.ada.pin } })).status).toBe(200);
    const limited = await call(site.url, 'POST', '/checkin', { token: a.token, body: { method: 'pin', code: demo.ada.pin } });
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another kiosk has its own budget.
    expect((await call(site.url, 'POST', '/checkin', { token: b.token, body: { method: 'pin', code: demo.grace.pin } })).status).toBe(200);
    // Two pairings were used: the third attempt from this address is refused before the code is looked at.
    const code = await site.pairingCode();
    const pairing = await call(site.url, 'POST', '/pair', { body: { code } });
    expect(pairing.status).toBe(429);
  });

  it('limits requests per client address', async () => {
    let status = 0;
    for (let i = 0; i < 60 && status !== 429; i++) status = (await call(site.url, 'GET', '/kiosk')).status;
    expect(status).toBe(429);
  });
});
