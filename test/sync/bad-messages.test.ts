/**
 * Forty-two bad sync messages, every kind the engine knows, sent over a real
 * Mosquitto to a running daemon: each is rejected with its reason and
 * counted, and afterwards the database's cache tables (every generation),
 * sync_state and meta are byte-for-byte what they were before.
 */
import { sign } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { SIGNED_SCHEMA, signPayload } from '../../daemon/cloud/signed-message.js';
import type { SyncRejectReason } from '../../daemon/sync/messages.js';
import { CloudSim } from '../../scripts/cloud-sim/cloud-sim.js';
import { deltaPayload, snapshotChecksum, snapshotChunks } from '../../scripts/cloud-sim/protocol.js';
import { cloudKey } from '../support/cloud-keys.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { waitFor } from '../support/pty.js';
import { demo, memoryLogger } from '../support/site.js';
import { cacheDump, dataset, demoDataset, signerOf, writeSyncSite } from '../support/sync.js';
import { tempDir } from '../support/temp-dir.js';

const key = cloudKey('cloud-2026');
const stranger = cloudKey('cloud-2026');
const to = { gatewayId: 'gw1', siteId: 'test' };
const MAX_BYTES = 64 * 1024;
const WAIT = 20_000;

type Topic = 'sync/snapshot' | 'sync/delta';
interface Bad {
  readonly name: string;
  readonly topic: Topic;
  readonly payload: string | Buffer;
  readonly reason: SyncRejectReason;
  /** Accepted messages that must go first (a snapshot's good chunk 0). */
  readonly before?: readonly { topic: Topic; payload: string }[];
}

const signed = (payload: unknown): string => signPayload(key.privateKey, key.id, payload);
const delta = (from: number, toVersion: number, ops: unknown[] = [], over: Record<string, unknown> = {}) => ({ ...deltaPayload(to, from, toVersion, []), ops, ...over });
const people = (n: number, version: number) =>
  dataset({
    version,
    people: Array.from({ length: n }, (_, i) => ({ id: `p-${version}-${i}`, kind: 'member' as const, name: `Person ${i}`, status: 'active' as const, credentials: [{ id: `c-${version}-${i}`, kind: 'card' as const, value: String(90_000 + version * 100 + i) }] })),
  });
/** Payloads of a snapshot in several chunks (forced by a small chunk size). */
const chunksOf = (version: number, n = 12) => snapshotChunks(people(n, version), { ...to, chunkBytes: 300 });
/** Re-cut a snapshot's chunks with new data, with the checksum that data deserves. */
const withData = (chunks: ReturnType<typeof chunksOf>, data: string[]) => {
  const checksum = snapshotChecksum(data);
  return chunks.slice(0, data.length).map((c, i) => ({ ...c, chunks: data.length, data: data[i] ?? '', checksum }));
};

function badMessages(): Bad[] {
  const good = signed(delta(1, 2, [{ op: 'person.delete', id: demo.ada.id }]));
  const goodEnvelope = JSON.parse(good) as { payload: string; sig: string };
  const goodChunk = snapshotChunks(demoDataset(9), to)[0];
  const multi = chunksOf(20);
  const other = chunksOf(21);
  const dup = chunksOf(22);
  const sums = chunksOf(23, 6).map((c) => ({ ...c, checksum: `sha256:${'a'.repeat(64)}` }));
  const orphan = chunksOf(24);
  const person = (id: string, extra: Record<string, unknown> = {}) => ({ id, kind: 'member', name: id, status: 'active', ...extra });
  const twoSettings = withData(chunksOf(27, 4), [JSON.stringify({ settings: {}, people: [person('s1')] }), JSON.stringify({ settings: { deviceLimit: 2 } })]);
  return [
    // The envelope.
    { name: 'unsigned delta', topic: 'sync/delta', payload: JSON.stringify(delta(1, 2)), reason: 'unsigned' },
    { name: 'unsigned chunk', topic: 'sync/snapshot', payload: JSON.stringify(goodChunk), reason: 'unsigned' },
    { name: 'delta signed with another key under our key id', topic: 'sync/delta', payload: signPayload(stranger.privateKey, key.id, delta(1, 2)), reason: 'bad_signature' },
    { name: 'chunk signed with another key', topic: 'sync/snapshot', payload: signPayload(stranger.privateKey, key.id, goodChunk), reason: 'bad_signature' },
    { name: 'tampered delta', topic: 'sync/delta', payload: JSON.stringify({ ...goodEnvelope, schema: SIGNED_SCHEMA, keyId: key.id, payload: Buffer.from(JSON.stringify(delta(1, 2, [{ op: 'person.delete', id: demo.grace.id }]))).toString('base64') }), reason: 'bad_signature' },
    { name: 'tampered chunk', topic: 'sync/snapshot', payload: JSON.stringify({ schema: SIGNED_SCHEMA, keyId: key.id, payload: Buffer.from(JSON.stringify({ ...goodChunk, version: 99 })).toString('base64'), sig: goodEnvelope.sig }), reason: 'bad_signature' },
    { name: 'delta under an unknown key id', topic: 'sync/delta', payload: signPayload(key.privateKey, 'retired-key', delta(1, 2)), reason: 'unknown_key' },
    { name: 'chunk under an unknown key id', topic: 'sync/snapshot', payload: signPayload(key.privateKey, 'retired-key', goodChunk), reason: 'unknown_key' },
    { name: 'malformed JSON', topic: 'sync/delta', payload: '{"schema": "gatehouse.signed/1", "keyId":', reason: 'malformed' },
    { name: 'binary garbage', topic: 'sync/snapshot', payload: Buffer.from([0xff, 0x00, 0x7b, 0x13, 0x88]), reason: 'malformed' },
    { name: 'envelope without a signature', topic: 'sync/delta', payload: JSON.stringify({ schema: SIGNED_SCHEMA, keyId: key.id, payload: goodEnvelope.payload }), reason: 'malformed' },
    {
      name: 'signed bytes that are not JSON',
      topic: 'sync/delta',
      payload: JSON.stringify({ schema: SIGNED_SCHEMA, keyId: key.id, payload: Buffer.from('not json').toString('base64'), sig: sign(null, Buffer.from('not json'), key.privateKey).toString('base64') }),
      reason: 'payload_not_json',
    },
    { name: 'oversized delta', topic: 'sync/delta', payload: signed(delta(1, 2, [], { padding: 'x'.repeat(MAX_BYTES) })), reason: 'oversized' },
    { name: 'oversized chunk', topic: 'sync/snapshot', payload: signed({ ...goodChunk, data: JSON.stringify({ people: [person('big', { name: 'x'.repeat(200) })] }).padEnd(MAX_BYTES + 10, ' ') }), reason: 'oversized' },
    // Addressing and type.
    { name: "another gateway's delta", topic: 'sync/delta', payload: signed(delta(1, 2, [], { gatewayId: 'gw2' })), reason: 'wrong_gateway' },
    { name: "another gateway's chunk", topic: 'sync/snapshot', payload: signed({ ...goodChunk, gatewayId: 'gw2' }), reason: 'wrong_gateway' },
    { name: "another site's delta", topic: 'sync/delta', payload: signed(delta(1, 2, [], { siteId: 'elsewhere' })), reason: 'wrong_site' },
    { name: 'a chunk on the delta topic', topic: 'sync/delta', payload: signed(goodChunk), reason: 'wrong_type' },
    { name: 'a delta on the snapshot topic', topic: 'sync/snapshot', payload: signed(delta(1, 2)), reason: 'wrong_type' },
    { name: 'a command on the delta topic', topic: 'sync/delta', payload: signed({ type: 'command', gatewayId: 'gw1', cmdId: 'x' }), reason: 'wrong_type' },
    // Schema.
    { name: 'delta that does not move the version', topic: 'sync/delta', payload: signed(delta(1, 1)), reason: 'invalid_payload' },
    { name: 'delta with an unknown operation', topic: 'sync/delta', payload: signed(delta(1, 2, [{ op: 'person.explode', id: 'm-1001' }])), reason: 'invalid_payload' },
    { name: 'delta with a malformed person', topic: 'sync/delta', payload: signed(delta(1, 2, [{ op: 'person.upsert', person: person('x', { kind: 'alien' }) }])), reason: 'invalid_payload' },
    { name: 'delta with too many operations', topic: 'sync/delta', payload: signed(delta(1, 2, Array.from({ length: 1001 }, (_, i) => ({ op: 'door.delete', id: `d${i}` })))), reason: 'invalid_payload' },
    { name: 'chunk index beyond the count', topic: 'sync/snapshot', payload: signed({ ...goodChunk, chunk: 1, chunks: 1 }), reason: 'invalid_payload' },
    { name: 'chunk with a malformed checksum', topic: 'sync/snapshot', payload: signed({ ...goodChunk, checksum: 'md5:abc' }), reason: 'invalid_payload' },
    { name: 'signed payload that is an array', topic: 'sync/snapshot', payload: signed([goodChunk]), reason: 'invalid_payload' },
    // Versions.
    { name: 'replayed delta (an older version)', topic: 'sync/delta', payload: signed(delta(0, 1)), reason: 'replayed' },
    { name: 'snapshot at the version in force, answering no request', topic: 'sync/snapshot', payload: signed(snapshotChunks(demoDataset(1), to)[0]), reason: 'replayed' },
    { name: 'snapshot older than the cache', topic: 'sync/snapshot', payload: signed(snapshotChunks(demoDataset(0), to)[0]), reason: 'replayed' },
    { name: 'delta that skips versions', topic: 'sync/delta', payload: signed(delta(3, 4)), reason: 'version_gap' },
    { name: 'delta deleting a person the gateway does not have', topic: 'sync/delta', payload: signed(delta(1, 2, [{ op: 'person.delete', id: 'ghost' }])), reason: 'delta_conflict' },
    // Snapshot assembly.
    { name: 'a missing chunk', topic: 'sync/snapshot', payload: signed(multi[2]), reason: 'missing_chunk', before: [{ topic: 'sync/snapshot', payload: signed(multi[0]) }] },
    { name: 'a chunk count that changes', topic: 'sync/snapshot', payload: signed({ ...other[1], chunks: (other[1]?.chunks ?? 0) + 1 }), reason: 'chunk_mismatch', before: [{ topic: 'sync/snapshot', payload: signed(other[0]) }] },
    {
      name: 'a checksum that the chunks do not add up to',
      topic: 'sync/snapshot',
      payload: signed(sums.at(-1)),
      reason: 'checksum_mismatch',
      before: sums.slice(0, -1).map((c) => ({ topic: 'sync/snapshot' as const, payload: signed(c) })),
    },
    { name: 'a chunk whose chunk 0 never came', topic: 'sync/snapshot', payload: signed(orphan[1]), reason: 'missing_chunk' },
    { name: 'chunk data that is not JSON', topic: 'sync/snapshot', payload: signed(withData(chunksOf(25), ['{"people": ['])[0]), reason: 'invalid_payload' },
    {
      name: 'a person with an unknown status',
      topic: 'sync/snapshot',
      payload: signed(withData(chunksOf(26), [JSON.stringify({ people: [person('p1', { status: 'sleeping' })] })])[0]),
      reason: 'invalid_payload',
    },
    {
      name: 'the same person twice',
      topic: 'sync/snapshot',
      payload: signed(withData(chunksOf(28), [JSON.stringify({ people: [person('twin'), person('twin')] })])[0]),
      reason: 'invalid_payload',
    },
    { name: 'settings in two chunks', topic: 'sync/snapshot', payload: signed(twoSettings[1]), reason: 'invalid_payload', before: [{ topic: 'sync/snapshot', payload: signed(twoSettings[0]) }] },
    // Snapshot 22 stays in progress after the first of these, and the second ends it.
    {
      name: 'an older snapshot while a newer one is being received',
      topic: 'sync/snapshot',
      payload: signed(chunksOf(21)[0]),
      reason: 'superseded',
      before: [{ topic: 'sync/snapshot', payload: signed(dup[0]) }],
    },
    { name: 'a duplicate chunk with different content', topic: 'sync/snapshot', payload: signed({ ...dup[0], data: JSON.stringify({ people: [person('intruder')] }) }), reason: 'chunk_conflict' },
  ];
}

describe('bad sync messages through a running daemon', () => {
  let dir: ReturnType<typeof tempDir>;
  let broker: Mosquitto;
  let cloud: CloudSim;
  let gateway: Gateway;

  beforeAll(async () => {
    dir = tempDir();
    broker = await startMosquitto();
    cloud = new CloudSim({ url: broker.url, ...to, signer: signerOf(key), dataset: demoDataset(1), answerRequests: false });
    await cloud.start();
    const config = writeSyncSite(dir.path, key, { brokerUrl: broker.url, cloud: `  maxMessageBytes: ${MAX_BYTES}\n` });
    gateway = await Gateway.start(loadConfig(config), memoryLogger('warn').logger, '0.0.0-bad');
    // The state report follows the subscriptions on the same connection: once it is here, they are active.
    await cloud.waitFor(() => cloud.states.length > 0, WAIT, 'the first sync/state');
    await gateway.sync.engine.whenIdle();
  });
  afterAll(async () => {
    await gateway.stop();
    await cloud.stop();
    await broker.dispose();
    dir.remove();
  });

  it('rejects every one with its reason and counter, and leaves the cache tables byte-for-byte as they were', async () => {
    const dbPath = join(dir.path, 'gatehouse.db');
    const before = cacheDump(dbPath);
    const bad = badMessages();
    expect(bad.length).toBeGreaterThanOrEqual(30);
    const expected: Partial<Record<SyncRejectReason, number>> = {};
    for (const message of bad) {
      for (const first of message.before ?? []) await cloud.publishRaw(first.topic, first.payload);
      await cloud.publishRaw(message.topic, message.payload);
      expected[message.reason] = (expected[message.reason] ?? 0) + 1;
      const want = expected[message.reason];
      await waitFor(() => (gateway.status().sync.rejected[message.reason] ?? 0) >= (want ?? 0), `"${message.name}" rejected as ${message.reason}`, WAIT);
      // Exactly this reason, no other: the counters match the list so far.
      expect(gateway.status().sync.rejected, message.name).toEqual(expected);
    }
    // Every reason but the two that need time or a flood (snapshot_timeout, busy: sync-engine.test.ts).
    expect(new Set(bad.map((b) => b.reason)).size).toBe(18);

    await gateway.sync.engine.whenIdle();
    expect(cacheDump(dbPath)).toBe(before);
    expect(gateway.cache.version()).toBe(1);
    expect(gateway.simulate('card', demo.ada.card, 'front-in').decision.outcome).toBe('granted');
    // The operator sees the counts too.
    expect(gateway.status().sync.lastRejection?.reason).toBe('chunk_conflict');
  });
});
