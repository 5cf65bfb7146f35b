/**
 * Signs the demo data set (config/demo-dataset.json) with the DEMO key into
 * config/demo-snapshot.jsonl, the signed seed file of config/demo.yaml.
 * Run after editing the demo data set:  npm run demo:sign
 *
 * The demo key's private half is public (see config/demo-cloud-key.DEMO-ONLY.pem).
 * issuedAt is fixed, so signing the same data set twice gives the same file.
 */
import { join } from 'node:path';
import { readDatasetFile } from '../daemon/sync/dataset-file.js';
import { DEMO_KEY_ID, DEMO_SITE_ID } from '../daemon/sync/demo-key.js';
import { loadSigningKey } from './cloud-sim/keys.js';
import { signAll, snapshotChunks, writeSnapshotFile } from './cloud-sim/protocol.js';

export const DEMO_GATEWAY_ID = 'demo-gw1';
const config = join(import.meta.dirname, '../config');

const dataset = readDatasetFile(join(config, 'demo-dataset.json'));
const chunks = snapshotChunks(dataset, {
  gatewayId: DEMO_GATEWAY_ID,
  siteId: DEMO_SITE_ID,
  snapshotId: `demo-v${dataset.version}`,
  issuedAt: new Date('2026-01-01T00:00:00Z'),
});
writeSnapshotFile(join(config, 'demo-snapshot.jsonl'), signAll(loadSigningKey(join(config, 'demo-cloud-key.DEMO-ONLY.pem'), DEMO_KEY_ID), chunks));
console.log(`config/demo-snapshot.jsonl: version ${dataset.version}, ${dataset.people.length} people, ${chunks.length} chunk(s), signed with ${DEMO_KEY_ID}`);
