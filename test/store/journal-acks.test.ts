/**
 * The journal's two delivery modes on a real SQLite file: what is pending,
 * what prune may delete, and the cloud's acks by id and by seq.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { Journal, type DeliveryMode } from '../../daemon/store/journal.js';
import { tempDir } from '../support/temp-dir.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function open(delivery?: DeliveryMode): { db: Db; journal: Journal; path: string } {
  const dir = tempDir('gatehouse-journal-');
  const path = join(dir.path, 'g.db');
  const db = openDatabase(path);
  cleanups.push(() => {
    if (db.open) db.close();
    dir.remove();
  });
  return { db, path, journal: new Journal(db, randomUUID(), delivery === undefined ? {} : { delivery }) };
}

const append = (journal: Journal, at = 1_000) => journal.append('access', 'gatehouse/v1/gw1/events/access', at, (s) => ({ eventId: s.eventId, seq: s.seq }));

describe('journal delivery modes', () => {
  it('puback: a PUBACK delivers; acked_at plays no part', () => {
    const { journal } = open();
    const [a, b] = [append(journal), append(journal)];
    expect(journal.depth()).toEqual({ pending: 2, oldestPendingAt: 1_000, awaitingPuback: 2, awaitingCloudAck: 0 });
    journal.markPublished([a.seq], 2_000);
    expect(journal.pending().map((e) => e.seq)).toEqual([b.seq]);
    expect(journal.depth()).toMatchObject({ pending: 1, awaitingPuback: 1, awaitingCloudAck: 0 });
    expect(journal.prune(5_000)).toBe(1);
  });

  it('cloud-ack: a PUBACKed row stays pending, and prune keeps it, until the cloud acks it', () => {
    const { journal } = open('cloud-ack');
    const [a, b, c] = [append(journal), append(journal), append(journal)];
    journal.markPublished([a.seq, b.seq], 2_000);
    expect(journal.depth()).toEqual({ pending: 3, oldestPendingAt: 1_000, awaitingPuback: 1, awaitingCloudAck: 2 });
    expect(journal.pending().map((e) => e.seq)).toEqual([a.seq, b.seq, c.seq]);
    expect(journal.prune(5_000)).toBe(0);

    expect(journal.acknowledge({ eventIds: [a.id, 'unknown-id'] }, 3_000)).toEqual({ acked: 1, alreadyAcked: 0, unknownIds: 1, throughSeqAhead: false });
    expect(journal.acknowledge({ eventIds: [a.id] }, 3_500)).toEqual({ acked: 0, alreadyAcked: 1, unknownIds: 0, throughSeqAhead: false });
    expect(journal.get(a.seq)?.ackedAt).toBe(3_000);
    expect(journal.pending().map((e) => e.seq)).toEqual([b.seq, c.seq]);
    expect(journal.depth()).toMatchObject({ pending: 2, awaitingPuback: 1, awaitingCloudAck: 1 });
    expect(journal.prune(5_000)).toBe(1);
    expect(journal.get(a.seq)).toBeUndefined();
  });

  it('cloud-ack: throughSeq acks every row up to it, even before its PUBACK, and is ignored beyond the last seq', () => {
    const { journal } = open('cloud-ack');
    const rows = [append(journal), append(journal), append(journal)];
    expect(journal.acknowledge({ throughSeq: 99 }, 2_000)).toMatchObject({ acked: 0, throughSeqAhead: true });
    expect(journal.depth().pending).toBe(3);
    expect(journal.acknowledge({ throughSeq: rows[1]?.seq ?? 0 }, 2_000)).toMatchObject({ acked: 2, throughSeqAhead: false });
    expect(journal.pending().map((e) => e.seq)).toEqual([rows[2]?.seq]);
  });

  it('switching to cloud-ack keeps rows the broker already had delivered; new rows wait for the cloud', () => {
    const first = open('puback');
    const old = append(first.journal);
    const unsent = append(first.journal);
    first.journal.markPublished([old.seq], 2_000);
    first.db.close();

    const db = openDatabase(first.path);
    cleanups.push(() => db.close());
    const journal = new Journal(db, randomUUID(), { delivery: 'cloud-ack' });
    expect(journal.get(old.seq)?.ackedAt).toBe(2_000);
    expect(journal.pending().map((e) => e.seq)).toEqual([unsent.seq]);
    // Reopening in the same mode changes nothing.
    journal.markPublished([unsent.seq], 3_000);
    expect(new Journal(db, randomUUID(), { delivery: 'cloud-ack' }).pending().map((e) => e.seq)).toEqual([unsent.seq]);
  });

  it('markPublished marks exactly the rows named, in runs or not, and leaves a connection at synchronous=FULL at FULL', () => {
    const { db, journal } = open();
    // openDatabase() gives NORMAL; a connection someone set to FULL must stay FULL after the unsynced mark.
    db.pragma('synchronous = FULL');
    const rows = Array.from({ length: 12 }, () => append(journal));
    const marked = [9, 2, 3, 4, 12, 7, 8, 1];
    journal.markPublished(marked, 2_000);
    expect(rows.filter((r) => journal.get(r.seq)?.publishedAt === 2_000).map((r) => r.seq)).toEqual([1, 2, 3, 4, 7, 8, 9, 12]);
    expect(journal.pending().map((e) => e.seq)).toEqual([5, 6, 10, 11]);
    // A second PUBACK of a row keeps its first published_at.
    journal.markPublished([4, 5], 3_000);
    expect([journal.get(4)?.publishedAt, journal.get(5)?.publishedAt]).toEqual([2_000, 3_000]);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // Inside a caller's transaction it only joins it, and rolls back with it.
    expect(() =>
      db.transaction(() => {
        journal.markPublished([6], 4_000);
        throw new Error('caller fails');
      })(),
    ).toThrow('caller fails');
    expect(journal.get(6)?.publishedAt).toBeNull();
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });
});
