/**
 * The sync facts every access event is stamped with (cache version, last
 * sync, age, stale) through the real AccessPipeline on a real store: they
 * come from the statement that read the candidates, so they must be those
 * of the data the decision was made on, before and after a swap and a
 * delta, and for a read that matched nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessPipeline, AccessResult, AccessSource } from '../../daemon/access/access-pipeline.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import type { CredentialCache } from '../../daemon/store/cache.js';
import type { Db } from '../../daemon/store/database.js';
import { datasetSchema, type DatasetInput } from '../../daemon/sync/dataset.js';
import { accessEventSchema, type AccessEvent } from '../../daemon/uplink/payloads.js';
import { openPipelineStore } from '../support/pipeline-store.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const source: AccessSource = { id: 'front-in', channel: 'door', mode: 'access-only', doorId: null, area: null, driver: 'sim' };

const ada = (status: 'active' | 'suspended'): DatasetInput['people'][number] => ({
  id: 'ada',
  kind: 'member',
  name: 'Ada',
  status,
  credentials: [{ id: 'ada-card', kind: 'card', value: '4614867' }],
  entitlements: [{ id: 'ada-plan', kind: 'plan', validFrom: '2026-01-01T00:00:00Z' }],
});
const snapshot = (version: number, status: 'active' | 'suspended') =>
  datasetSchema.parse({ schema: 'gatehouse.dataset/1', version, people: [ada(status)] });

describe('the sync facts a decision is stamped with', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let cache: CredentialCache;
  let pipeline: AccessPipeline;
  let now: number;

  beforeEach(() => {
    dir = tempDir();
    now = T0;
    ({ db, cache, pipeline } = openPipelineStore(dir.path, memoryLogger().logger, {
      duress: 'last-digit-plus-one',
      pipeline: { now: () => now, staleness: { staleAfterMs: 2 * HOUR, policy: 'keep-deciding' } },
    }));
  });
  afterEach(() => {
    db.close();
    dir.remove();
  });

  const journaled = (result: AccessResult): { result: AccessResult; event: AccessEvent } => ({
    result,
    event: accessEventSchema.parse(JSON.parse(result.event?.payload ?? 'null')),
  });
  const present = (card: string) => journaled(pipeline.present(source, { kind: 'card', number: new SecretValue(card) }));

  it('is the state of the data decided on, before and after a swap and a delta', () => {
    cache.applySnapshot(snapshot(4, 'active'), T0);
    now = T0 + 30 * MIN;
    const first = present('4614867');
    expect(first.result.decision.reason).toBe('granted');
    expect(first.event.cache).toEqual({ version: 4, syncedAt: new Date(T0).toISOString(), ageS: 30 * 60, stale: false });

    // No sync for longer than the limit: the same data, now stale.
    now = T0 + 3 * HOUR;
    expect(present('4614867').event.cache).toEqual({ version: 4, syncedAt: new Date(T0).toISOString(), ageS: 3 * 3600, stale: true });

    // A snapshot swaps in a new generation in which Ada is suspended: the
    // refusal on it carries its version and sync time, and is fresh again.
    cache.applySnapshot(snapshot(5, 'suspended'), now);
    now += MIN;
    const swapped = present('4614867');
    expect(swapped.result.decision.reason).toBe('person_inactive');
    expect(swapped.event.cache).toEqual({ version: 5, syncedAt: new Date(T0 + 3 * HOUR).toISOString(), ageS: 60, stale: false });

    // A delta reinstates her in the same generation: version and sync time move with the data.
    cache.writer.applyDelta([{ op: 'person.upsert', person: datasetSchema.parse({ schema: 'gatehouse.dataset/1', version: 6, people: [ada('active')] }).people[0]! }], 6, now);
    now += 2 * MIN;
    const delta = present('4614867');
    expect(delta.result.decision.reason).toBe('granted');
    expect(delta.event.cache).toEqual({ version: 6, syncedAt: new Date(now - 2 * MIN).toISOString(), ageS: 120, stale: false });
  });

  it('is the state in force when nothing matched, and after a swap as well', () => {
    cache.applySnapshot(snapshot(4, 'active'), T0);
    now = T0 + 3 * HOUR;
    const unknown = present('1');
    expect(unknown.result.decision.reason).toBe('unknown_credential');
    expect(unknown.event.cache).toEqual({ version: 4, syncedAt: new Date(T0).toISOString(), ageS: 3 * 3600, stale: true });
    cache.applySnapshot(snapshot(9, 'active'), now);
    expect(present('1').event.cache).toEqual({ version: 9, syncedAt: new Date(now).toISOString(), ageS: 0, stale: false });
  });

  it('is the state read with the real PIN when a duress code matched it', () => {
    const pins = datasetSchema.parse({
      schema: 'gatehouse.dataset/1',
      version: 2,
      people: [{ ...ada('active'), credentials: [{ id: 'ada-pin', kind: 'pin', value: '24680' }] }],
    });
    cache.applySnapshot(pins, T0);
    now = T0 + 10 * MIN;
    const { result, event } = journaled(pipeline.present(source, { kind: 'keypad', code: new SecretValue('24681') }));
    // Ada's PIN is 24680: her duress code matched through the second read.
    expect(result.decision).toMatchObject({ reason: 'granted', person: { id: 'ada' } });
    expect(event.cache).toEqual({ version: 2, syncedAt: new Date(T0).toISOString(), ageS: 600, stale: false });
  });
});
