/** The at-most-once record of remote commands on a real SQLite store. */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { COMMAND_RECORD_GRACE_MS, CommandLog } from '../../daemon/cloud/command-log.js';
import { openDatabase } from '../../daemon/store/database.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('gatehouse-commands-');
const db = openDatabase(join(dir.path, 'gatehouse.db'));
afterAll(() => {
  db.close();
  dir.remove();
});
afterEach(() => {
  db.exec('DELETE FROM cloud_commands');
});

describe('CommandLog', () => {
  it('claims a command id once', () => {
    const log = new CommandLog(db);
    const command = { cmdId: 'c1', action: 'door.unlock', keyId: 'k1', receivedAt: 1_000, expiresAt: 61_000 };
    expect(log.claim(command)).toBe(true);
    expect(log.claim({ ...command, action: 'sync.resync', receivedAt: 2_000 })).toBe(false);
    log.finish('c1', 'done', null, 'event-1');
    expect(log.get('c1')).toEqual({ ...command, status: 'done', reason: null, eventId: 'event-1' });
  });

  it('keeps a record until a day after its command expired', () => {
    const log = new CommandLog(db);
    log.claim({ cmdId: 'old', action: 'door.lockdown', keyId: 'k1', receivedAt: 0, expiresAt: 60_000 });
    log.claim({ cmdId: 'recent', action: 'door.release', keyId: 'k1', receivedAt: 0, expiresAt: 120_000 });
    expect(log.prune(60_000 + COMMAND_RECORD_GRACE_MS)).toBe(0);
    expect(log.prune(60_001 + COMMAND_RECORD_GRACE_MS)).toBe(1);
    expect(log.get('old')).toBeUndefined();
    expect(log.count()).toBe(1);
  });
});
