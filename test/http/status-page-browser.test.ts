/**
 * The technician's status page in real headless Chromium (Debian's chromium
 * driven by playwright-core): doors, readers, who is on site and the last
 * decisions, updating live without a reload. A screenshot is kept as a test
 * artefact (test-artifacts/status-page/).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { demo, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'status-page');

describe('status page in headless Chromium', () => {
  let dir: ReturnType<typeof tempDir>;
  let daemon: DaemonProcess | undefined;
  let browser: Browser | undefined;

  beforeEach(() => {
    dir = tempDir();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
    await daemon?.kill();
    daemon = undefined;
    dir.remove();
  });

  it('shows doors, readers, who is on site and the last decisions, and updates live', async () => {
    const config = writeSite(
      dir.path,
      `http: { enabled: true, port: 0 }\ndoors:\n  - { id: front, name: Front door, relay: { driver: sim }, pulseMs: 60000 }\nreaders:\n  - { id: front-in, driver: sim, door: front, mode: toggle }\n`,
      { logLevel: 'info' },
    );
    daemon = await startDaemon(config);
    await daemon.waitForLog('status server listening');
    const line = daemon.output().split('\n').find((l) => l.includes('status server listening')) ?? '';
    const base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    await page.goto(`${base}/`);
    await page.getByText('Front door').waitFor({ timeout: 15_000 });
    expect(await page.locator('#readers').innerText()).toContain('front-in');
    expect(await page.locator('#decisions tr').count()).toBe(0);

    // Decisions made after the page loaded appear without a reload.
    await runCli(['sim', 'card', demo.ada.card, '--config', config]);
    await runCli(['sim', 'pin', '00000', '--config', config]);
    await page.locator('#decisions tr').nth(1).waitFor({ timeout: 15_000 });
    const decisions = await page.locator('#decisions').innerText();
    expect(decisions).toContain('Ada Lovelace');
    expect(decisions).toContain('unknown_credential');
    expect(decisions).not.toContain('00000');
    expect(await page.locator('#onsite').innerText()).toContain('Ada Lovelace');
    expect(await page.locator('#doors').innerText()).toContain('unlocked');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-1024x768.png'), fullPage: true });
  });
});
