/**
 * e2e_pty_loaded_p99_ms: the card-to-relay measurement of e2e-pty.ts while
 * the daemon applies a large signed snapshot (imported over the control
 * socket, as `gatehouse sync import` does) and its outbox drains a large
 * backlog to a real Mosquitto that comes up as the load starts. Sampling runs
 * from the start of the load until both the import and the drain are done,
 * so every sample is taken under load (the report says how many overlapped
 * the drain).
 *
 * The baseline is the same load with the pty echo process of e2e-pty.ts
 * sampled instead of the daemon (probe 'echo'): what a process that does
 * nothing but answer a byte gets from this machine while the daemon, its
 * staging thread and the broker share the cores.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { sendControlRequest } from '../daemon/control/control-server.js';
import type { GatewayStatusReport } from '../daemon/runtime/gateway.js';
import { openDatabase } from '../daemon/store/database.js';
import { Journal } from '../daemon/store/journal.js';
import { accessTopic } from '../daemon/uplink/topics.js';
import { signAll, snapshotChunks, writeSnapshotFile } from '../scripts/cloud-sim/protocol.js';
import { generateDataset } from '../scripts/lib/dataset-generator.js';
import { createMosquitto } from '../test/support/mosquitto.js';
import { demoDataset } from '../test/support/sync.js';
import { measureE2ePty, type PtyLatency } from './e2e-pty.js';
import { queueSampleEvents } from './outbox-drain.js';

export interface LoadedLatency extends PtyLatency {
  /** Samples taken while the outbox still had events awaiting their PUBACK. */
  readonly duringDrain: number;
  readonly importS: number;
}

async function status(socket: string): Promise<GatewayStatusReport> {
  const response = await sendControlRequest(socket, { op: 'status' });
  if (!response.ok) throw new Error(response.error);
  return response.data as GatewayStatusReport;
}

/**
 * With `people` = 0 there is no snapshot import: the drain alone is the load
 * (to tell its share of the loaded figure from the import's). With probe
 * 'echo' the same load runs in the daemon while the echo process beside it
 * is sampled instead: the floor of this machine under this load.
 */
export async function measureE2ePtyLoaded(people: number, events: number, minSamples: number, probe: 'daemon' | 'echo' = 'daemon'): Promise<LoadedLatency> {
  const broker = await createMosquitto();
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const envelopes = people === 0 ? null : snapshotEnvelopes(people, privateKey);
  let duringDrain = 0;
  let importS = Number.NaN;
  try {
    const result = await measureE2ePty(minSamples, {
      probe,
      configExtra: `mqtt: { url: "${broker.url}", reconnectMs: 100 }
cloud:
  publicKeys: [{ id: bench, key: ${JSON.stringify(pem)} }]
`,
      beforeStart: (dir) => {
        if (envelopes !== null) writeSnapshotFile(join(dir, 'snapshot.jsonl'), envelopes);
        // The backlog: events queued while the broker was away.
        const db = openDatabase(join(dir, 'gatehouse.db'));
        queueSampleEvents(db, new Journal(db, 'bench-backlog'), accessTopic('gatehouse/v1', 'gw1'), events);
        db.close();
      },
      load: async (dir) => {
        const socket = join(dir, 'control.sock');
        const started = performance.now();
        await broker.start();
        if (envelopes !== null) {
          const answer = await sendControlRequest(socket, { op: 'sync-import', path: join(dir, 'snapshot.jsonl'), force: true });
          if (!answer.ok) throw new Error(`sync-import: ${answer.error}`);
        }
        let importing = envelopes !== null;
        let draining = true;
        let polling = true;
        let failure: Error | null = null;
        const poller = (async () => {
          while (polling) {
            const s = await status(socket);
            if (s.sync.import?.state === 'failed') throw new Error(`snapshot import failed: ${JSON.stringify(s.sync.import.error)}`);
            if (importing && s.cache.version === 1000) {
              importing = false;
              importS = (performance.now() - started) / 1000;
            }
            draining = s.journal.awaitingPuback > 0;
            // Twice a second: the status query is itself work for the daemon (counts over the cache).
            await new Promise((r) => setTimeout(r, 500));
          }
        })().catch((error: unknown) => {
          failure = error instanceof Error ? error : new Error(String(error));
        });
        return {
          done: () => {
            if (failure !== null) throw failure;
            return !importing && !draining;
          },
          onSample: () => {
            if (draining) duringDrain++;
          },
          stop: async () => {
            polling = false;
            await poller;
          },
        };
      },
    });
    return { ...result, duringDrain, importS };
  } finally {
    await broker.dispose();
  }
}

function snapshotEnvelopes(people: number, privateKey: KeyObject): ReturnType<typeof signAll> {
  // The demo people stay in the new data set: the measured cards must still open the door.
  const generated = generateDataset({ people, seed: 5, version: 1000 });
  // Ids prefixed: the generator's ids (m-1001, c-1, ...) overlap the demo's.
  const demoPeople = demoDataset(1000).people.map((p) => ({
    ...p,
    id: `demo-${p.id}`,
    credentials: p.credentials.map((c) => ({ ...c, id: `demo-${c.id}` })),
    entitlements: p.entitlements.map((e) => ({ ...e, id: `demo-${e.id}` })),
  }));
  const dataset = { ...generated, people: [...generated.people, ...demoPeople] };
  return signAll({ keyId: 'bench', privateKey }, snapshotChunks(dataset, { gatewayId: 'gw1', siteId: 'test', chunkBytes: 64 * 1024 }));
}
