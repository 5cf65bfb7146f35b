/**
 * Writes a synthetic data set of any size (scripts/lib/dataset-generator.ts):
 *
 *   npx tsx scripts/generate-dataset.ts --people 100000 --seed 42 --out var/100k.json
 *   npx tsx scripts/generate-dataset.ts --people 100000 --signed --key KEY.pem --key-id ID \
 *       --gateway gw1 --site s1 --out var/100k.jsonl      # a signed snapshot file for gatehouse sync import
 *
 * Same --seed and --now, same output.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateDataset } from './lib/dataset-generator.js';
import { loadSigningKey } from './cloud-sim/keys.js';
import { signAll, snapshotChunks, writeSnapshotFile } from './cloud-sim/protocol.js';

const usage = `Usage: npx tsx scripts/generate-dataset.ts --people N [--seed S] [--version V] [--now ISO] [--out FILE]
       add --signed --key PEM --key-id ID --gateway ID --site ID [--chunk-kib 64] for a signed snapshot file
`;

const { values } = parseArgs({
  options: {
    people: { type: 'string' },
    seed: { type: 'string', default: '1' },
    version: { type: 'string', default: '1' },
    now: { type: 'string' },
    out: { type: 'string' },
    signed: { type: 'boolean', default: false },
    key: { type: 'string' },
    'key-id': { type: 'string' },
    gateway: { type: 'string' },
    site: { type: 'string' },
    'chunk-kib': { type: 'string', default: '64' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help === true || values.people === undefined) {
  process.stdout.write(usage);
  process.exit(values.help === true ? 0 : 2);
}
const dataset = generateDataset({
  people: Number(values.people),
  seed: Number(values.seed),
  version: Number(values.version),
  ...(values.now === undefined ? {} : { now: new Date(values.now) }),
});
const credentials = dataset.people.reduce((n, p) => n + p.credentials.length, 0);
if (values.signed === true) {
  if (values.key === undefined || values['key-id'] === undefined || values.gateway === undefined || values.site === undefined || values.out === undefined) {
    process.stderr.write(`--signed needs --key, --key-id, --gateway, --site and --out\n${usage}`);
    process.exit(2);
  }
  const chunks = snapshotChunks(dataset, { gatewayId: values.gateway, siteId: values.site, chunkBytes: Number(values['chunk-kib']) * 1024 });
  writeSnapshotFile(values.out, signAll(loadSigningKey(values.key, values['key-id']), chunks));
  console.error(`${values.out}: ${dataset.people.length} people, ${credentials} credentials, version ${dataset.version}, ${chunks.length} signed chunk(s)`);
} else {
  const text = `${JSON.stringify(dataset, null, 1)}\n`;
  if (values.out === undefined) process.stdout.write(text);
  else writeFileSync(values.out, text);
  console.error(`${values.out ?? 'stdout'}: ${dataset.people.length} people, ${credentials} credentials, version ${dataset.version}`);
}
