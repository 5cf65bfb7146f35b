/**
 * The journal's depth is kept as counters moved by every write
 * (journal-depth.ts). Random schedules of appends (alone, inside a caller's
 * transaction that commits or rolls back), PUBACK marks, cloud acks by id
 * and through a seq, prunes and depth reads, in both delivery modes, on a
 * real SQLite file: after every step the counters must equal a full count.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { Journal, type DeliveryMode, type JournalDepth, type JournalEntry } from '../../daemon/store/journal.js';
import { fcOptions } from '../support/fast-check.js';
import { tempDir } from '../support/temp-dir.js';

type Op =
  | { kind: 'append'; count: number; at: number }
  | { kind: 'append-in-caller-tx'; count: number; commit: boolean }
  | { kind: 'mark'; picks: number[] }
  | { kind: 'mark-in-caller-tx'; picks: number[]; commit: boolean }
  | { kind: 'ack-ids'; picks: number[] }
  | { kind: 'ack-through'; pick: number }
  | { kind: 'prune'; before: number }
  | { kind: 'depth-in-caller-tx' }
  | { kind: 'deliver-and-prune-unread' }
  | { kind: 'turn' };

const picks = fc.array(fc.nat(), { minLength: 1, maxLength: 8 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 4 }), at: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append-in-caller-tx' as const), count: fc.integer({ min: 1, max: 3 }), commit: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('mark' as const), picks }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mark-in-caller-tx' as const), picks, commit: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ack-ids' as const), picks }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ack-through' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('prune' as const), before: fc.integer({ min: 0, max: 12 }) }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'depth-in-caller-tx' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'deliver-and-prune-unread' }) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'turn' }) },
);

class Rollback extends Error {}

const dir = tempDir('gatehouse-depth-');
afterAll(() => dir.remove());

function fullCount(db: Db, delivery: DeliveryMode): JournalDepth {
  const undelivered = delivery === 'cloud-ack' ? 'acked_at IS NULL' : 'published_at IS NULL';
  const row = db
    .prepare<[], { n: number; unpublished: number }>(`SELECT count(*) AS n, total(published_at IS NULL) AS unpublished FROM journal WHERE ${undelivered}`)
    .get();
  const first = db.prepare<[], { created_at: number }>(`SELECT created_at FROM journal WHERE ${undelivered} ORDER BY seq LIMIT 1`).get();
  const pending = row?.n ?? 0;
  const awaitingPuback = row?.unpublished ?? 0;
  return {
    pending,
    oldestPendingAt: first?.created_at ?? null,
    awaitingPuback,
    awaitingCloudAck: delivery === 'cloud-ack' ? pending - awaitingPuback : 0,
  };
}

async function run(delivery: DeliveryMode, ops: readonly Op[]): Promise<void> {
  const db = openDatabase(join(dir.path, `${randomUUID()}.db`));
  try {
    const journal = new Journal(db, 'boot', { delivery });
    const ids: string[] = [];
    const append = (at = 5): JournalEntry => {
      const entry = journal.append('access', 'gatehouse/v1/gw1/events/access', at, (s) => ({ eventId: s.eventId }));
      ids.push(entry.id);
      return entry;
    };
    const inCallerTx = (commit: boolean, body: () => void): void => {
      try {
        db.transaction(() => {
          body();
          if (!commit) throw new Rollback();
        })();
      } catch (error) {
        if (!(error instanceof Rollback)) throw error;
      }
    };
    const seqOf = (pick: number): number => (pick % Math.max(1, ids.length + 2)) + 1;
    for (const op of ops) {
      switch (op.kind) {
        case 'append':
          for (let i = 0; i < op.count; i++) append(op.at);
          break;
        case 'append-in-caller-tx':
          inCallerTx(op.commit, () => {
            for (let i = 0; i < op.count; i++) append();
          });
          break;
        case 'mark':
          journal.markPublished(op.picks.map(seqOf), 7);
          break;
        case 'mark-in-caller-tx':
          inCallerTx(op.commit, () => journal.markPublished(op.picks.map(seqOf), 7));
          break;
        case 'ack-ids':
          journal.acknowledge({ eventIds: op.picks.map((p) => ids[p % Math.max(1, ids.length)] ?? 'unknown') }, 8);
          break;
        case 'ack-through':
          journal.acknowledge({ throughSeq: seqOf(op.pick) }, 8);
          break;
        case 'prune':
          journal.prune(op.before);
          break;
        case 'depth-in-caller-tx':
          // Read inside a transaction that then appends and rolls back: nothing of it may stick.
          inCallerTx(false, () => {
            journal.depth();
            append();
            journal.depth();
          });
          break;
        case 'deliver-and-prune-unread': {
          // Appended in a caller's transaction, delivered and pruned before anything reads the depth.
          let entry: JournalEntry | undefined;
          inCallerTx(true, () => {
            entry = append(0);
          });
          journal.markPublished([entry?.seq ?? 0], 7);
          journal.acknowledge({ eventIds: [entry?.id ?? ''] }, 8);
          journal.prune(1);
          break;
        }
        case 'turn':
          await Promise.resolve();
          break;
      }
      expect(journal.depth()).toEqual(fullCount(db, delivery));
    }
  } finally {
    db.close();
  }
}

describe('journal depth counters', () => {
  for (const delivery of ['puback', 'cloud-ack'] as const) {
    it(`equal a full count after every step of random schedules (${delivery})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => run(delivery, ops)),
        fcOptions(60),
      );
    });
  }

  it('count again after a bulk append in one caller transaction, and stay right after a rollback of one', async () => {
    const db = openDatabase(join(dir.path, 'bulk.db'));
    try {
      const journal = new Journal(db, 'boot', { delivery: 'cloud-ack' });
      expect(journal.depth().pending).toBe(0);
      const append = (): void => {
        journal.append('access', 'gatehouse/v1/gw1/events/access', 1, (s) => ({ eventId: s.eventId }));
      };
      db.transaction(() => {
        for (let i = 0; i < 1_500; i++) append();
      })();
      expect(journal.depth()).toEqual(fullCount(db, 'cloud-ack'));
      expect(() =>
        db.transaction(() => {
          for (let i = 0; i < 1_500; i++) append();
          throw new Error('rolled back');
        })(),
      ).toThrow('rolled back');
      await Promise.resolve();
      expect(journal.depth()).toMatchObject({ pending: 1_500, awaitingPuback: 1_500 });
      expect(journal.depth()).toEqual(fullCount(db, 'cloud-ack'));
    } finally {
      db.close();
    }
  });

  it('an append in a caller transaction just before the database is closed is not confirmed against the closed database', async () => {
    const db = openDatabase(join(dir.path, 'closed.db'));
    const journal = new Journal(db, 'boot');
    const notified: number[] = [];
    journal.onAppend((entry) => notified.push(entry.seq));
    db.transaction(() => {
      journal.append('access', 'gatehouse/v1/gw1/events/access', 1, (s) => ({ eventId: s.eventId }));
    })();
    db.close();
    // The confirmation runs a microtask later; it must neither throw nor keep listeners from hearing of the row.
    await new Promise((resolve) => setImmediate(resolve));
    expect(notified).toEqual([1]);
  });
});
