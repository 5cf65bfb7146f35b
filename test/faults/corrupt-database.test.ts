/**
 * A corrupt database file at start, through the real daemon process: it is
 * detected, moved aside with a timestamp, and the daemon starts on a fresh
 * store filled from the seed file; without a seed, the fresh store has never
 * synced, so it is stale and the configured stale policy applies until the
 * next snapshot.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { cloudKey } from '../support/cloud-keys.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { daemonStatus, simCard } from './support.js';

/** A file that is not a database, as a failed SD card or a half-written copy leaves it. */
const garbage = () => Buffer.from(Array.from({ length: 16_384 }, (_, i) => (i * 7919) & 0xff));

describe('corrupt database at start', () => {
  let dir: ReturnType<typeof tempDir>;
  let daemon: DaemonProcess | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await daemon?.kill();
    daemon = undefined;
    dir.remove();
  });

  it('the daemon moves the file aside, says so, and starts on a fresh store from the seed file', async () => {
    const config = writeSite(
      dir.path,
      `doors:
  - { id: front, relay: { driver: sim }, pulseMs: 500 }
readers:
  - { id: front-in, driver: sim, door: front, mode: entry }
`,
      { logLevel: 'info' },
    );
    writeFileSync(join(dir.path, 'gatehouse.db'), garbage());
    daemon = await startDaemon(config);
    expect(daemon.output()).toMatch(/"level":50.*the database file is corrupt: moved aside/);
    const aside = readdirSync(dir.path).filter((name) => /^gatehouse\.db\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/.test(name));
    expect(aside).toHaveLength(1);

    const socket = join(dir.path, 'control.sock');
    const status = await daemonStatus(socket);
    expect(status.cache.people).toBeGreaterThan(0);
    expect(status.cache.stale).toBe(false);
    expect(await simCard(socket, demo.ada.card)).toMatchObject({ outcome: 'granted', seq: 1 });
    expect(await daemon.stop()).toBe(0);
  });

  it('without a seed file the fresh store is stale and the configured stale policy decides', async () => {
    const key = cloudKey();
    const config = writeSite(
      dir.path,
      `cloud:
  publicKeys: [{ id: ${key.id}, key: ${JSON.stringify(key.publicPem)} }]
  stalePolicy: deny-all
doors:
  - { id: front, relay: { driver: sim }, pulseMs: 500 }
readers:
  - { id: front-in, driver: sim, door: front, mode: entry }
`,
    );
    // No seed: the site relies on the cloud's next snapshot.
    writeFileSync(config, readFileSync(config, 'utf8').replace(', seedFile: dataset.json', ''));
    writeFileSync(join(dir.path, 'gatehouse.db'), garbage());
    const g = await Gateway.start(loadConfig(config), memoryLogger('fatal').logger, '0.0.0-test');
    try {
      expect(g.status().cache).toMatchObject({ version: 0, people: 0, syncedAt: null, stale: true });
      expect(g.simulate('card', demo.ada.card).decision).toMatchObject({ outcome: 'denied' });
      expect(readdirSync(dir.path).some((name) => name.startsWith('gatehouse.db.corrupt-'))).toBe(true);
    } finally {
      await g.stop();
    }
  });
});
