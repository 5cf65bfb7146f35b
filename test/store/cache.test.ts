import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CANDIDATES_SQL, CredentialCache } from '../../daemon/store/cache.js';
import { CACHE_COUNTS_SQL } from '../../daemon/store/cache-schema.js';
import { DeltaConflictError } from '../../daemon/store/cache-writer.js';
import { CredentialHasher, canonicalCard, canonicalCode, fingerprint } from '../../daemon/store/credential-hash.js';
import { openDatabase, schemaVersion, type Db } from '../../daemon/store/database.js';
import { migrations } from '../../daemon/store/migrations.js';
import { CheckinSessions, OPEN_SESSION_SQL } from '../../daemon/store/sessions.js';
import { readDatasetFile } from '../../daemon/sync/dataset-file.js';
import { datasetSchema, type Dataset, type PersonRecord } from '../../daemon/sync/dataset.js';
import type { DeltaOp } from '../../daemon/sync/messages.js';
import { generateDataset } from '../../scripts/lib/dataset-generator.js';
import { fcOptions } from '../support/fast-check.js';
import { tempDir } from '../support/temp-dir.js';

const key = Buffer.alloc(32, 7);
const hasher = new CredentialHasher(key);

describe('credential canonical forms', () => {
  it('treats a card number with or without leading zeros as the same card', () => {
    expect(canonicalCard('0004614867')).toBe(canonicalCard('4614867'));
    expect(canonicalCard('70,27347')).toBe('070,27347');
    expect(canonicalCard('67003b51c6')).toBe(canonicalCard('67003B51C6'));
  });

  it('keeps leading zeros of PINs and refuses non-digits', () => {
    expect(canonicalCode('01234')).toBe('01234');
    expect(hasher.lookupOf('pin', '01234').equals(hasher.lookupOf('pin', '1234'))).toBe(false);
    expect(() => canonicalCode('12a45')).toThrow(/4 to 12 digits/);
    expect(() => canonicalCard('')).toThrow();
  });

  it('separates cards from codes, and PINs share the code namespace with visitor codes', () => {
    expect(hasher.lookupOf('card', '12345').equals(hasher.lookupOf('pin', '12345'))).toBe(false);
    expect(hasher.lookupOf('pin', '12345').equals(hasher.lookupOf('visitor_code', '12345'))).toBe(true);
    expect(hasher.lookupOf('keypad', '12345').equals(hasher.lookupOf('pin', '12345'))).toBe(true);
  });

  it('is HMAC-SHA-256 of namespace, NUL and value under the site key, for any key and value', () => {
    const namespaces = ['card', 'code', 'email', 'ble_beacon', 'ble_key'] as const;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 100 }),
        fc.constantFrom(...namespaces),
        // Short values take the reused buffers, long and multi-byte ones the fallback.
        fc.oneof(fc.string({ maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ minLength: 150, maxLength: 400 })),
        (siteKey, namespace, value) => {
          const expected = createHmac('sha256', Buffer.from(siteKey)).update(namespace).update('\0').update(value).digest();
          const h = new CredentialHasher(Buffer.from(siteKey));
          expect(h.lookup(namespace, value).equals(expected)).toBe(true);
          // The buffers are reused: a second, different call must not see the first.
          expect(h.lookup(namespace, `${value}x`).equals(createHmac('sha256', Buffer.from(siteKey)).update(`${namespace}\0${value}x`).digest())).toBe(true);
        },
      ),
      fcOptions(300),
    );
  });

  it('depends on the site key', () => {
    const other = new CredentialHasher(Buffer.alloc(32, 8));
    expect(other.lookupOf('pin', '12345').equals(hasher.lookupOf('pin', '12345'))).toBe(false);
    expect(fingerprint(hasher.lookupOf('pin', '12345'))).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('SQLite store', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(join(dir.path, 'g.db'));
  });
  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('migrates a new file to the latest schema and opens it again unchanged', () => {
    expect(schemaVersion(db)).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    db = openDatabase(join(dir.path, 'g.db'));
    expect(schemaVersion(db)).toBe(migrations.length);
  });

  it('refuses a database written by a newer Gatehouse', () => {
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.close();
    expect(() => openDatabase(join(dir.path, 'g.db'))).toThrow(/newer than this Gatehouse/);
    db = openDatabase(':memory:');
  });

  it('counts what is in force, again after every snapshot and delta (the figures are kept between them)', () => {
    const cache = new CredentialCache(db, hasher);
    const dataset = readDatasetFile(join(import.meta.dirname, '../../config/demo-dataset.json'));
    expect(cache.counts()).toEqual({ people: 0, credentials: 0, entitlements: 0 });
    cache.applySnapshot(dataset, Date.now());
    expect(cache.counts()).toEqual({ people: 5, credentials: 8, entitlements: 5 });
    const grace: PersonRecord = {
      id: 'm-9', kind: 'member', name: 'Grace', status: 'active', hostId: null, alwaysAllowed: false, expectedArrival: null, email: null, deviceLimit: null,
      networkCheckin: true, extendedUnlock: false, lockdownOverride: false, usage: null,
      credentials: [{ id: 'c-9', kind: 'card', value: '99', validFrom: null, validTo: null, status: 'active' }], entitlements: [],
    };
    cache.writer.applyDelta([{ op: 'person.upsert', person: grace }], 2, Date.now());
    expect(cache.counts()).toEqual({ people: 6, credentials: 9, entitlements: 5 });
    cache.writer.applyDelta([{ op: 'person.delete', id: 'm-9' }], 3, Date.now());
    expect(cache.counts()).toEqual({ people: 5, credentials: 8, entitlements: 5 });
  });

  it('carries its counts across deltas, counted over the people each one touches', () => {
    const cache = new CredentialCache(db, hasher);
    cache.applySnapshot(generateDataset({ people: 30, seed: 1, version: 1 }), Date.now());
    const counted = () => db.prepare<[], { people: number; credentials: number; entitlements: number }>(CACHE_COUNTS_SQL).get();
    // Counts made up to tell carried counts from a count of the cache: carried, they keep the offset.
    const offset = { people: 1000, credentials: 2000, entitlements: 3000 };
    const real = counted() ?? { people: 0, credentials: 0, entitlements: 0 };
    cache.primeCounts({ people: real.people + offset.people, credentials: real.credentials + offset.credentials, entitlements: real.entitlements + offset.entitlements });
    const expectCarried = () => {
      const now = counted() ?? { people: 0, credentials: 0, entitlements: 0 };
      expect(cache.counts()).toEqual({ people: now.people + offset.people, credentials: now.credentials + offset.credentials, entitlements: now.entitlements + offset.entitlements });
    };
    const person = (id: string, credentials: PersonRecord['credentials'], entitlements: PersonRecord['entitlements'] = []): PersonRecord => ({
      id, kind: 'member', name: id, status: 'active', hostId: null, alwaysAllowed: false, expectedArrival: null, email: null, deviceLimit: null,
      networkCheckin: true, extendedUnlock: false, lockdownOverride: false, usage: null, credentials, entitlements,
    });
    const card = (id: string, value: string) => ({ id, kind: 'card' as const, value, validFrom: null, validTo: null, status: 'active' as const });
    const plan = (id: string) => ({ id, kind: 'plan' as const, name: 'Plan', validFrom: null, validTo: null, minutesLeft: null, monthlyHours: null, monthlyCheckins: null, doors: null });
    let version = 1;
    const apply = (ops: DeltaOp[]) => cache.applyDelta(ops, ++version, Date.now());

    // A new person with a card taken from m-1 and a malformed one (skipped, not counted), and an entitlement taken from m-2.
    expect(apply([{ op: 'person.upsert', person: person('n-1', [card('m-1-card', '777'), { ...card('n-1-bad', ''), kind: 'pin', value: '12' }], [plan('m-2-plan')]) }])).toHaveLength(1);
    expectCarried();
    // A credential and an entitlement moved back, one deleted, a person replaced with fewer rows, one deleted with its rows.
    apply([
      { op: 'credential.upsert', personId: 'm-1', credential: card('m-1-card', '778') },
      { op: 'entitlement.upsert', personId: 'm-2', entitlement: plan('m-2-plan') },
      { op: 'credential.delete', id: 'm-2-pin' },
      { op: 'person.upsert', person: person('m-3', []) },
      { op: 'person.delete', id: 'm-4' },
      { op: 'door.upsert', door: { id: 'd-x', name: 'X', schedule: null } },
    ]);
    expectCarried();
    // A delta refused as a whole changes nothing, the counts included.
    expect(() => apply([{ op: 'person.delete', id: 'nobody' }])).toThrow(DeltaConflictError);
    version--;
    expectCarried();
    // Beyond the people it counts one by one, the cache is counted again: the made-up offset goes.
    apply(Array.from({ length: 201 }, (_, i) => ({ op: 'person.upsert' as const, person: person(`bulk-${i}`, []) })));
    expect(cache.counts()).toEqual(counted());
  });

  it('takes the counts of a generation counted where it was built until the data changes', () => {
    const cache = new CredentialCache(db, hasher);
    cache.applySnapshot(readDatasetFile(join(import.meta.dirname, '../../config/demo-dataset.json')), Date.now());
    // What the staging worker hands over at the swap; made up here to tell it from a count.
    cache.primeCounts({ people: 50, credentials: 80, entitlements: 50 });
    expect(cache.counts()).toEqual({ people: 50, credentials: 80, entitlements: 50 });
    cache.writer.applyDelta([], 2, Date.now());
    expect(cache.counts()).toEqual({ people: 5, credentials: 8, entitlements: 5 });
  });

  it('applies the demo data set and finds people by card and PIN, never storing a value', () => {
    const cache = new CredentialCache(db, hasher);
    const dataset = readDatasetFile(join(import.meta.dirname, '../../config/demo-dataset.json'));
    const result = cache.applySnapshot(dataset, Date.now());
    expect(result).toMatchObject({ version: 1, people: 5, credentials: 8, rejectedCredentials: [] });
    const ada = cache.candidates(hasher.lookupOf('card', '4614867'));
    expect(ada.map((c) => c.person.id)).toEqual(['m-1001']);
    expect(ada[0]?.entitlements.map((e) => e.kind)).toEqual(['plan']);
    expect(cache.candidates(hasher.lookupOf('keypad', '57721')).map((c) => c.person.kind)).toEqual(['visitor']);
    expect(cache.candidates(hasher.lookupOf('card', '1'))).toEqual([]);

    // Plaintext never reaches the file: search every byte of the database for the values.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = readFileSync(join(dir.path, 'g.db')).toString('latin1');
    for (const person of dataset.people) for (const c of person.credentials) expect(bytes.includes(c.value)).toBe(false);
  });

  it('replaces the whole cache atomically and keeps the old data when a snapshot fails', () => {
    const cache = new CredentialCache(db, hasher);
    const v1: Dataset = datasetSchema.parse({
      schema: 'gatehouse.dataset/1',
      version: 1,
      people: [{ id: 'a', kind: 'member', name: 'A', status: 'active', credentials: [{ id: 'a1', kind: 'card', value: '111' }] }],
    });
    cache.applySnapshot(v1, 1);
    // Duplicate person ids violate the primary key mid-way through the apply.
    const broken: Dataset = { ...v1, version: 2, people: [{ ...v1.people[0]!, id: 'b' }, { ...v1.people[0]!, id: 'b' }] };
    expect(() => cache.applySnapshot(broken, 2)).toThrow();
    expect(cache.version()).toBe(1);
    expect(cache.candidates(hasher.lookupOf('card', '111')).map((c) => c.person.id)).toEqual(['a']);
  });

  it('reads the sync state with the candidates: that of the data matched, before and after a swap and a delta', () => {
    const cache = new CredentialCache(db, hasher);
    const card = hasher.lookupOf('card', '111');
    const context = { at: 10_000, monthStart: 0, area: null };
    const person = (credentials: { id: string; kind: 'card'; value: string }[]) => ({ id: 'a', kind: 'member', name: 'A', status: 'active', credentials });
    cache.applySnapshot(datasetSchema.parse({ schema: 'gatehouse.dataset/1', version: 3, people: [person([{ id: 'a1', kind: 'card', value: '111' }])] }), 1_000);
    const before = cache.read(card, context);
    expect(before.candidates.map((c) => c.credential.id)).toEqual(['a1']);
    expect(before.state).toEqual({ gen: cache.state().gen, version: 3, syncedAt: 1_000, appliedAt: 1_000 });

    // A swap: another generation, version and sync time, and the card now another credential's.
    cache.applySnapshot(datasetSchema.parse({ schema: 'gatehouse.dataset/1', version: 7, people: [person([{ id: 'a2', kind: 'card', value: '111' }])] }), 2_000);
    const swapped = cache.read(card, context);
    expect(swapped.candidates.map((c) => c.credential.id)).toEqual(['a2']);
    expect(swapped.state).toEqual({ gen: cache.state().gen, version: 7, syncedAt: 2_000, appliedAt: 2_000 });
    expect(swapped.state?.gen).not.toBe(before.state?.gen);

    // A delta: same generation, the version and times move on with the data.
    cache.writer.applyDelta([{ op: 'credential.upsert', personId: 'a', credential: { id: 'a2', kind: 'card', value: '111', validFrom: null, validTo: null, status: 'revoked' } }], 8, 3_000);
    const delta = cache.read(card, context);
    expect(delta.candidates.map((c) => c.credential.status)).toEqual(['revoked']);
    expect(delta.state).toEqual({ gen: swapped.state?.gen, version: 8, syncedAt: 3_000, appliedAt: 3_000 });

    // Nothing matched: no row carried the state, the caller reads it itself.
    expect(cache.read(hasher.lookupOf('card', '999'), context)).toEqual({ candidates: [], state: null });
  });

  it('gives each matching credential its owner, its open session and every entitlement of the owner, from one read', () => {
    const cache = new CredentialCache(db, hasher);
    const day = 86_400_000;
    cache.applySnapshot(
      datasetSchema.parse({
        schema: 'gatehouse.dataset/1',
        version: 1,
        people: [
          {
            id: 'a',
            kind: 'member',
            name: 'A',
            status: 'active',
            credentials: [
              { id: 'a-card', kind: 'card', value: '111' },
              { id: 'a-pin', kind: 'pin', value: '24680' },
            ],
            entitlements: [
              { id: 'a-plan', kind: 'plan', name: 'Flex', monthlyHours: 40, doors: ['front'] },
              { id: 'a-day', kind: 'day_pass', name: 'Day', validFrom: new Date(day).toISOString(), validTo: new Date(30 * day).toISOString() },
              { id: 'a-time', kind: 'time_pass', name: '10 h', minutesLeft: 600 },
            ],
          },
          // Shares the PIN with a: both candidates come back (the engine refuses the code to both).
          { id: 'b', kind: 'visitor', name: 'B', status: 'active', credentials: [{ id: 'b-code', kind: 'visitor_code', value: '24680' }] },
        ],
      }),
      1,
    );
    db.prepare(`INSERT INTO checkin_sessions (id, person_id, opened_at, source, open_event_id) VALUES ('s-1', 'a', 5, 'door', 'e-1')`).run();

    const byCard = cache.candidates(hasher.lookupOf('card', '111'), { at: 10 * day, monthStart: 0, area: null });
    expect(byCard).toHaveLength(1);
    expect(byCard[0]).toMatchObject({ person: { id: 'a', kind: 'member' }, credential: { id: 'a-card', kind: 'card', status: 'active' }, openSession: { id: 's-1', openedAt: 5 } });
    expect(byCard[0]!.entitlements.map((e) => [e.id, e.kind]).sort()).toEqual([
      ['a-day', 'day_pass'],
      ['a-plan', 'plan'],
      ['a-time', 'time_pass'],
    ]);
    expect(byCard[0]!.entitlements.find((e) => e.id === 'a-plan')).toMatchObject({ monthlyHours: 40, doors: ['front'], minutesLeft: null });
    expect(byCard[0]!.entitlements.find((e) => e.id === 'a-day')).toMatchObject({ validFrom: day, validTo: 30 * day });

    const byCode = cache.candidates(hasher.lookupOf('keypad', '24680'), { at: 10 * day, monthStart: 0, area: null });
    expect(byCode.map((c) => [c.person.id, c.credential.id, c.entitlements.length]).sort()).toEqual([
      ['a', 'a-pin', 3],
      ['b', 'b-code', 0],
    ]);
    expect(byCode.find((c) => c.person.id === 'b')?.openSession).toBeNull();
  });

  it('adds local sessions to the cloud counters in whole minutes, and takes started minutes off a time pass', () => {
    const cache = new CredentialCache(db, hasher);
    const minute = 60_000;
    const monthStart = Date.UTC(2026, 10, 1);
    const asOf = monthStart + 10 * 86_400_000;
    cache.applySnapshot(
      datasetSchema.parse({
        schema: 'gatehouse.dataset/1',
        version: 1,
        people: [
          {
            id: 'a',
            kind: 'member',
            name: 'A',
            status: 'active',
            extendedUnlock: true,
            networkCheckin: false,
            usage: { periodStart: new Date(monthStart).toISOString(), checkins: 4, minutes: 100, asOf: new Date(asOf).toISOString() },
            credentials: [{ id: 'a-card', kind: 'card', value: '111' }],
            entitlements: [{ id: 'a-plan', kind: 'plan', name: 'Flex', monthlyHours: 40 }],
          },
          {
            id: 't',
            kind: 'contact',
            name: 'T',
            status: 'active',
            alwaysAllowed: true,
            lockdownOverride: true,
            credentials: [{ id: 't-card', kind: 'card', value: '222' }],
            entitlements: [{ id: 't-pass', kind: 'time_pass', name: '10 h', minutesLeft: 600 }],
          },
        ],
      }),
      asOf,
    );
    const session = db.prepare(
      `INSERT INTO checkin_sessions (id, person_id, opened_at, closed_at, source, open_event_id, entitlement_id) VALUES (?, ?, ?, ?, 'door', ?, ?)`,
    );
    // Before the counters were computed: already in them.
    session.run('a-1', 'a', asOf - 90 * minute, asOf - 30 * minute, 'e-1', 'a-plan');
    // After: 61.5 minutes closed, and an open one 29.5 minutes old at `at` (91 whole minutes in all).
    session.run('a-2', 'a', asOf + 60 * minute, asOf + 121.5 * minute, 'e-2', 'a-plan');
    const at = asOf + 300 * minute;
    session.run('a-3', 'a', at - 29.5 * minute, null, 'e-3', 'a-plan');
    // 61 minutes and 1 second on the pass since its holder's last sync: 62 started minutes.
    session.run('t-1', 't', asOf + 10 * minute, asOf + 71 * minute + 1000, 'e-4', 't-pass');

    const [a] = cache.candidates(hasher.lookupOf('card', '111'), { at, monthStart, area: null });
    expect(a?.usage).toEqual({ checkins: 6, minutes: 191 });
    expect(a?.person).toMatchObject({ alwaysAllowed: false, extendedUnlock: true, lockdownOverride: false, networkCheckin: false });
    // Counters of another month do not count: everything since the start of this one does.
    const [later] = cache.candidates(hasher.lookupOf('card', '111'), { at, monthStart: asOf - 60 * minute, area: null });
    expect(later?.usage).toEqual({ checkins: 2, minutes: 121 });

    const [t] = cache.candidates(hasher.lookupOf('card', '222'), { at, monthStart, area: null });
    expect(t?.entitlements[0]?.minutesLeft).toBe(600 - 62);
    expect(t?.usage).toEqual({ checkins: 0, minutes: 0 });
    expect(t?.person).toMatchObject({ alwaysAllowed: true, extendedUnlock: false, lockdownOverride: true, networkCheckin: true });
  });

  it('reads the first use of day passes and visitor tokens, and looks none up for plans and time passes', () => {
    const cache = new CredentialCache(db, hasher);
    const entitlements = [
      { id: 'a-plan', kind: 'plan', name: 'Flex' },
      { id: 'a-time', kind: 'time_pass', name: '10 h', minutesLeft: 600 },
      { id: 'a-day', kind: 'day_pass', name: 'Day' },
      { id: 'a-token', kind: 'visitor_token', name: 'Visit' },
      { id: 'a-day2', kind: 'day_pass', name: 'Day, unused' },
    ];
    const person = { id: 'a', kind: 'member', name: 'A', status: 'active', credentials: [{ id: 'a-card', kind: 'card', value: '111' }], entitlements };
    cache.applySnapshot(datasetSchema.parse({ schema: 'gatehouse.dataset/1', version: 1, people: [person] }), 1);
    const sessions = new CheckinSessions(db);
    // The pipeline records starts only for the two kinds that have one; a
    // row under a plan or a time pass id is ignored, as the engine would.
    for (const [id, at] of [['a-plan', 10], ['a-time', 20], ['a-day', 30], ['a-token', 40]] as const) sessions.startEntitlement(id, 'a', at, `e-${id}`);
    const [a] = cache.candidates(hasher.lookupOf('card', '111'), { at: 100, monthStart: 0, area: null });
    expect(Object.fromEntries(a?.entitlements.map((e) => [e.id, e.startedAt]) ?? [])).toEqual({
      'a-plan': null,
      'a-time': null,
      'a-day': 30,
      'a-token': 40,
      'a-day2': null,
    });
  });

  it('reads the presence in the reader\'s area with the candidates, and none without an area', () => {
    const cache = new CredentialCache(db, hasher);
    const person = { id: 'a', kind: 'member', name: 'A', status: 'active', credentials: [{ id: 'a-card', kind: 'card', value: '111' }], entitlements: [{ id: 'a-plan', kind: 'plan' }, { id: 'a-day', kind: 'day_pass' }] };
    cache.applySnapshot(datasetSchema.parse({ schema: 'gatehouse.dataset/1', version: 1, people: [person] }), 1);
    const sessions = new CheckinSessions(db);
    const at = Date.parse('2026-11-23T10:00:00Z');
    sessions.setPresence('a', 'main', true, at - 1);
    sessions.setPresence('a', 'lab', false, at - 2);
    const presence = (area: string | null) => cache.candidates(hasher.lookupOf('card', '111'), { at, monthStart: 0, area }).map((c) => c.areaPresence);
    expect(presence('main')).toEqual([{ inside: true, changedAt: at - 1 }]);
    expect(presence('lab')).toEqual([{ inside: false, changedAt: at - 2 }]);
    expect(presence('roof')).toEqual([null]);
    expect(presence(null)).toEqual([null]);
  });

  it('reads a candidate through indexes only: no table scan, however long the session history', () => {
    new CredentialCache(db, hasher);
    const plan = db
      .prepare<[Buffer, number, number, string], { detail: string }>(`EXPLAIN QUERY PLAN ${CANDIDATES_SQL}`)
      .all(Buffer.alloc(32), 1, 0, 'main')
      .map((row) => row.detail);
    // The one scan is of k, the single row of parameters.
    expect(plan.filter((step) => step.startsWith('SCAN'))).toEqual(['SCAN CONSTANT ROW', 'SCAN k']);
    // The credential, the entitlements and the open session come from
    // covering indexes, the sums over sessions from covering indexes keyed by
    // when a session ends: no session row is read.
    expect(plan).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SEARCH c USING COVERING INDEX cache_credentials_by_lookup/),
        expect.stringMatching(/^SEARCH e USING COVERING INDEX cache_entitlements_by_person/),
        expect.stringMatching(/^SEARCH s USING COVERING INDEX checkin_sessions_open_cover/),
        expect.stringMatching(/^SEARCH checkin_sessions USING COVERING INDEX checkin_sessions_by_person_end/),
        expect.stringMatching(/^SEARCH checkin_sessions USING COVERING INDEX checkin_sessions_by_entitlement_end/),
        // Under CASE, so only day passes and visitor tokens look it up.
        expect.stringMatching(/^SEARCH entitlement_starts USING INDEX sqlite_autoindex_entitlement_starts_1 \(entitlement_id=\?\)/),
        expect.stringMatching(/^SEARCH a USING INDEX sqlite_autoindex_area_presence_1 \(person_id=\? AND area=\?\)/),
      ]),
    );
    expect(plan.filter((step) => step.includes('checkin_sessions') && !step.includes('COVERING'))).toEqual([]);
  });

  it("reads open sessions with their person's name by primary key: the people view is never materialized", () => {
    const cache = new CredentialCache(db, hasher);
    const person = { id: 'a', kind: 'member', name: 'Ada', status: 'active', credentials: [{ id: 'a-card', kind: 'card', value: '111' }], entitlements: [] };
    cache.applySnapshot(datasetSchema.parse({ schema: 'gatehouse.dataset/1', version: 1, people: [person] }), 1);
    const sessions = new CheckinSessions(db);
    sessions.open({ id: 's-a', personId: 'a', at: 5, source: 'card', readerId: 'r1', doorId: 'd1', eventId: 'e-1' });
    sessions.open({ id: 's-gone', personId: 'gone', at: 6, source: 'card', readerId: 'r1', doorId: 'd1', eventId: 'e-2' });
    expect(sessions.openSessions().map((o) => [o.id, o.personName])).toEqual([['s-a', 'Ada'], ['s-gone', '(removed)']]);
    expect(sessions.openSessionOf('a')?.personName).toBe('Ada');
    expect(sessions.openBefore(6).map((o) => o.personName)).toEqual(['Ada']);
    // With 100,000 people a LEFT JOIN on the view copied all of them at every call (44-77 ms).
    for (const [name, sql] of Object.entries(OPEN_SESSION_SQL)) {
      const plan = db.prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(...(name === 'list' ? [] : [name === 'openOf' ? 'a' : 6])).map((row) => row.detail);
      expect(plan.filter((step) => step.startsWith('MATERIALIZE') || /^SCAN p\b/.test(step))).toEqual([]);
      expect(plan).toEqual(expect.arrayContaining([expect.stringMatching(/^SEARCH p USING INDEX sqlite_autoindex_cache_people_1 \(gen=\? AND id=\?\)/)]));
    }
  });

  it('skips a malformed credential value and names it by id only', () => {
    const cache = new CredentialCache(db, hasher);
    const result = cache.applySnapshot(
      datasetSchema.parse({
        schema: 'gatehouse.dataset/1',
        version: 3,
        people: [{ id: 'p', kind: 'member', name: 'P', status: 'active', credentials: [{ id: 'bad-pin', kind: 'pin', value: '12ab' }] }],
      }),
      1,
    );
    expect(result.rejectedCredentials).toEqual([{ id: 'bad-pin', reason: 'a PIN or visitor code is 4 to 12 digits' }]);
    expect(JSON.stringify(result)).not.toContain('12ab');
  });
});
