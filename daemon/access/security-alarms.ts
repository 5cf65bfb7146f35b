/**
 * Journals security alarms (topic events/alarm): duress codes and
 * code-guessing lockouts. They share the journal, the seq numbering and the
 * delivery guarantees of access events, so an alarm raised offline is
 * published once the broker is back. Nothing here ever sees a code.
 */
import type { PersonFacts } from '../engine/types.js';
import type { Logger } from '../runtime/logger.js';
import type { Journal, JournalEntry } from '../store/journal.js';
import type { AlarmEvent } from '../uplink/payloads.js';
import type { GuessGuard, LockoutEvent } from './guess-guard.js';

export interface SecurityAlarmsOptions {
  readonly siteId: string;
  readonly gatewayId: string;
  readonly topic: string;
  readonly journal: Journal;
  readonly logger: Logger;
  /** Wall clock for the event's ts (durations come from the guard's monotonic clock). */
  readonly now?: () => number;
}

export interface DuressReport {
  readonly source: string;
  readonly readerId: string;
  readonly doorId: string | null;
  readonly person: PersonFacts | null;
  readonly accessEventId: string | null;
}

type AlarmBody = Pick<AlarmEvent, 'type' | 'priority' | 'source' | 'readerId' | 'doorId' | 'person' | 'accessEventId' | 'lockout'>;

export class SecurityAlarms {
  readonly #o: SecurityAlarmsOptions;
  readonly #now: () => number;
  #failures = 0;

  constructor(options: SecurityAlarmsOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Alarms that could not be journaled (each also logged at error level). */
  get failures(): number {
    return this.#failures;
  }

  /** Journal every lockout start and end of `guard`. Returns the unsubscribe function. */
  watch(guard: GuessGuard): () => void {
    return guard.onEvent((event) => this.lockout(event));
  }

  lockout(event: LockoutEvent): JournalEntry | null {
    this.#o.logger.warn(
      { source: event.source, level: event.level, durationMs: Math.round(event.durationMs) },
      event.type === 'lockout_started' ? 'code source locked out after wrong codes' : 'code source lockout ended',
    );
    return this.#append({
      type: event.type,
      priority: 'normal',
      source: event.source,
      readerId: null,
      doorId: null,
      person: null,
      accessEventId: null,
      lockout: {
        durationS: Math.round(event.durationMs) / 1000,
        level: event.level,
        failures: event.type === 'lockout_started' ? event.failures : 0,
      },
    });
  }

  duress(report: DuressReport): JournalEntry | null {
    // Logged at warn with the person, never the code: the log is where an operator looks first.
    this.#o.logger.warn({ source: report.source, person: report.person?.id ?? null, accessEventId: report.accessEventId }, 'duress code used');
    return this.#append({
      type: 'duress',
      priority: 'high',
      source: report.source,
      readerId: report.readerId,
      doorId: report.doorId,
      person: report.person === null ? null : { id: report.person.id, kind: report.person.kind },
      accessEventId: report.accessEventId,
      lockout: null,
    });
  }

  /** A reader's tamper switch or power supply changed (OSDP LSTATR). */
  device(report: { readerId: string; doorId: string | null; type: 'tamper' | 'power'; active: boolean }): JournalEntry | null {
    const type = report.type === 'tamper' ? (report.active ? 'tamper' : 'tamper_restored') : report.active ? 'power_failure' : 'power_restored';
    this.#o.logger.warn({ reader: report.readerId, alarm: type }, 'reader reported a device condition');
    return this.#append({
      type,
      priority: type === 'tamper' ? 'high' : 'normal',
      source: `device:${report.readerId}`,
      readerId: report.readerId,
      doorId: report.doorId,
      person: null,
      accessEventId: null,
      lockout: null,
    });
  }

  #append(body: AlarmBody): JournalEntry | null {
    const o = this.#o;
    const at = this.#now();
    try {
      return o.journal.append('alarm', o.topic, at, (stamp): AlarmEvent => ({
        schema: 'gatehouse.alarm/1',
        eventId: stamp.eventId,
        bootId: stamp.bootId,
        seq: stamp.seq,
        ts: new Date(at).toISOString(),
        siteId: o.siteId,
        gatewayId: o.gatewayId,
        ...body,
      }));
    } catch (error) {
      // Never thrown into a read or a timer: the door has been served already.
      this.#failures++;
      o.logger.error({ err: error, type: body.type, source: body.source }, 'could not journal a security alarm');
      return null;
    }
  }
}
