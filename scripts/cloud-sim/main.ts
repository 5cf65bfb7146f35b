/**
 * The simulated cloud on the command line. See --help.
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readDatasetFile } from '../../daemon/sync/dataset-file.js';
import { DEMO_KEY_ID } from '../../daemon/sync/demo-key.js';
import type { Dataset } from '../../daemon/sync/dataset.js';
import { generateDataset } from '../lib/dataset-generator.js';
import { acksModule } from './acks.js';
import { CloudSim, type CloudSimCommand, type CloudSimModule } from './cloud-sim.js';
import { commandsModule } from './commands.js';
import { generateSigningKey, loadSigningKey, publicKeyBase64 } from './keys.js';
import { signAll, snapshotChunks, writeSnapshotFile } from './protocol.js';

const root = join(import.meta.dirname, '../..');
const DEMO_KEY_FILE = join(root, 'config/demo-cloud-key.DEMO-ONLY.pem');

const usage = `Usage: npx tsx scripts/cloud-sim/main.ts [options]

Plays the cloud for one gateway over MQTT: publishes signed snapshots and
deltas of a data set, answers the gateway's snapshot requests, and prints
what the gateway publishes (access events, status, sync state).

Options:
  --url URL             broker (default mqtt://127.0.0.1:1883)
  --prefix PREFIX       topic prefix (default gatehouse/v1)
  --gateway ID          gateway id (default demo-gw1)
  --site ID             site id (default demo)
  --dataset FILE        gatehouse.dataset/1 JSON file (default config/demo-dataset.json)
  --generate N          generate N people instead (scripts/lib/dataset-generator.ts)
  --seed N              seed for --generate (default 1)
  --key FILE            Ed25519 private key, PEM (default: the DEMO key, config/demo-cloud-key.DEMO-ONLY.pem)
  --key-id ID           key id in the envelopes (default ${DEMO_KEY_ID} for the demo key, else cloud-sim)
  --new-key             sign with a fresh key pair and print its public half for cloud.publicKeys
  --chunk-kib N         target size of a snapshot chunk's data (default 64)
  --no-answer           do not answer snapshot requests
  --write-snapshot FILE write the data set as a signed snapshot file (for gatehouse sync import) and exit
  -h, --help            this help

Console commands (type while it runs):
  snapshot                      publish a full snapshot
  heartbeat                     publish an empty delta (version + 1)
  card PERSON NUMBER            add a card to a person (delta)
  pin PERSON DIGITS             add a PIN to a person (delta)
  revoke CREDENTIAL             delete a credential (delta)
  suspend PERSON | activate PERSON
  delete PERSON                 delete a person (delta)
  who                           who is checked in, from the events received
  version                       the cloud's data version
  help, quit
`;

/**
 * Extension point: modules for other parts of the cloud link, started once
 * connected, each able to add console commands. The command and event-ack
 * side (scripts/cloud-sim/commands.ts, acks.ts) mounts here.
 */
const modules: CloudSimModule[] = [commandsModule(), acksModule()];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      prefix: { type: 'string', default: 'gatehouse/v1' },
      gateway: { type: 'string', default: 'demo-gw1' },
      site: { type: 'string', default: 'demo' },
      dataset: { type: 'string' },
      generate: { type: 'string' },
      seed: { type: 'string', default: '1' },
      key: { type: 'string' },
      'key-id': { type: 'string' },
      'new-key': { type: 'boolean', default: false },
      'chunk-kib': { type: 'string', default: '64' },
      'no-answer': { type: 'boolean', default: false },
      'write-snapshot': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  const dataset: Dataset =
    values.generate === undefined
      ? readDatasetFile(values.dataset ?? join(root, 'config/demo-dataset.json'))
      : generateDataset({ people: Number(values.generate), seed: Number(values.seed) });
  const keyFile = values.key ?? DEMO_KEY_FILE;
  const signer =
    values['new-key'] === true
      ? generateSigningKey(values['key-id'] ?? 'cloud-sim')
      : loadSigningKey(keyFile, values['key-id'] ?? (values.key === undefined ? DEMO_KEY_ID : 'cloud-sim'));
  if (values['new-key'] === true) console.log(`cloud.publicKeys: [{ id: ${signer.keyId}, key: "${publicKeyBase64(signer.privateKey)}" }]`);
  const chunkBytes = Number(values['chunk-kib']) * 1024;

  if (values['write-snapshot'] !== undefined) {
    const chunks = snapshotChunks(dataset, { gatewayId: values.gateway ?? 'demo-gw1', siteId: values.site ?? 'demo', chunkBytes });
    writeSnapshotFile(values['write-snapshot'], signAll(signer, chunks));
    console.log(`wrote ${values['write-snapshot']}: version ${dataset.version}, ${dataset.people.length} people, ${chunks.length} chunk(s)`);
    return 0;
  }

  const sim = new CloudSim({
    url: values.url ?? 'mqtt://127.0.0.1:1883',
    topicPrefix: values.prefix ?? 'gatehouse/v1',
    gatewayId: values.gateway ?? 'demo-gw1',
    siteId: values.site ?? 'demo',
    signer,
    dataset,
    chunkBytes,
    answerRequests: values['no-answer'] !== true,
    modules,
    log: (line) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`),
  });
  await sim.start();
  await runConsole(sim, Object.assign({}, ...modules.map((m) => m.commands ?? {})) as Record<string, CloudSimCommand>);
  await sim.stop();
  return 0;
}

async function runConsole(sim: CloudSim, extra: Record<string, CloudSimCommand>): Promise<void> {
  const person = (id: string | undefined) => {
    const p = id === undefined ? undefined : sim.data.people.get(id);
    if (p === undefined) throw new Error(`no person "${id ?? ''}"`);
    return p;
  };
  const commands: Record<string, (args: string[]) => Promise<unknown>> = {
    snapshot: () => sim.publishSnapshot(),
    heartbeat: () => sim.heartbeat(),
    card: ([id, number]) => sim.publishDelta([{ op: 'credential.upsert', personId: person(id).id, credential: { id: `${id ?? ''}-card-${Date.now()}`, kind: 'card', value: number ?? '', validFrom: null, validTo: null, status: 'active' } }]),
    pin: ([id, digits]) => sim.publishDelta([{ op: 'credential.upsert', personId: person(id).id, credential: { id: `${id ?? ''}-pin-${Date.now()}`, kind: 'pin', value: digits ?? '', validFrom: null, validTo: null, status: 'active' } }]),
    revoke: ([id]) => sim.publishDelta([{ op: 'credential.delete', id: id ?? '' }]),
    suspend: ([id]) => sim.upsertPerson({ ...person(id), status: 'suspended' }),
    activate: ([id]) => sim.upsertPerson({ ...person(id), status: 'active' }),
    delete: ([id]) => sim.deletePerson(person(id).id),
    who: async () => {
      const list = sim.whoIsIn();
      console.log(list.length === 0 ? 'nobody is checked in' : list.map((p) => `${p.personId} (${sim.data.people.get(p.personId)?.name ?? '?'}) since ${p.since} at ${p.readerId}`).join('\n'));
    },
    version: async () => console.log(`version ${sim.version}, ${sim.data.people.size} people`),
    help: async () => process.stdout.write(usage.slice(usage.indexOf('Console commands'))),
  };
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    const [name, ...args] = line.trim().split(/\s+/);
    if (name === undefined || name === '') continue;
    if (name === 'quit' || name === 'exit') break;
    try {
      const own = commands[name];
      const module = extra[name];
      if (own !== undefined) await own(args);
      else if (module !== undefined) await module.run(args);
      else console.log(`unknown command "${name}"; try help`);
    } catch (error) {
      console.log(`error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`cloud-sim: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
