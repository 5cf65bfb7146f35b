/**
 * Cache sync end to end with real parts: the daemon (Gateway.start with an
 * mqtt and a cloud section), a real Mosquitto, and scripts/cloud-sim playing
 * the cloud. Decisions change as the cloud's data changes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import type { Dataset } from '../../daemon/sync/dataset.js';
import { syncStateSchema } from '../../daemon/sync/messages.js';
import { CloudSim } from '../../scripts/cloud-sim/cloud-sim.js';
import { deltaPayload, signAll, snapshotChunks } from '../../scripts/cloud-sim/protocol.js';
import { cloudKey } from '../support/cloud-keys.js';
import { startMosquitto, subscribe, type Mosquitto } from '../support/mosquitto.js';
import { waitFor } from '../support/pty.js';
import { demo, memoryLogger } from '../support/site.js';
import { demoDataset, signerOf, strayRows, writeSyncSite } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';
import { runCli } from '../support/daemon-process.js';
import { join } from 'node:path';

const key = cloudKey('cloud-2026');
const WAIT = 20_000;

/** The cloud's data at version 5: Alan bought a plan since the demo data set (version 1). */
function cloudData(): Dataset {
  const ds = demoDataset(5);
  return {
    ...ds,
    people: ds.people.map((p) =>
      p.id === demo.alanNoPass.id
        ? { ...p, entitlements: [{ id: 'alan-plan', kind: 'plan', name: 'Flex', validFrom: '2026-01-01T00:00:00Z', validTo: null, minutesLeft: null, monthlyHours: 40, monthlyCheckins: null, doors: null }] }
        : p,
    ),
  };
}

describe('cache sync over MQTT', () => {
  let dir: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let cloud: CloudSim;
  let gateway: Gateway | undefined;
  const log: string[] = [];

  beforeEach(async () => {
    dir = tempDir();
    // Persistent, like a real cloud's broker: the cloud's session survives a broker restart.
    broker = await startMosquitto({ persistence: true });
    // Small chunks: even the demo data set travels as several.
    cloud = new CloudSim({
      url: broker.url,
      gatewayId: 'gw1',
      siteId: 'test',
      signer: signerOf(key),
      dataset: cloudData(),
      chunkBytes: 600,
      log: (l) => log.push(l),
      persistentClientId: `cloud-sim-${process.pid}-${Date.now()}`,
    });
    await cloud.start();
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    await cloud.stop();
    await broker.dispose();
    dir.remove();
  });

  const start = async (): Promise<Gateway> => {
    gateway = await Gateway.start(loadConfig(writeSyncSite(dir.path, key, { brokerUrl: broker.url })), memoryLogger('warn').logger, '0.0.0-sync');
    return gateway;
  };
  const sim = (g: Gateway, kind: 'card' | 'keypad', value: string, reader = 'front-in') => g.simulate(kind, value, reader).decision;

  it('boots on the seed, asks for a snapshot, applies it, then follows deltas; decisions change with them', async () => {
    const g = await start();
    // The seed (demo data set, version 1) is in force at once.
    await cloud.waitFor(() => cloud.requests.length > 0, WAIT, 'the boot request');
    expect(cloud.requests[0]).toMatchObject({ reason: 'boot', haveVersion: 1, gatewayId: 'gw1', siteId: 'test' });
    await waitFor(() => g.cache.version() === 5, 'the snapshot answering the boot request', WAIT);
    // Two snapshots this run: the seed, and the answer to the boot request.
    expect(g.status().sync).toMatchObject({ version: 5, source: 'mqtt', stale: false, rejected: {}, applied: { snapshots: 2 } });

    // Alan's new plan arrived with the snapshot.
    expect(sim(g, 'card', demo.alanNoPass.card)).toMatchObject({ outcome: 'granted', reason: 'granted' });

    // A new card for Grace: granted once the delta is applied.
    const graceCard = '0012345678';
    expect(sim(g, 'card', graceCard).reason).toBe('unknown_credential');
    await cloud.publishDelta([{ op: 'credential.upsert', personId: demo.grace.id, credential: { id: 'grace-2', kind: 'card', value: graceCard, validFrom: null, validTo: null, status: 'active' } }]);
    await waitFor(() => g.cache.version() === 6, 'delta 5 -> 6', WAIT);
    expect(sim(g, 'card', graceCard)).toMatchObject({ outcome: 'granted', person: { id: demo.grace.id } });

    // Ada deleted: her card and PIN are unknown from now on.
    await cloud.deletePerson(demo.ada.id);
    await waitFor(() => g.cache.version() === 7, 'delta 6 -> 7', WAIT);
    expect(sim(g, 'card', demo.ada.card).reason).toBe('unknown_credential');
    expect(sim(g, 'keypad', demo.ada.pin).reason).toBe('unknown_credential');

    // Every event names the cache it was decided on; the cloud sees who is in.
    await cloud.waitFor(() => cloud.events.length >= 5, WAIT, 'five access events');
    const last = cloud.events.at(-1);
    expect(last?.cache).toMatchObject({ version: 7, stale: false });
    expect(Date.parse(last?.cache.syncedAt ?? '')).toBeLessThanOrEqual(Date.parse(last?.ts ?? ''));
    expect(cloud.events.map((e) => e.cache.version)).toEqual([5, 5, 6, 7, 7]);
    expect(cloud.whoIsIn().map((p) => p.personId).sort()).toEqual([demo.alanNoPass.id, demo.grace.id].sort());

    // The retained state report follows the version.
    await cloud.waitFor(() => cloud.states.at(-1)?.version === 7, WAIT, 'sync/state at version 7');
    const late = await subscribe(broker.url, [cloud.topic('sync/state')]);
    await late.waitFor((m) => m.length > 0, WAIT, 'the retained sync state');
    expect(syncStateSchema.parse(JSON.parse(late.messages[0]?.payload ?? '{}'))).toMatchObject({ version: 7, state: 'idle', stale: false, gatewayId: 'gw1' });
    await late.close();
    await waitFor(() => strayRows(join(dir.path, 'gatehouse.db')) === 0, 'the replaced generation collected', WAIT);
  });

  it('gatehouse resync asks for a snapshot and follows it until it is in force', async () => {
    const config = writeSyncSite(dir.path, key, { brokerUrl: broker.url });
    gateway = await Gateway.start(loadConfig(config), memoryLogger('warn').logger, '0.0.0-sync');
    const g = gateway;
    await waitFor(() => g.cache.version() === 5, 'the boot snapshot', WAIT);
    // The cloud has moved on without a delta; the technician asks for everything.
    cloud.data.version = 8;
    const result = await runCli(['resync', '--config', config]);
    expect(result.stderr).not.toMatch(/no snapshot applied/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^snapshot requested from the cloud \(request [0-9a-f-]{36}\); the cache is at version 5$/m);
    expect(result.stdout).toMatch(/^snapshot \S+ applied: the cache is at version 8$/m);
    expect(cloud.requests.at(-1)).toMatchObject({ reason: 'command', haveVersion: 5 });
    expect(g.cache.version()).toBe(8);
  });

  it('a delta that skips versions makes it ask for a snapshot, and it recovers', async () => {
    const g = await start();
    await waitFor(() => g.cache.version() === 5, 'the boot snapshot', WAIT);
    // The cloud moves to 8 without telling the gateway, then sends 8 -> 9.
    cloud.data.version = 8;
    await cloud.publishDelta([{ op: 'person.delete', id: demo.katherineSuspended.id }]);
    await cloud.waitFor(() => cloud.requests.some((r) => r.reason === 'gap'), WAIT, 'a gap request');
    expect(cloud.requests.find((r) => r.reason === 'gap')).toMatchObject({ haveVersion: 5 });
    await waitFor(() => g.cache.version() === 9, 'the snapshot answering the gap', WAIT);
    expect(g.status().sync.rejected).toEqual({ version_gap: 1 });
    expect(sim(g, 'card', demo.katherineSuspended.card).reason).toBe('unknown_credential');
  });

  it('a snapshot that fails its checksum is dropped, asked for again, and the good one applied', async () => {
    cloud.answerRequests = false;
    const g = await start();
    await cloud.waitFor(() => cloud.requests.length === 1, WAIT, 'the boot request');
    const bad = snapshotChunks(cloud.data.toDataset(), { gatewayId: 'gw1', siteId: 'test', chunkBytes: 600 }).map((c) => ({ ...c, checksum: `sha256:${'f'.repeat(64)}` }));
    for (const envelope of signAll(signerOf(key), bad)) await cloud.publishRaw('sync/snapshot', envelope);
    await cloud.waitFor(() => cloud.requests.some((r) => r.reason === 'checksum'), WAIT, 'a checksum request');
    expect(g.cache.version()).toBe(1);
    expect(g.status().sync.rejected).toEqual({ checksum_mismatch: 1 });
    cloud.answerRequests = true;
    const request = cloud.requests.find((r) => r.reason === 'checksum');
    await cloud.publishSnapshot({ requestId: request?.requestId ?? null });
    await waitFor(() => g.cache.version() === 5, 'the good snapshot', WAIT);
  });

  it('after a reconnect it asks again; at the same version a heartbeat delta keeps the cache fresh', async () => {
    const g = await start();
    await waitFor(() => g.cache.version() === 5, 'the boot snapshot', WAIT);
    const syncedAt = g.status().sync.syncedAt;
    await broker.stop();
    await waitFor(() => g.status().uplink.state !== 'connected', 'the link to notice', WAIT);
    await broker.start();
    await cloud.waitFor(() => cloud.requests.some((r) => r.reason === 'reconnect'), WAIT, 'a reconnect request');
    await waitFor(() => g.cache.version() === 6, 'the heartbeat delta', WAIT);
    expect(g.status().sync.syncedAt).not.toBe(syncedAt);
    expect(g.status().sync.applied).toMatchObject({ snapshots: 2, deltas: 1 });
  });

  it('a signed delta for another gateway is refused on this one', async () => {
    const g = await start();
    await waitFor(() => g.cache.version() === 5, 'the boot snapshot', WAIT);
    const [other] = signAll(signerOf(key), [deltaPayload({ gatewayId: 'gw2', siteId: 'test' }, 5, 6, [{ op: 'person.delete', id: demo.ada.id }])]);
    await cloud.publishRaw('sync/delta', other ?? '');
    await waitFor(() => g.status().sync.rejected.wrong_gateway === 1, 'the rejection', WAIT);
    expect(g.cache.version()).toBe(5);
    expect(sim(g, 'card', demo.ada.card).outcome).toBe('granted');
  });
});
