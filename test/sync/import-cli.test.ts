/**
 * `gatehouse sync import FILE` as a technician runs it: with no daemon it
 * writes the database itself, with one it hands the file to the daemon over
 * the control socket; a bad file changes nothing. And the demo, whose data
 * set now arrives as a signed snapshot file through the same path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudKeyring } from '../../daemon/cloud/signed-message.js';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { readDatasetFile } from '../../daemon/sync/dataset-file.js';
import { DEMO_KEY_ID, DEMO_PUBLIC_KEY } from '../../daemon/sync/demo-key.js';
import { snapshotChunkSchema, snapshotPartSchema } from '../../daemon/sync/messages.js';
import { signAll, snapshotChunks, writeSnapshotFile } from '../../scripts/cloud-sim/protocol.js';
import { generateDataset } from '../../scripts/lib/dataset-generator.js';
import { cloudKey } from '../support/cloud-keys.js';
import { waitFor } from '../support/pty.js';
import { demo, memoryLogger } from '../support/site.js';
import { cacheDump, openStoreReadonly, signerOf, writeSyncSite } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';

const root = join(import.meta.dirname, '../..');
// One process, no tsx wrapper: SIGKILL must hit the daemon itself, not a wrapper that leaves it running.
const cli = ['--import', 'tsx', join(root, 'daemon/cli/main.ts')];
const key = cloudKey('cloud-2026');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const version = (dbPath: string): number => {
  const db = openStoreReadonly(dbPath);
  try {
    return (db.prepare('SELECT version FROM sync_state').get() as { version: number }).version;
  } finally {
    db.close();
  }
};

describe('gatehouse sync import', () => {
  let dir: ReturnType<typeof tempDir>;
  let daemon: ChildProcess | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    if (daemon !== undefined && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon?.once('exit', r));
    }
    daemon = undefined;
    dir.remove();
  });

  const snapshotFile = (name: string, people: number, v: number): string => {
    const file = join(dir.path, name);
    writeSnapshotFile(file, signAll(signerOf(key), snapshotChunks(generateDataset({ people, seed: v, version: v }), { gatewayId: 'gw1', siteId: 'test', chunkBytes: 32 * 1024 })));
    return file;
  };

  it('without a daemon, applies a signed file to the database directly, and refuses a tampered one', { timeout: 60_000 }, async () => {
    const config = writeSyncSite(dir.path, key);
    const dbPath = join(dir.path, 'gatehouse.db');
    // First run: no cache yet; the file is the bootstrap of a site without internet.
    const file = snapshotFile('v3.jsonl', 1500, 3);
    const ok = await run(['sync', 'import', file, '--config', config]);
    expect(ok.stderr).not.toContain('Error');
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/^applied snapshot \S+: version 3, 1,500 people/);
    expect(version(dbPath)).toBe(3);

    const before = cacheDump(dbPath);
    const lines = readFileSync(snapshotFile('v4.jsonl', 1500, 4), 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines.at(-1) ?? '{}') as { payload: string };
    last.payload = Buffer.from(Buffer.from(last.payload, 'base64').toString('utf8').replace('"version":4', '"version":5')).toString('base64');
    writeFileSync(join(dir.path, 'tampered.jsonl'), [...lines.slice(0, -1), JSON.stringify(last)].join('\n'));
    const bad = await run(['sync', 'import', join(dir.path, 'tampered.jsonl'), '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('import refused: bad_signature');
    expect(cacheDump(dbPath)).toBe(before);

    const replay = await run(['sync', 'import', file, '--config', config]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain('import refused: replayed');
  });

  it('with a daemon running, the daemon applies it, with progress, and decisions follow', { timeout: 90_000 }, async () => {
    const config = writeSyncSite(dir.path, key, { logLevel: 'info' });
    let out = '';
    daemon = spawn(process.execPath, [...cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    daemon.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    daemon.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('gatehouse started'), 'daemon started', 30_000);

    const file = snapshotFile('v6.jsonl', 6000, 6);
    const result = await run(['sync', 'import', file, '--config', config]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/applied snapshot \S+: version 6, 6,000 people/);
    expect(result.stderr).toMatch(/importing .*v6\.jsonl: /);

    const status = JSON.parse((await run(['status', '--json', '--config', config])).stdout) as { cache: { version: number; people: number; stale: boolean }; sync: { import: { state: string } } };
    expect(status.cache).toMatchObject({ version: 6, people: 6000, stale: false });
    expect(status.sync.import.state).toBe('done');
    const human = (await run(['sync', 'status', '--config', config])).stdout;
    expect(human).toMatch(/^version 6, \d+s old \(last sync .*, import\)/);
    // Ada is not in the generated data set.
    expect((await run(['sim', 'card', demo.ada.card, '--config', config])).stdout).toMatch(/^DENIED \(unknown_credential\)/);
    // No broker configured: nobody to ask.
    const request = await run(['sync', 'request', '--config', config]);
    expect(request.code).toBe(1);
    expect(request.stderr).toContain('nobody to ask for a snapshot');
  });
});

describe('the demo data set, signed', () => {
  it('config/demo-snapshot.jsonl is the demo data set, signed with the demo key (run npm run demo:sign after editing it)', () => {
    const keyring = new CloudKeyring([{ id: DEMO_KEY_ID, key: DEMO_PUBLIC_KEY }]);
    const lines = readFileSync(join(root, 'config/demo-snapshot.jsonl'), 'utf8').trimEnd().split('\n');
    const chunks = lines.map((line) => {
      const verified = keyring.verify(line, 1024 * 1024);
      if (!verified.ok) throw new Error(verified.detail);
      return snapshotChunkSchema.parse(verified.payload);
    });
    const dataset = readDatasetFile(join(root, 'config/demo-dataset.json'));
    const people = chunks.flatMap((c) => snapshotPartSchema.parse(JSON.parse(c.data)).people);
    expect(people).toEqual(dataset.people);
    expect(chunks[0]).toMatchObject({ gatewayId: 'demo-gw1', siteId: 'demo', version: dataset.version });
  });

  it('npm start\'s config seeds the cache from it, through the signed path', async () => {
    const dir = tempDir();
    try {
      for (const f of ['demo.yaml', 'demo-secrets.yaml', 'demo-snapshot.jsonl']) copyFileSync(join(root, 'config', f), join(dir.path, f));
      writeFileSync(join(dir.path, 'demo.yaml'), readFileSync(join(dir.path, 'demo.yaml'), 'utf8').replaceAll('../var/', './var/'));
      const gateway = await Gateway.start(loadConfig(join(dir.path, 'demo.yaml')), memoryLogger('warn').logger, '0.0.0-demo');
      try {
        expect(gateway.status().sync).toMatchObject({ version: 1, source: 'seed', snapshotId: 'demo-v1', keys: [DEMO_KEY_ID] });
        expect(gateway.simulate('card', demo.ada.card).decision.outcome).toBe('granted');
      } finally {
        await gateway.stop();
      }
    } finally {
      dir.remove();
    }
  });

  it('no other site may trust the demo key', async () => {
    const dir = tempDir();
    try {
      const config = writeSyncSite(dir.path, { ...key, id: 'looks-harmless', publicPem: `-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA${DEMO_PUBLIC_KEY}\n-----END PUBLIC KEY-----\n` });
      await expect(Gateway.start(loadConfig(config), memoryLogger('warn').logger, '0.0.0-demo')).rejects.toThrow(/is the demo key/);
    } finally {
      dir.remove();
    }
  });
});
