/**
 * An AccessPipeline on a real SQLite file, wired as the gateway wires it
 * (cache, sessions, journal, code security), for tests of the policy on a
 * real store. Only what a test varies is an option.
 */
import { join } from 'node:path';
import { AccessPipeline, type AccessPipelineOptions } from '../../daemon/access/access-pipeline.js';
import { createCodeSecurity, type CodeSecurity } from '../../daemon/access/code-security.js';
import type { GatehouseConfig } from '../../daemon/config/schema.js';
import type { Logger } from '../../daemon/runtime/logger.js';
import { CredentialCache } from '../../daemon/store/cache.js';
import { CredentialHasher } from '../../daemon/store/credential-hash.js';
import { openDatabase, type Db } from '../../daemon/store/database.js';
import { Journal } from '../../daemon/store/journal.js';
import { CheckinSessions } from '../../daemon/store/sessions.js';
import { accessTopic, alarmTopic } from '../../daemon/uplink/topics.js';

export interface PipelineStore {
  readonly db: Db;
  readonly hasher: CredentialHasher;
  readonly cache: CredentialCache;
  readonly sessions: CheckinSessions;
  readonly journal: Journal;
  readonly codes: CodeSecurity;
  readonly pipeline: AccessPipeline;
}

/** Guessing generous enough that policy tests never lock themselves out. */
export const LENIENT_GUESSING: GatehouseConfig['guessing'] = { attempts: 100, windowS: 600, lockoutS: 60, growthFactor: 2, maxLockoutS: 1_800, resetAfterS: 86_400 };

export function openPipelineStore(
  dir: string,
  logger: Logger,
  options: {
    readonly guessing?: GatehouseConfig['guessing'];
    readonly duress?: GatehouseConfig['keypad']['duress']['scheme'];
    readonly pipeline?: Partial<Pick<AccessPipelineOptions, 'now' | 'clock' | 'areas' | 'doors' | 'staleness'>>;
  } = {},
): PipelineStore {
  const db = openDatabase(join(dir, 'g.db'));
  const hasher = new CredentialHasher(Buffer.alloc(32, 9));
  const cache = new CredentialCache(db, hasher);
  const sessions = new CheckinSessions(db);
  const journal = new Journal(db, 'boot');
  const codes = createCodeSecurity(
    {
      keypad: { interDigitTimeoutMs: 5_000, maxDigits: 12, duress: { scheme: options.duress ?? 'off' } },
      guessing: options.guessing ?? LENIENT_GUESSING,
    },
    { siteId: 's', gatewayId: 'gw', topic: alarmTopic('gatehouse/v1', 'gw'), journal, logger },
  );
  const pipeline = new AccessPipeline({
    siteId: 's',
    gatewayId: 'gw',
    timezone: 'Europe/London',
    accessTopic: accessTopic('gatehouse/v1', 'gw'),
    db,
    hasher,
    cache,
    sessions,
    journal,
    doors: new Map(),
    logger,
    codes,
    ...options.pipeline,
  });
  return { db, hasher, cache, sessions, journal, codes, pipeline };
}
