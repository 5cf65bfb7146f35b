/**
 * The kiosk page in real headless Chromium (Debian's, driven by
 * playwright-core) against a running gateway with no cloud at all: pairing,
 * PIN check-in and check-out, a visitor's QR code through the fake camera,
 * registration, a denied member, lockout, unpairing. Screenshots at tablet
 * sizes go to test-artifacts/kiosk/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessEventSchema } from '../../daemon/uplink/payloads.js';
import { demo } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { startKioskSite, type KioskSite } from './kiosk-site.js';
import { writeQrY4m } from './y4m.js';

const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts/kiosk');
const SIZES = { portrait: { width: 768, height: 1024 }, landscape: { width: 1280, height: 800 } } as const;

describe('kiosk in Chromium, offline', () => {
  let site: KioskSite;
  let browser: Browser;
  let camera: ReturnType<typeof tempDir>;
  const requests: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    camera = tempDir();
    const y4m = join(camera.path, 'visitor-qr.y4m');
    // The QR code of Vera's registration email: a URL carrying her visitor code.
    writeQrY4m(y4m, `https://spaces.example.com/visits/checkin?code=${demo.veraVisitor.code}`);
    // No mqtt section: there is no route to any cloud.
    // Every test pairs its own tablet from one address: more pairings than the default limit allows.
    site = await startKioskSite({ kiosk: '  resultSeconds: 2\n  rateLimit: { pairingPerMinute: 50 }', extra: 'guessing: { attempts: 3, lockoutS: 600 }' });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${y4m}`,
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await site?.stop();
    camera?.remove();
  });

  async function openKiosk(size: keyof typeof SIZES): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: SIZES[size], deviceScaleFactor: 1 });
    // Anything not on the gateway would fail: the kiosk must not need it.
    await context.route('**/*', (route) => (route.request().url().startsWith(site.url) ? route.continue() : route.abort('internetdisconnected')));
    const page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(site.url);
    return { context, page };
  }

  async function typeDigits(page: Page, digits: string): Promise<void> {
    for (const d of digits) await page.locator('section:not([hidden]) .keypad').getByRole('button', { name: `Digit ${d}`, exact: true }).click();
  }

  async function pairPage(page: Page, name: string): Promise<void> {
    await expect.poll(() => page.locator('#screen-pair').isVisible()).toBe(true);
    await typeDigits(page, await site.pairingCode(name));
    await expect.poll(() => page.locator('#screen-home').isVisible()).toBe(true);
  }

  const result = async (page: Page) => {
    await expect.poll(() => page.locator('#screen-result').isVisible()).toBe(true);
    return {
      outcome: await page.locator('#screen-result').getAttribute('data-outcome'),
      title: await page.locator('#result-title').textContent(),
      detail: await page.locator('#result-detail').textContent(),
      next: await page.locator('#result-next').textContent(),
    };
  };

  const backHome = async (page: Page) => expect.poll(() => page.locator('#screen-home').isVisible(), { timeout: 10_000 }).toBe(true);

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  it('shows only the pairing screen until paired, then keeps nothing but its own token', async () => {
    const { context, page } = await openKiosk('portrait');
    await expect.poll(() => page.locator('#screen-pair').isVisible()).toBe(true);
    expect(await page.locator('#screen-home').isVisible()).toBe(false);
    await shot(page, 'pairing-768x1024');
    // A wrong code first: refused in plain words.
    await typeDigits(page, '00000000');
    await expect.poll(() => page.locator('#pair-error').textContent()).toContain('wrong, used or expired');
    await pairPage(page, 'lobby');
    expect(await page.locator('#site-name').textContent()).toBe('test');
    const stored = await page.evaluate<string[]>('Object.keys(localStorage)');
    expect(stored).toEqual(['gatehouse.kiosk.token']);
    expect(await page.evaluate<string>('document.cookie')).toBe('');
    await shot(page, 'home-768x1024');
    await context.close();
  });

  it('checks a member in and out with the PIN pad, and resets by itself', async () => {
    const { context, page } = await openKiosk('landscape');
    await pairPage(page, 'landscape');
    await shot(page, 'home-1280x800');
    await typeDigits(page, demo.ada.pin);
    expect(await result(page)).toMatchObject({ outcome: 'granted', title: 'Welcome, Ada', detail: 'You are checked in.' });
    await shot(page, 'welcome-1280x800');
    await backHome(page);
    await typeDigits(page, demo.ada.pin);
    expect(await result(page)).toMatchObject({ outcome: 'granted', title: 'Goodbye, Ada', detail: 'You are checked out.' });
    await shot(page, 'goodbye-1280x800');
    await page.getByRole('button', { name: 'Done' }).click();
    await backHome(page);
    await context.close();
  });

  it('tells a member without a pass why, and what to do', async () => {
    const { context, page } = await openKiosk('portrait');
    await pairPage(page, 'denied');
    await typeDigits(page, demo.alanNoPass.pin);
    expect(await result(page)).toMatchObject({
      outcome: 'denied',
      title: 'Not checked in',
      detail: 'You have no plan, pass or visitor token valid right now.',
      next: 'Buy a pass in the members app, or ask at the front desk.',
    });
    await shot(page, 'denied-768x1024');
    await context.close();
  });

  it("checks a visitor in with the QR code from their email, read by the tablet's camera", async () => {
    const { context, page } = await openKiosk('portrait');
    await pairPage(page, 'camera');
    await page.getByRole('button', { name: 'Scan my QR code' }).click();
    await expect.poll(() => page.locator('#screen-scan').isVisible()).toBe(true);
    await shot(page, 'scan-768x1024');
    expect(await result(page)).toMatchObject({ outcome: 'granted', title: 'Welcome, Vera', detail: 'You are checked in.' });
    const last = accessEventSchema.parse(JSON.parse(site.gateway.journal.recent(1)[0]?.payload ?? '{}'));
    expect(last).toMatchObject({ channel: 'kiosk', person: { id: demo.veraVisitor.id }, checkin: 'checked_in' });
    await context.close();
  });

  it('registers a visitor on the spot, with the host picked from a search, and checks them in', async () => {
    const { context, page } = await openKiosk('landscape');
    await pairPage(page, 'register');
    await page.getByRole('button', { name: 'I am a visitor and not registered' }).click();
    await page.getByLabel('Your full name').fill('Nora Newcomer');
    await page.getByLabel('Your email').fill('nora@example.org');
    await page.getByRole('combobox', { name: 'Who are you visiting?' }).fill('lov');
    await page.getByRole('option', { name: 'Ada Lovelace' }).click();
    await expect.poll(() => page.locator('#reg-host-chosen').textContent()).toBe('Visiting Ada Lovelace');
    await page.getByRole('checkbox').check();
    await shot(page, 'register-1280x800');
    await page.getByRole('button', { name: 'Register and check in' }).click();
    const shown = await result(page);
    expect(shown).toMatchObject({ outcome: 'granted', title: 'Welcome, Nora' });
    expect(shown.detail).toContain('We let Ada know you are here.');
    await shot(page, 'registered-1280x800');
    const registrations = site.gateway.journal.recent(50).filter((e) => e.type === 'registration');
    expect(registrations).toHaveLength(1);
    await context.close();
  });

  it('locks the kiosk out after wrong codes, even for a right one', async () => {
    const { context, page } = await openKiosk('portrait');
    await pairPage(page, 'guessing');
    for (const code of ['99990', '99991', '99992']) {
      await typeDigits(page, code);
      expect(await result(page)).toMatchObject({ outcome: 'denied', title: 'Sorry', detail: 'We do not recognise this code.' });
      await page.getByRole('button', { name: 'Done' }).click();
      await backHome(page);
    }
    await typeDigits(page, demo.grace.pin);
    expect(await result(page)).toMatchObject({ outcome: 'denied', detail: 'Too many wrong codes were typed here.' });
    await shot(page, 'locked-out-768x1024');
    await context.close();
  });

  it('returns to the pairing screen when a technician unpairs it', async () => {
    const { context, page } = await openKiosk('portrait');
    await pairPage(page, 'to-revoke');
    const kiosk = (site.gateway.kiosk?.list() ?? []).find((k) => k.name === 'to-revoke');
    await site.control({ op: 'kiosk-revoke', id: kiosk?.id });
    await typeDigits(page, demo.grace.pin);
    await expect.poll(() => page.locator('#screen-pair').isVisible()).toBe(true);
    expect(await page.locator('#pair-error').textContent()).toContain('unpaired');
    expect(await page.evaluate<string[]>('Object.keys(localStorage)')).toEqual([]);
    await context.close();
  });

  it('worked without any cloud: nothing left the gateway, every event waits in the journal', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith(site.url))).toEqual([]);
    const status = site.gateway.status();
    expect(status.journal.pending).toBeGreaterThan(0);
    expect(status.cloud).toBeNull();
  });
});
