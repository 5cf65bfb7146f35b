/**
 * Stale data in a running daemon: once no sync succeeded for
 * cloud.staleAfterHours (here a couple of seconds), decisions follow
 * cloud.stalePolicy, every event says it was decided on stale data, and the
 * next successful sync ends it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { accessEventSchema } from '../../daemon/uplink/payloads.js';
import { signAll, snapshotChunks, writeSnapshotFile } from '../../scripts/cloud-sim/protocol.js';
import { cloudKey } from '../support/cloud-keys.js';
import { waitFor } from '../support/pty.js';
import { memoryLogger } from '../support/site.js';
import { dataset, signerOf, writeSyncSite } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';

const key = cloudKey('cloud-2026');
// Long enough for the first read to come before it even on a loaded machine.
const STALE_AFTER_S = 3;

const site = (version: number) =>
  dataset({
    version,
    people: [
      { id: 'staff', kind: 'member', name: 'Site staff', status: 'active', alwaysAllowed: true, credentials: [{ id: 'staff-card', kind: 'card', value: '1001' }], entitlements: [{ id: 'staff-plan', kind: 'plan' }] },
      { id: 'member', kind: 'member', name: 'A member', status: 'active', credentials: [{ id: 'member-card', kind: 'card', value: '2002' }], entitlements: [{ id: 'member-plan', kind: 'plan' }] },
    ],
  });

describe('decisions on a stale cache', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway | undefined;

  beforeEach(() => {
    dir = tempDir();
    writeFileSync(join(dir.path, 'site.json'), JSON.stringify(site(1)));
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    dir.remove();
  });

  const start = async (policy: string): Promise<Gateway> => {
    const config = writeSyncSite(dir.path, key, { seed: 'site.json', cloud: `  staleAfterHours: ${STALE_AFTER_S / 3600}\n  stalePolicy: ${policy}\n` });
    gateway = await Gateway.start(loadConfig(config), memoryLogger('warn').logger, '0.0.0-stale');
    return gateway;
  };
  const read = (g: Gateway, card: string, reader = 'front-in') => {
    const result = g.simulate('card', card, reader);
    return { ...result.decision, cache: accessEventSchema.parse(JSON.parse(result.event?.payload ?? '{}')).cache };
  };

  it('always-allowed-only: staff keep access, others are denied, every event says stale; a sync ends it', { timeout: 30_000 }, async () => {
    const g = await start('always-allowed-only');
    expect(read(g, '2002')).toMatchObject({ outcome: 'granted', cache: { version: 1, stale: false } });
    await waitFor(() => g.status().cache.stale, 'the cache to go stale', 20_000);

    const member = read(g, '2002');
    expect(member).toMatchObject({ outcome: 'denied', reason: 'cache_stale', checkin: 'none', cache: { version: 1, stale: true } });
    expect(member.cache.ageS).toBeGreaterThanOrEqual(STALE_AFTER_S);
    expect(read(g, '1001')).toMatchObject({ outcome: 'granted', cache: { stale: true } });
    expect(g.status().sync).toMatchObject({ stale: true, stalePolicy: 'always-allowed-only' });

    // A successful sync (here an import) makes the cache fresh again.
    const file = join(dir.path, 'v2.jsonl');
    writeSnapshotFile(file, signAll(signerOf(key), snapshotChunks(site(2), { gatewayId: 'gw1', siteId: 'test' })));
    await g.sync.importFile(file);
    expect(read(g, '2002')).toMatchObject({ outcome: 'granted', cache: { version: 2, stale: false } });
  });

  it('deny-all: nobody gets in, but whoever is inside can still leave', { timeout: 30_000 }, async () => {
    const g = await start('deny-all');
    expect(read(g, '1001')).toMatchObject({ outcome: 'granted', checkin: 'checked_in' });
    await waitFor(() => g.status().cache.stale, 'the cache to go stale', 20_000);
    expect(read(g, '1001')).toMatchObject({ outcome: 'denied', reason: 'cache_stale' });
    expect(read(g, '2002')).toMatchObject({ outcome: 'denied', reason: 'cache_stale' });
    expect(read(g, '1001', 'front-out')).toMatchObject({ outcome: 'granted', checkin: 'checked_out', cache: { stale: true } });
  });

  it('keep-deciding: decisions go on, marked stale', { timeout: 30_000 }, async () => {
    const g = await start('keep-deciding');
    await waitFor(() => g.status().cache.stale, 'the cache to go stale', 20_000);
    expect(read(g, '2002')).toMatchObject({ outcome: 'granted', cache: { stale: true } });
  });
});
