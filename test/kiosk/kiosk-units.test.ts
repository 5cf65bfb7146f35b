/** The kiosk's pure parts: QR contents, result sentences, rate limits, pairing codes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decisionReasonSchema } from '../../daemon/uplink/payloads.js';
import { PairingCodes } from '../../daemon/kiosk/pairing-codes.js';
import { parseQrContent } from '../../daemon/kiosk/qr-content.js';
import { RateLimiter } from '../../daemon/kiosk/rate-limiter.js';
import { resultMessage } from '../../daemon/kiosk/result-messages.js';
import { fcOptions } from '../support/fast-check.js';

describe('QR contents', () => {
  it.each([
    ['57721', '57721'],
    ['  01234\n', '01234'],
    ['https://spaces.example.com/visit?code=57721', '57721'],
    ['HTTP://x.example/a?visitorCode=123456&lang=en', '123456'],
    ['https://x.example/?code=57721&code=57721', '57721'],
  ])('accepts %j', (text, code) => {
    expect(parseQrContent(text)).toEqual({ ok: true, code });
  });

  it.each([
    ['WIFI:S:guest;T:WPA;P:x;;', 'not a check-in code'],
    ['123', 'not a check-in code'],
    ['https://x.example/?id=57721', 'no single check-in code'],
    ['https://x.example/?code=57721&code=11111', 'no single check-in code'],
    ['https://x.example/?code=5772a', 'not 4 to 12 digits'],
    ['https://[nope', 'malformed'],
    ['1'.repeat(3000), 'too much text'],
  ])('refuses %j', (text, why) => {
    const parsed = parseQrContent(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(why);
  });

  it('never throws and only ever yields 4 to 12 digits (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 3000 }), fc.webUrl({ withQueryParameters: true }), fc.stringMatching(/^\d{1,14}$/)), (text) => {
        const parsed = parseQrContent(text);
        if (parsed.ok) expect(parsed.code).toMatch(/^\d{4,12}$/);
        else expect(parsed.error.length).toBeGreaterThan(0);
      }),
      fcOptions(500),
    );
  });
});

describe('result sentences', () => {
  it('has a title, a reason and a next step for every engine reason', () => {
    for (const reason of decisionReasonSchema.options) {
      if (reason === 'granted') continue;
      for (const checkin of ['failed', 'none'] as const) {
        const m = resultMessage({ outcome: 'denied', reason, checkin }, 'Ada Lovelace');
        expect(m.title, reason).toMatch(/^(Sorry|Not checked in)$/);
        expect(m.detail, reason).toMatch(/^[A-Z].*\.$/);
        expect(m.next, reason).toMatch(/^[A-Z].*\.$/);
        expect(m.detail, reason).not.toContain('Ada');
      }
    }
  });

  it('greets by first name on check-in and check-out', () => {
    expect(resultMessage({ outcome: 'granted', reason: 'granted', checkin: 'checked_in' }, 'Ada Lovelace').title).toBe('Welcome, Ada');
    expect(resultMessage({ outcome: 'granted', reason: 'granted', checkin: 'checked_out' }, 'Ada Lovelace').title).toBe('Goodbye, Ada');
    expect(resultMessage({ outcome: 'granted', reason: 'granted', checkin: 'checked_in' }, null).title).toBe('Welcome');
  });
});

describe('rate limiter', () => {
  it('lets a burst up to the limit through, then refills at the rate', () => {
    const limiter = new RateLimiter(6);
    for (let i = 0; i < 6; i++) expect(limiter.take('a', 0).allowed).toBe(true);
    expect(limiter.take('a', 0)).toEqual({ allowed: false, retryAfterS: 10 });
    expect(limiter.take('b', 0).allowed).toBe(true);
    expect(limiter.take('a', 9_999).allowed).toBe(false);
    expect(limiter.take('a', 10_000).allowed).toBe(true);
  });
});

describe('pairing codes', () => {
  it('are eight digits, work once, and expire', () => {
    const codes = new PairingCodes(60_000);
    const { code, expiresAt } = codes.issue('lobby', 1_000);
    expect(code).toMatch(/^\d{8}$/);
    expect(expiresAt).toBe(61_000);
    expect(codes.redeem(`${code.slice(0, 4)} ${code.slice(4)}`, 2_000)).toBe('lobby');
    expect(codes.redeem(code, 2_000)).toBeNull();
    const late = codes.issue('desk', 0);
    expect(codes.redeem(late.code, 60_000)).toBeNull();
  });
});
