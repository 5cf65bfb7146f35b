/**
 * Reports credentials held by more than one person in the synced data: a
 * member PIN equal to another's, or to a visitor code, or one card on two
 * people. The engine already refuses such a value to everyone
 * (ambiguous_credential); operators also need to know, so the set is in
 * status and, whenever it changes, published as a gatehouse.conflicts/1
 * event. The last published set is remembered in meta so a restart does not
 * publish it again.
 *
 * The scan itself (a GROUP BY over every credential in force: tens of ms at
 * 100,000 people) is the caller's: after a sync the daemon has the staging
 * worker run it (SyncEngine.conflicts()), off the event loop; report() only
 * compares and publishes.
 */
import type { CredentialCache, CredentialConflict } from '../store/cache.js';
import type { Db } from '../store/database.js';
import type { Journal } from '../store/journal.js';
import type { ConflictReport } from '../uplink/payloads.js';
import type { Logger } from '../runtime/logger.js';

const META_KEY = 'conflicts_published';

export class ConflictReporter {
  readonly #db: Db;
  readonly #cache: CredentialCache;
  readonly #journal: Journal;
  readonly #topic: string;
  readonly #ids: { siteId: string; gatewayId: string };
  readonly #log: Logger;
  #current: CredentialConflict[] = [];

  constructor(options: { db: Db; cache: CredentialCache; journal: Journal; topic: string; siteId: string; gatewayId: string; logger: Logger }) {
    this.#db = options.db;
    this.#cache = options.cache;
    this.#journal = options.journal;
    this.#topic = options.topic;
    this.#ids = { siteId: options.siteId, gatewayId: options.gatewayId };
    this.#log = options.logger;
  }

  /** The conflicts in the data in force, as of the last check. */
  get conflicts(): readonly CredentialConflict[] {
    return this.#current;
  }

  /** Scan the data in force on this thread, then report (at start, before anything else runs; tests). */
  check(at = Date.now()): void {
    this.report(this.#cache.conflicts(), at);
  }

  /** The conflicts in the data in force, as just scanned: remembered, and published when the set changed. */
  report(conflicts: CredentialConflict[], at = Date.now()): void {
    this.#current = conflicts;
    const signature = JSON.stringify(conflicts.map((c) => [c.namespace, c.fingerprint, c.personIds, c.credentialIds]));
    const published = this.#db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(META_KEY)?.value ?? '[]';
    if (signature === published) return;
    const version = this.#cache.version();
    this.#db.transaction(() => {
      this.#journal.append('conflicts', this.#topic, at, (stamp): ConflictReport => ({
        schema: 'gatehouse.conflicts/1',
        eventId: stamp.eventId,
        bootId: stamp.bootId,
        seq: stamp.seq,
        ts: new Date(at).toISOString(),
        ...this.#ids,
        cacheVersion: version,
        conflicts: conflicts.map((c) => ({ ...c, personIds: [...c.personIds], credentialIds: [...c.credentialIds] })),
      }));
      this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(META_KEY, signature);
    })();
    if (conflicts.length > 0) {
      this.#log.warn(
        { conflicts: conflicts.map((c) => ({ namespace: c.namespace, fp: c.fingerprint, people: c.personIds })) },
        'credentials shared by several people: refused to all of them until the data is fixed',
      );
    } else {
      this.#log.info('no credential conflicts left');
    }
  }
}
