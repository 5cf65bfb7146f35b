/**
 * The disk full under the database (SQLite's max_page_count on the daemon's
 * own connection stands in for a full partition): doors keep opening, the
 * failure is counted in status and logged, and nothing journaled before is
 * lost. When space returns, journaling resumes without a gap in seq.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../daemon/config/load.js';
import { Gateway } from '../../daemon/runtime/gateway.js';
import { demo, memoryLogger, writeSite } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';
import { seqRange } from './support.js';

describe('disk full for the database', () => {
  let dir: ReturnType<typeof tempDir>;
  let gateway: Gateway | undefined;

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await gateway?.stop();
    gateway = undefined;
    dir.remove();
  });

  it('decisions continue and open the door, the condition is reported, journaled events stay', async () => {
    const config = writeSite(
      dir.path,
      `doors:
  - { id: front, relay: { driver: sim }, pulseMs: 60000 }
readers:
  - { id: front-in, driver: sim, door: front, mode: toggle }
`,
    );
    const log = memoryLogger('error');
    const g = await Gateway.start(loadConfig(config), log.logger, '0.0.0-test');
    gateway = g;
    const journaled = () => g.db.prepare<[], { seq: number }>('SELECT seq FROM journal ORDER BY seq').all().map((r) => r.seq);

    for (let i = 0; i < 5; i++) expect(g.simulate('card', demo.ada.card).event?.seq).toBe(i + 1);

    // No more pages than the file has now: the next write that needs a page fails with SQLITE_FULL.
    const pages = g.db.pragma('page_count', { simple: true }) as number;
    g.db.pragma(`max_page_count = ${pages}`);
    let reads = 0;
    while (g.status().journal.writeFailures === 0 && reads < 5_000) {
      const result = g.simulate('card', demo.grace.card);
      reads++;
      // Every read is decided and served, journaled or not.
      expect(result.decision.outcome).toBe('granted');
      expect(g.status().doors[0]).toMatchObject({ state: 'unlocked', lock: 'unlocked' });
    }
    expect(g.status().journal.writeFailures).toBe(1);
    const failed = g.simulate('card', demo.ada.card);
    expect(failed.decision.outcome).toBe('granted');
    expect(failed.event).toBeNull();
    expect(g.status().journal.writeFailures).toBe(2);
    const errors = log.lines.filter((line) => line.includes('could not journal a decision'));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/SQLITE_FULL|full/i);

    // Everything journaled before the disk filled is there, without a gap.
    const before = journaled();
    expect(before.length).toBeGreaterThanOrEqual(5);
    expect(before).toEqual(seqRange(before.length));

    // Space again: the next event follows on.
    g.db.pragma('max_page_count = 1073741823');
    expect(g.simulate('card', demo.ada.card).event?.seq).toBe(before.length + 1);
    await g.stop();
    gateway = undefined;
    const reopened = new Database(join(dir.path, 'gatehouse.db'), { readonly: true });
    expect(reopened.prepare('SELECT count(*) AS n FROM journal').get()).toEqual({ n: before.length + 1 });
    expect(reopened.pragma('integrity_check', { simple: true })).toBe('ok');
    reopened.close();
  });
});
