/**
 * The path from a credential read to a door and to the cloud:
 *
 *   reader driver ─► hash ─► cache lookup ─► decide() ─► door relay
 *                                                     └► journal (+ session) ─► uplink
 *
 * The door is commanded before the journal write so its latency never
 * includes a disk write; the event is committed (into the WAL, no fsync on
 * this loop) in the same turn, and published only once the WAL flusher has
 * made it durable (store/wal-flusher.ts).
 * Everything here is synchronous up to the relay write; a serial relay's
 * bytes reach the kernel in the same turn (drivers/serial/direct-io.ts),
 * only the wait for their transmission runs in the background. One read is
 * fully decided before the next is looked at. The journal commit follows in
 * the same turn: a crash in the fraction of a millisecond between the two
 * leaves an opened door without its event, which is accepted rather than
 * put a disk write before every door.
 */
import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import type { PresentedCredential, ReaderDriver } from '../../drivers/types.js';
import type { GatehouseConfig, ReaderConfig } from '../config/schema.js';
import { decide } from '../engine/decide.js';
import { siteLocalTime } from '../engine/site-time.js';
import { freshness } from '../engine/staleness.js';
import type { AreaPolicy, Candidate, Channel, ClockFacts, Decision, ReaderMode, StalePolicy, VisitorTokenPolicy } from '../engine/types.js';
import type { CacheStamp, CredentialCache } from '../store/cache.js';
import { CredentialFormatError, fingerprint, type CredentialHasher } from '../store/credential-hash.js';
import type { Db } from '../store/database.js';
import type { Journal, JournalEntry } from '../store/journal.js';
import type { CheckinSessions } from '../store/sessions.js';
import type { AccessEvent } from '../uplink/payloads.js';
import type { Logger } from '../runtime/logger.js';
import { SecretValue } from '../runtime/secret.js';
import type { DoorController } from './door-controller.js';
import { duressCandidates, guessSourceOf, type CodeSecurity } from './code-security.js';
import { KeypadEntry } from './keypad-entry.js';
import { isWrongCode, lockedOutDecision } from '../engine/lockout.js';

/**
 * A credential ready to decide: keystrokes are assembled into a keypad code
 * first. BLE credentials arrive already identified and hashed by the BLE
 * layer (a beacon id in the ble_beacon namespace, a verified tap token's key
 * id in the ble_key namespace).
 */
export type AssembledCredential = Exclude<PresentedCredential, { kind: 'keystrokes' }> | BleCredential;

export interface BleCredential {
  readonly kind: 'ble';
  readonly lookup: Buffer;
}

/**
 * Where a credential was presented. A configured reader is one; the Wi-Fi,
 * the kiosk and BLE readers build their own, so every channel goes through
 * the same engine, journal and sessions.
 */
export interface AccessSource {
  /** Reader id in events ("front-in", "wifi", "kiosk:lobby"). */
  readonly id: string;
  readonly channel: Channel;
  readonly mode: ReaderMode;
  readonly doorId: string | null;
  readonly area: string | null;
  /** Recorded as the session's source (driver name, "radius", "kiosk"). */
  readonly driver: string;
}

export const sourceOfReader = (reader: ReaderConfig): AccessSource => ({
  id: reader.id,
  channel: 'door',
  mode: reader.mode,
  doorId: reader.door ?? null,
  area: reader.area ?? null,
  driver: reader.driver,
});

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
  /** Anti-passback areas (config areas). */
  readonly areas?: GatehouseConfig['areas'];
  /** Holidays from the config; the synced ones are added. */
  readonly holidays?: readonly string[];
  /** Whether the wall clock is believed (runtime/clock-watch.ts); without it, always. */
  readonly clock?: () => ClockFacts;
  /** Keystroke assembly, guessing lockout and duress for typed codes. */
  readonly codes: CodeSecurity;
}

/** A decision made but not yet carried out (no door moved, nothing journaled). */
export interface Evaluation {
  readonly at: number;
  readonly decision: Decision;
  readonly fingerprint: string;
  readonly credentialKind: AccessEvent['credential']['kind'];
  readonly cache: AccessEvent['cache'];
  /** Typed codes: the guessing source, and whether the code was a duress code. */
  readonly code: { readonly source: string; readonly lockedOut: boolean; readonly duress: boolean } | null;
}

export interface AccessResult {
  readonly decision: Decision;
  readonly fingerprint: string;
  /** Null when the journal could not be written (reported, never thrown). */
  readonly event: JournalEntry | null;
  /** Read to door command in ms, for reads decided at once (null when decided earlier and committed later, as Wi-Fi does). */
  readonly latencyMs: number | null;
}

export interface EvaluateOptions {
  /**
   * Narrow the match to people the channel has identified otherwise (Wi-Fi:
   * the email). Applied after the ambiguity check: a code shared by two
   * people stays refused to both, whatever else is known.
   */
  readonly restrictTo?: (personId: string) => boolean;
  /** Decide at this instant instead of now (tests, replays). */
  readonly at?: number;
}

const TRUSTED_CLOCK: ClockFacts = { trusted: true, policy: 'trust' };

export class AccessPipeline {
  readonly #o: AccessPipelineOptions;
  readonly #now: () => number;
  readonly #persist;
  readonly #listeners = new Set<(result: AccessResult, source: AccessSource) => void>();
  #journalFailures = 0;
  #settingsFor: { appliedAt: number | null; gen: number; holidays: ReadonlySet<string>; tokens: VisitorTokenPolicy } | null = null;
  /** The last sync time as every event states it: formatting it costs ≈ 0.45 µs, and it changes once per sync. */
  #syncedIso: { readonly at: number; readonly iso: string } | null = null;

  constructor(options: AccessPipelineOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#persist = options.db.transaction((source: AccessSource, ev: Evaluation): JournalEntry => {
      const { decision, at } = ev;
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
        readerId: source.id,
        doorId: source.doorId,
        channel: source.channel,
        credential: { kind: ev.credentialKind, fingerprint: ev.fingerprint },
        person: decision.person === null ? null : { id: decision.person.id, kind: decision.person.kind },
        decision: { outcome: decision.outcome, reason: decision.reason },
        checkin: decision.checkin,
        sessionId,
        unlockMs: unlock?.ms ?? 0,
        flags: [...decision.flags],
        cache: ev.cache,
      }));
      for (const effect of decision.effects) {
        switch (effect.type) {
          case 'check-in':
            if (sessionId === null) break;
            options.sessions.open({
              id: sessionId,
              personId: effect.personId,
              at,
              source: source.driver,
              readerId: source.id,
              doorId: source.doorId,
              eventId: entry.id,
              entitlementId: effect.entitlementId,
              area: source.area,
            });
            break;
          case 'check-out':
            options.sessions.close(effect.sessionId, at, entry.id);
            break;
          case 'start-entitlement':
            options.sessions.startEntitlement(effect.entitlementId, effect.personId, at, entry.id);
            break;
          case 'area':
            options.sessions.setPresence(effect.personId, effect.area, effect.inside, at);
            break;
          case 'unlock':
            break;
        }
      }
      return entry;
    });
  }

  get journalFailures(): number {
    return this.#journalFailures;
  }

  /** Observe every completed decision (status page, tail, tests). */
  onDecision(listener: (result: AccessResult, source: AccessSource) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Connect a reader driver to the pipeline. */
  attach(reader: ReaderConfig, driver: ReaderDriver): void {
    const decideRead = (credential: AssembledCredential): void => {
      try {
        const result = this.handle(reader, credential);
        driver.feedback?.(result.decision.outcome === 'granted' ? 'granted' : 'denied');
      } catch (error) {
        // A bug here must not take the reader (or the process) down with it.
        this.#o.logger.error({ err: error, reader: reader.id }, 'failed to handle a read');
      }
    };
    // Keypads that send single keys: the entry assembles codes ('#' submits).
    const entry = new KeypadEntry(this.#o.codes.entry, (output) => {
      if (output.type === 'submit') decideRead({ kind: 'keypad', code: output.code });
      else if (output.type === 'rejected') driver.feedback?.('denied');
      this.#o.logger.debug({ reader: reader.id, entry: output.type }, 'keypad entry');
    });
    driver.onRead((credential) => {
      if (credential.kind === 'keystrokes') entry.feed(credential.keys);
      else decideRead(credential);
    });
  }

  /** Decide one read at a configured reader and carry out its effects. Synchronous up to the relay write. */
  handle(reader: ReaderConfig, credential: AssembledCredential): AccessResult {
    return this.present(sourceOfReader(reader), credential);
  }

  /** Decide a credential presented at any source and carry out the decision. */
  present(source: AccessSource, credential: AssembledCredential, options: EvaluateOptions = {}): AccessResult {
    const started = performance.now();
    return this.commit(source, this.evaluate(source, credential, options), started);
  }

  /**
   * Decide without carrying anything out: the Wi-Fi answers an Access-Request
   * from this and checks in only on Accounting-Start. A typed code from a
   * locked-out source is refused before anything is looked up.
   */
  evaluate(source: AccessSource, credential: AssembledCredential, options: EvaluateOptions = {}): Evaluation {
    const o = this.#o;
    const at = options.at ?? this.#now();
    const credentialKind: Evaluation['credentialKind'] = credential.kind;
    let lookup: Buffer;
    let known = true;
    let value = '';
    if (credential.kind === 'ble') {
      lookup = credential.lookup;
    } else {
      value = credential.kind === 'card' ? credential.number.reveal() : credential.code.reveal();
      try {
        lookup = o.hasher.lookupOf(credential.kind, value);
      } catch (error) {
        if (!(error instanceof CredentialFormatError)) throw error;
        // Malformed input (3 digits, letters) can match nothing; still fingerprint it for the log.
        lookup = o.hasher.lookup(credential.kind === 'card' ? 'card' : 'code', value);
        known = false;
      }
    }
    const fp = fingerprint(lookup);
    const local = siteLocalTime(at, o.timezone);
    const guessSource = credentialKind === 'keypad' ? guessSourceOf(source) : null;
    const lockedOut = guessSource !== null && o.codes.guard.check(guessSource).locked;
    const context = { at, monthStart: local.monthStart, area: source.area };
    const read = known && !lockedOut ? o.cache.read(lookup, context) : null;
    let candidates: Candidate[] = read?.candidates ?? [];
    let state = read?.state ?? null;
    // A static beacon can be copied by anyone who once stood near it: presence only, never a door.
    if (source.doorId !== null) candidates = candidates.filter((c) => c.credential.kind !== 'ble_beacon');
    // Only a code that is nobody's credential can be a duress code.
    const duress =
      guessSource !== null && known && !lockedOut && candidates.length === 0
        ? duressCandidates(o.codes.duress, value, o.hasher, o.cache, context)
        : null;
    const isDuress = duress !== null && duress.candidates.length > 0;
    if (isDuress) {
      candidates = duress.candidates;
      state = duress.state;
    }
    // The decision is stamped with the state of the data it was decided on,
    // which the candidates statement returned. When no row matched there was
    // none to carry it: read it now, in the same turn, so no swap or delta
    // (they commit on this connection, from this loop) can come between.
    const facts = this.#siteFacts(at, state ?? o.cache.state());
    const { cache } = facts;
    const restrictTo = options.restrictTo;
    if (restrictTo !== undefined && candidates.length > 0 && candidates.every((c) => c.person.id === candidates[0]?.person.id)) {
      if (!restrictTo(candidates[0]?.person.id ?? '')) candidates = [];
    }
    const code = guessSource === null ? null : { source: guessSource, lockedOut, duress: isDuress };
    if (lockedOut) return { at, decision: lockedOutDecision, fingerprint: fp, credentialKind, cache, code };
    const decision = this.#decide(source, at, candidates, facts);
    return { at, decision, fingerprint: fp, credentialKind, cache, code };
  }

  /**
   * Runs a made-up card and a made-up code through the lookup and the
   * decision at each source, carrying nothing out: no door, journal, session,
   * guess count, listener or log sees them. Code runs cold the first time
   * (compiled lazily, the site's time zone loaded by ICU, the candidates
   * statement's first pages read, the RNG seeded): a daemon's first read took
   * 6-11 ms from frame to relay command, its next ones about 1 ms. The
   * gateway calls this once at start, before the readers open, so the first
   * member after a restart does not pay for it.
   */
  warmUp(sources: readonly AccessSource[]): void {
    for (const source of sources) {
      this.evaluate(source, { kind: 'card', number: new SecretValue('0') });
      this.evaluate(source, { kind: 'keypad', code: new SecretValue('00000') });
    }
    uuidv7();
  }

  /**
   * Decide on facts a channel established itself rather than by a cache
   * lookup (a visitor registered at the kiosk just now), under the same
   * site rules, door, clock and staleness as any read.
   */
  evaluateFacts(
    source: AccessSource,
    candidate: Candidate,
    credential: { readonly kind: Evaluation['credentialKind']; readonly fingerprint: string },
    options: Pick<EvaluateOptions, 'at'> = {},
  ): Evaluation {
    const at = options.at ?? this.#now();
    const facts = this.#siteFacts(at, this.#o.cache.state());
    const decision = this.#decide(source, at, [candidate], facts);
    return { at, decision, fingerprint: credential.fingerprint, credentialKind: credential.kind, cache: facts.cache, code: null };
  }

  /** The site's visitor-token rules in force (kiosk registration sizes a local visitor's token with them). */
  visitorTokenPolicy(): VisitorTokenPolicy {
    return this.#siteRules(this.#o.cache.state()).tokens;
  }

  #siteFacts(at: number, state: CacheStamp): { state: CacheStamp; stale: boolean; cache: AccessEvent['cache'] } {
    const fresh = freshness(state.syncedAt, at, this.#o.staleness?.staleAfterMs ?? null);
    const cache: AccessEvent['cache'] = {
      version: state.version,
      syncedAt: state.syncedAt === null ? null : this.#isoOf(state.syncedAt),
      ageS: fresh.ageMs === null ? null : Math.floor(fresh.ageMs / 1000),
      stale: fresh.stale,
    };
    return { state, stale: fresh.stale, cache };
  }

  #isoOf(syncedAt: number): string {
    if (this.#syncedIso?.at !== syncedAt) this.#syncedIso = { at: syncedAt, iso: new Date(syncedAt).toISOString() };
    return this.#syncedIso.iso;
  }

  #decide(source: AccessSource, at: number, candidates: readonly Candidate[], facts: { state: CacheStamp; stale: boolean }): Decision {
    const o = this.#o;
    const door = source.doorId === null ? null : (o.doors.get(source.doorId) ?? null);
    const local = siteLocalTime(at, o.timezone);
    const site = this.#siteRules(facts.state);
    return decide({
      at,
      local,
      holiday: site.holidays.has(local.date),
      reader: { id: source.id, mode: source.mode, channel: source.channel, area: this.#area(source.area) },
      door: door?.policy() ?? null,
      candidates,
      cache: { stale: facts.stale, policy: o.staleness?.policy ?? 'keep-deciding' },
      clock: o.clock?.() ?? TRUSTED_CLOCK,
      visitorTokens: site.tokens,
    });
  }

  /** Carry out an evaluated decision: door first, then journal and sessions in one transaction. */
  commit(source: AccessSource, evaluation: Evaluation, startedAt?: number): AccessResult {
    const o = this.#o;
    const { decision } = evaluation;
    for (const effect of decision.effects) {
      if (effect.type === 'unlock') o.doors.get(effect.doorId)?.unlock(effect.ms);
    }
    const latencyMs = startedAt === undefined ? null : performance.now() - startedAt;

    let event: JournalEntry | null = null;
    try {
      event = this.#persist(source, evaluation);
    } catch (error) {
      // The door has already been served; losing the record is reported loudly.
      this.#journalFailures++;
      o.logger.error({ err: error, reader: source.id, fp: evaluation.fingerprint }, 'could not journal a decision');
    }

    // After the access event, so a lockout this code starts follows it in seq order.
    const code = evaluation.code;
    if (code !== null && !code.lockedOut && isWrongCode(decision.reason)) o.codes.guard.recordFailure(code.source);
    if (code?.duress === true) {
      o.codes.alarms.duress({
        source: code.source,
        readerId: source.id,
        doorId: source.doorId,
        person: decision.person,
        accessEventId: event?.id ?? null,
      });
    }

    o.logger.info(
      {
        reader: source.id,
        channel: source.channel,
        door: source.doorId,
        fp: evaluation.fingerprint,
        person: decision.person?.id ?? null,
        outcome: decision.outcome,
        reason: decision.reason,
        checkin: decision.checkin,
        flags: decision.flags.length > 0 ? decision.flags : undefined,
        cacheVersion: evaluation.cache.version,
        stale: evaluation.cache.stale,
        seq: event?.seq ?? null,
      },
      'access decision',
    );
    const result: AccessResult = { decision, fingerprint: evaluation.fingerprint, event, latencyMs };
    for (const listener of this.#listeners) listener(result, source);
    return result;
  }

  #area(id: string | null): AreaPolicy | null {
    if (id === null) return null;
    const area = this.#o.areas?.[id];
    if (area === undefined) return null;
    return { id, antiPassback: area.antiPassback, timedMs: area.timedS * 1000 };
  }

  /** Site settings and holidays, re-read only when the data in force changes. */
  #siteRules(state: CacheStamp): { holidays: ReadonlySet<string>; tokens: VisitorTokenPolicy } {
    const cached = this.#settingsFor;
    if (cached !== null && cached.appliedAt === state.appliedAt && cached.gen === state.gen) return cached;
    const settings = this.#o.cache.settings();
    const holidays = new Set([...(this.#o.holidays ?? []), ...(settings?.holidays.map((h) => h.date) ?? [])]);
    const tokens: VisitorTokenPolicy = {
      minutes: settings?.visitorTokenMinutes ?? 24 * 60,
      start: settings?.visitorTokenStart ?? 'first-checkin',
    };
    const fresh = { appliedAt: state.appliedAt, gen: state.gen, holidays, tokens };
    this.#settingsFor = fresh;
    return fresh;
  }
}
