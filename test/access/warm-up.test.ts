/**
 * The start-up warm-up (AccessPipeline.warmUp) runs a made-up card and code
 * through the decision at each reader: it must leave no trace, even when the
 * made-up values belong to somebody (card 0, a PIN whose duress code is
 * 00000). Each case is checked against the same read presented for real,
 * which does leave the trace, so a warm-up that carried anything out fails.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessSource } from '../../daemon/access/access-pipeline.js';
import { SecretValue } from '../../daemon/runtime/secret.js';
import { datasetSchema } from '../../daemon/sync/dataset.js';
import { openPipelineStore, type PipelineStore } from '../support/pipeline-store.js';
import { memoryLogger } from '../support/site.js';
import { tempDir } from '../support/temp-dir.js';

const entry: AccessSource = { id: 'front-in', channel: 'door', mode: 'entry', doorId: null, area: null, driver: 'sim' };
const keypad: AccessSource = { id: 'side-keypad', channel: 'door', mode: 'access-only', doorId: null, area: null, driver: 'sim' };
const plan = (personId: string) => [{ id: `${personId}-plan`, kind: 'plan', validFrom: '2020-01-01T00:00:00Z' }];

// Zero holds card 0; Nine's PIN 00009 has 00000 as its duress code (last digit plus one).
const dataset = datasetSchema.parse({
  schema: 'gatehouse.dataset/1',
  version: 1,
  people: [
    { id: 'zero', kind: 'member', name: 'Zero', status: 'active', credentials: [{ id: 'zero-card', kind: 'card', value: '0' }], entitlements: plan('zero') },
    { id: 'nine', kind: 'member', name: 'Nine', status: 'active', credentials: [{ id: 'nine-pin', kind: 'pin', value: '00009' }], entitlements: plan('nine') },
  ],
});
// One wrong code locks the source out: a warm-up that counted a guess would show.
const STRICT_GUESSING = { attempts: 1, windowS: 600, lockoutS: 60, growthFactor: 2, maxLockoutS: 1_800, resetAfterS: 86_400 };

describe('the decision warm-up at start', () => {
  let dir: ReturnType<typeof tempDir>;
  let log: ReturnType<typeof memoryLogger>;
  let store: PipelineStore;
  let decisions: number;

  const open = (duress: 'off' | 'last-digit-plus-one'): void => {
    store = openPipelineStore(dir.path, log.logger, { duress, guessing: STRICT_GUESSING });
    store.cache.applySnapshot(dataset, Date.now());
    store.pipeline.onDecision(() => decisions++);
    log.lines.length = 0;
  };
  const trace = () => ({
    journal: store.journal.recent(10).length,
    sessions: store.sessions.openSessions().length,
    decisions,
    locked: store.codes.guard.locked().length,
    logLines: log.lines.length,
  });
  const none = { journal: 0, sessions: 0, decisions: 0, locked: 0, logLines: 0 };

  beforeEach(() => {
    dir = tempDir();
    log = memoryLogger('debug');
    decisions = 0;
  });
  afterEach(() => {
    store.db.close();
    dir.remove();
  });

  it('decides a card and a duress code that belong to somebody, and carries out nothing', () => {
    open('last-digit-plus-one');
    store.pipeline.warmUp([entry, keypad]);
    expect(trace()).toEqual(none);

    // The same reads for real: a check-in, and a grant with a silent duress alarm (journaled: 3 events).
    expect(store.pipeline.present(entry, { kind: 'card', number: new SecretValue('0') }).decision).toMatchObject({ outcome: 'granted', person: { id: 'zero' } });
    expect(store.pipeline.present(keypad, { kind: 'keypad', code: new SecretValue('00000') }).decision).toMatchObject({ outcome: 'granted', person: { id: 'nine' } });
    expect(trace()).toMatchObject({ journal: 3, sessions: 1, decisions: 2 });
    expect(store.journal.recentOfType('alarm', 10)).toHaveLength(1);
    expect(log.lines.length).toBeGreaterThan(0);
  });

  it('does not count a made-up code that matches nobody as a guess', () => {
    open('off');
    store.pipeline.warmUp([keypad, keypad]);
    expect(trace()).toEqual(none);
    expect(store.codes.guard.check('keypad:side-keypad').locked).toBe(false);

    // For real, the same code is a wrong guess, and one locks this source out (an access event and a lockout alarm).
    expect(store.pipeline.present(keypad, { kind: 'keypad', code: new SecretValue('00000') }).decision.outcome).toBe('denied');
    expect(trace()).toMatchObject({ journal: 2, decisions: 1, locked: 1 });
  });
});
