/**
 * When the gateway asks for snapshots and what it reports, on a real
 * MqttLink and Mosquitto: the boot request, the request throttle (a burst,
 * then one per interval, extra asks folded into one), the refresh of a cache
 * that got old, and the retained state report.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../daemon/config/schema.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { syncRequestSchema, syncStateSchema, type SyncRequest } from '../../daemon/sync/messages.js';
import { SyncService } from '../../daemon/sync/sync-service.js';
import { MqttLink } from '../../daemon/uplink/mqtt-link.js';
import { cloudKey } from '../support/cloud-keys.js';
import { delay, startMosquitto, subscribe, type Mosquitto, type Subscriber } from '../support/mosquitto.js';
import { memoryLogger } from '../support/site.js';
import { demoDataset } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';

const key = cloudKey('k1');
const WAIT = 20_000;
const HOUR = 3_600_000;

describe('sync requests and state on the MQTT link', () => {
  let dir: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let cloud: Subscriber;
  let db: Db;
  let link: MqttLink;
  let sync: SyncService;
  let clock = Date.now();

  beforeEach(async () => {
    dir = tempDir();
    broker = await startMosquitto();
    cloud = await subscribe(broker.url, ['gatehouse/v1/gw1/sync/request', 'gatehouse/v1/gw1/sync/state']);
    db = openDatabase(join(dir.path, 'g.db'));
    const cache = new CredentialCache(db, new CredentialHasher(Buffer.alloc(32, 2)));
    cache.applySnapshot(demoDataset(3), Date.now());
    clock = Date.now();
    const config = configSchema.parse({
      site: { id: 'test', timezone: 'Europe/London' },
      gateway: { id: 'gw1' },
      secretsFile: 'unused.yaml',
      store: { path: join(dir.path, 'g.db') },
      mqtt: { url: broker.url, reconnectMs: 200 },
      cloud: { publicKeys: [{ id: key.id, key: key.publicPem }], staleAfterHours: 10 },
    });
    const { logger } = memoryLogger('warn');
    link = new MqttLink({ config: config.mqtt ?? { url: broker.url, topicPrefix: 'gatehouse/v1', keepaliveS: 30, reconnectMs: 200, connectTimeoutMs: 5_000, maxInflight: 64 }, gatewayId: 'gw1', siteId: 'test', bootId: 'boot-1', version: '0.0.0', logger });
    sync = new SyncService({ config, cache, logger, bootId: 'boot-1', transport: link, now: () => clock, minRequestIntervalMs: 400, checkEveryMs: 50 });
    await sync.start();
    link.start();
  });
  afterEach(async () => {
    await sync.stop();
    await link.stop(2_000);
    await cloud.close();
    await broker.dispose();
    db.close();
    dir.remove();
  });

  const requests = (): SyncRequest[] => cloud.on('gatehouse/v1/gw1/sync/request').map((m) => syncRequestSchema.parse(JSON.parse(m.payload)));

  it('asks at boot, reports its state retained, and folds a burst of asks into a few requests', async () => {
    await cloud.waitFor(() => requests().length === 1, WAIT, 'the boot request');
    expect(requests()[0]).toMatchObject({ reason: 'boot', haveVersion: 3, gatewayId: 'gw1', siteId: 'test' });
    await cloud.waitFor((ms) => ms.some((m) => m.topic.endsWith('sync/state')), WAIT, 'the state report');
    const state = syncStateSchema.parse(JSON.parse(cloud.on('gatehouse/v1/gw1/sync/state')[0]?.payload ?? '{}'));
    expect(state).toMatchObject({ version: 3, stale: false, staleAfterHours: 10, state: 'idle', lastRequest: { reason: 'boot' } });

    // Two more go out at once (a burst of three with the boot request), the rest wait for the interval and go as one.
    for (let i = 0; i < 6; i++) sync.requestSnapshot('command');
    await cloud.waitFor(() => requests().length === 4, WAIT, 'the burst and one deferred request');
    await delay(1_500);
    await cloud.sync();
    expect(requests().map((r) => r.reason)).toEqual(['boot', 'command', 'command', 'command']);
    expect(new Set(requests().map((r) => r.requestId)).size).toBe(4);
    // Retained: a consumer that subscribes now learns the state at once.
    const late = await subscribe(broker.url, ['gatehouse/v1/gw1/sync/state']);
    await late.waitFor((ms) => ms.length > 0, WAIT, 'the retained state');
    expect(late.messages[0]?.retain).toBe(true);
    await late.close();
  });

  it('asks for a refresh once the last sync is half the staleness limit old, and reports staleness', async () => {
    await cloud.waitFor(() => requests().length === 1, WAIT, 'the boot request');
    clock += 6 * HOUR;
    await cloud.waitFor(() => requests().some((r) => r.reason === 'refresh'), WAIT, 'a refresh request');
    clock += 5 * HOUR;
    await cloud.waitFor(
      () => cloud.on('gatehouse/v1/gw1/sync/state').some((m) => syncStateSchema.parse(JSON.parse(m.payload)).stale),
      WAIT,
      'a state report saying stale',
    );
    expect(sync.status()).toMatchObject({ stale: true, ageS: expect.any(Number) as unknown });
  });
});
