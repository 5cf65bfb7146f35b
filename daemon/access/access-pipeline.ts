/**
 * The path from a credential read to a door and to the cloud:
 *
 *   reader driver ─► hash ─► cache lookup ─► decide() ─► door relay
 *                                                     └► journal (+ session) ─► uplink
 *
 * The door is commanded before the journal write so its latency never
 * includes an fsync; the event is committed before anything publishes it.
 * Everything here is synchronous up to the relay write, which runs in the
 * background: one read is fully decided before the next is looked at.
 */
import { v7 as uuidv7 } from 'uuid';
import type { PresentedCredential, ReaderDriver } from '../../drivers/types.js';
import type { ReaderConfig } from '../config/schema.js';
import { decide } from '../engine/decide.js';
import { siteLocalTime } from '../engine/site-time.js';
import { freshness } from '../engine/staleness.js';
import type { Decision, StalePolicy } from '../engine/types.js';
import type { CredentialCache } from '../store/cache.js';
import { CredentialFormatError, fingerprint, type CredentialHasher } from '../store/credential-hash.js';
import type { Db } from '../store/database.js';
import type { Journal, JournalEntry } from '../store/journal.js';
import type { CheckinSessions } from '../store/sessions.js';
import type { AccessEvent } from '../uplink/payloads.js';
import type { Logger } from '../runtime/logger.js';
import type { DoorController } from './door-controller.js';

export interface AccessPipelineOptions {
  readonly siteId: string;
  readonly gatewayId: string;
  readonly timezone: string;
  readonly accessTopic: string;
  readonly db: Db;
  readonly hasher: CredentialHasher;
  readonly cache: CredentialCache;
  readonly sessions: CheckinSessions;
  readonly journal: Journal;
  readonly doors: ReadonlyMap<string, DoorController>;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Staleness rules (config cloud); without them the cache never goes stale. */
  readonly staleness?: { readonly staleAfterMs: number; readonly policy: StalePolicy } | undefined;
}

export interface AccessResult {
  readonly decision: Decision;
  readonly fingerprint: string;
  /** Null when the journal could not be written (reported, never thrown). */
  readonly event: JournalEntry | null;
}

export class AccessPipeline {
  readonly #o: AccessPipelineOptions;
  readonly #now: () => number;
  readonly #persist;
  readonly #listeners = new Set<(result: AccessResult, reader: ReaderConfig) => void>();
  #journalFailures = 0;

  constructor(options: AccessPipelineOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#persist = options.db.transaction(
      (reader: ReaderConfig, credentialKind: 'card' | 'keypad', fp: string, decision: Decision, at: number, cache: AccessEvent['cache']) => {
        const checkIn = decision.effects.find((e) => e.type === 'check-in');
        const checkOut = decision.effects.find((e) => e.type === 'check-out');
        const sessionId = checkIn !== undefined ? uuidv7() : (checkOut?.sessionId ?? null);
        const unlock = decision.effects.find((e) => e.type === 'unlock');
        const entry = options.journal.append('access', options.accessTopic, at, (stamp): AccessEvent => ({
          schema: 'gatehouse.access/1',
          eventId: stamp.eventId,
          bootId: stamp.bootId,
          seq: stamp.seq,
          ts: new Date(at).toISOString(),
          siteId: options.siteId,
          gatewayId: options.gatewayId,
          readerId: reader.id,
          doorId: reader.door ?? null,
          credential: { kind: credentialKind, fingerprint: fp },
          person: decision.person === null ? null : { id: decision.person.id, kind: decision.person.kind },
          decision: { outcome: decision.outcome, reason: decision.reason },
          checkin: decision.checkin,
          sessionId,
          unlockMs: unlock?.ms ?? 0,
          cache,
        }));
        if (checkIn !== undefined && sessionId !== null) {
          options.sessions.open({
            id: sessionId,
            personId: checkIn.personId,
            at,
            source: reader.driver,
            readerId: reader.id,
            doorId: reader.door ?? null,
            eventId: entry.id,
          });
        }
        if (checkOut !== undefined) options.sessions.close(checkOut.sessionId, at, entry.id);
        return entry;
      },
    );
  }

  get journalFailures(): number {
    return this.#journalFailures;
  }

  /** Observe every completed decision (status page, tail, tests). */
  onDecision(listener: (result: AccessResult, reader: ReaderConfig) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connect a reader driver to the pipeline. */
  attach(reader: ReaderConfig, driver: ReaderDriver): void {
    driver.onRead((credential) => {
      if (credential.kind === 'keystrokes') {
        // Keystrokes become a PIN only after assembly, which is not wired here yet.
        this.#o.logger.debug({ reader: reader.id, keys: credential.keys.length }, 'keystrokes ignored: no PIN assembly for this reader');
        return;
      }
      try {
        const result = this.handle(reader, credential);
        driver.feedback?.(result.decision.outcome === 'granted' ? 'granted' : 'denied');
      } catch (error) {
        // A bug here must not take the reader (or the process) down with it.
        this.#o.logger.error({ err: error, reader: reader.id }, 'failed to handle a read');
      }
    });
  }

  /** Decide one read and carry out its effects. Synchronous up to the relay write. */
  handle(reader: ReaderConfig, credential: Exclude<PresentedCredential, { kind: 'keystrokes' }>): AccessResult {
    const o = this.#o;
    const at = this.#now();
    const value = credential.kind === 'card' ? credential.number.reveal() : credential.code.reveal();
    let lookup: Buffer;
    let known = true;
    try {
      lookup = o.hasher.lookupOf(credential.kind, value);
    } catch (error) {
      if (!(error instanceof CredentialFormatError)) throw error;
      // Malformed input (3 digits, letters) can match nothing; still fingerprint it for the log.
      lookup = o.hasher.lookup(credential.kind === 'card' ? 'card' : 'code', value);
      known = false;
    }
    const fp = fingerprint(lookup);
    const door = reader.door === undefined ? null : (o.doors.get(reader.door) ?? null);
    // Read with the candidates, in the same turn: a swap cannot come between them.
    const state = o.cache.state();
    const fresh = freshness(state.syncedAt, at, o.staleness?.staleAfterMs ?? null);
    const cache: AccessEvent['cache'] = {
      version: state.version,
      syncedAt: state.syncedAt === null ? null : new Date(state.syncedAt).toISOString(),
      ageS: fresh.ageMs === null ? null : Math.floor(fresh.ageMs / 1000),
      stale: fresh.stale,
    };
    const decision = decide({
      at,
      local: siteLocalTime(at, o.timezone),
      reader: { id: reader.id, mode: reader.mode },
      door: door?.policy() ?? null,
      candidates: known ? o.cache.candidates(lookup) : [],
      cache: { stale: fresh.stale, policy: o.staleness?.policy ?? 'keep-deciding' },
    });

    for (const effect of decision.effects) {
      if (effect.type === 'unlock') o.doors.get(effect.doorId)?.unlock(effect.ms);
    }

    let event: JournalEntry | null = null;
    try {
      event = this.#persist(reader, credential.kind, fp, decision, at, cache);
    } catch (error) {
      // The door has already been served; losing the record is reported loudly.
      this.#journalFailures++;
      o.logger.error({ err: error, reader: reader.id, fp }, 'could not journal a decision');
    }

    o.logger.info(
      {
        reader: reader.id,
        door: reader.door ?? null,
        fp,
        person: decision.person?.id ?? null,
        outcome: decision.outcome,
        reason: decision.reason,
        checkin: decision.checkin,
        cacheVersion: cache.version,
        stale: cache.stale,
        seq: event?.seq ?? null,
      },
      'access decision',
    );
    const result: AccessResult = { decision, fingerprint: fp, event };
    for (const listener of this.#listeners) listener(result, reader);
    return result;
  }
}
