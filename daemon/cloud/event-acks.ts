/**
 * The cloud's application-level acknowledgements (topic events/ack): an
 * event leaves the journal's pending set only when the cloud confirms it
 * stored it, not when the broker PUBACKs it.
 *
 * Acks are signed like commands: a forged ack would make the gateway stop
 * resending events the cloud never got. Anything that does not verify, is
 * not an ack, or names another gateway is counted and ignored; an ack is
 * never answered. Acks are idempotent, so a replayed one changes nothing,
 * and they need no expiry or id of their own.
 */
import type { Logger } from '../runtime/logger.js';
import type { AckResult, Journal } from '../store/journal.js';
import { FailureThrottle } from '../uplink/failure-throttle.js';
import { openSigned, type EnvelopeRejectReason } from './inbound.js';
import { eventsAckSchema } from './link-messages.js';
import type { CloudKeyring } from './signed-message.js';

export type AckRejectReason = EnvelopeRejectReason | 'invalid_ack' | 'wrong_gateway' | 'journal_error';

export interface EventAckHandlerOptions {
  readonly gatewayId: string;
  readonly keyring: CloudKeyring;
  readonly maxMessageBytes: number;
  readonly journal: Pick<Journal, 'acknowledge'>;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface AckCounters {
  /** Ack messages received, valid or not. */
  readonly received: number;
  /** Ack messages applied. */
  readonly applied: number;
  /** Journal rows that became acknowledged. */
  readonly eventsAcked: number;
  /** Named events that were already acknowledged (the cloud repeats itself after a resend). */
  readonly alreadyAcked: number;
  /** Named event ids this journal does not hold. */
  readonly unknownIds: number;
  /** throughSeq values beyond the last seq assigned here (ignored; the journal was probably replaced). */
  readonly throughSeqAhead: number;
  /** Ignored messages by reason. */
  readonly ignored: Readonly<Partial<Record<AckRejectReason, number>>>;
}

export type AckOutcome = { readonly applied: true; readonly result: AckResult } | { readonly applied: false; readonly reason: AckRejectReason; readonly detail: string };

type Counters = { -readonly [K in Exclude<keyof AckCounters, 'ignored'>]: number };

export class EventAckHandler {
  readonly #o: EventAckHandlerOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #throttle = new FailureThrottle();
  readonly #counters: Counters = { received: 0, applied: 0, eventsAcked: 0, alreadyAcked: 0, unknownIds: 0, throughSeqAhead: 0 };
  readonly #ignored: Partial<Record<AckRejectReason, number>> = {};

  constructor(options: EventAckHandlerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'acks' });
    this.#now = options.now ?? Date.now;
  }

  get counters(): AckCounters {
    return { ...this.#counters, ignored: { ...this.#ignored } };
  }

  /** Verify and apply one ack message. Never throws. */
  handle(raw: Buffer): AckOutcome {
    this.#counters.received += 1;
    const opened = openSigned(this.#o.keyring, raw, this.#o.maxMessageBytes);
    if (!opened.ok) return this.#ignore(opened.reason, opened.detail);
    const parsed = eventsAckSchema.safeParse(opened.payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.#ignore('invalid_ack', `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    const ack = parsed.data;
    if (ack.gatewayId !== this.#o.gatewayId) return this.#ignore('wrong_gateway', `ack is for gateway "${ack.gatewayId.slice(0, 64)}"`);
    let result: AckResult;
    try {
      result = this.#o.journal.acknowledge(ack, this.#now());
    } catch (error) {
      // The cloud acks again when it sees the resend; nothing is lost.
      this.#log.error({ err: error }, 'cannot record event acknowledgements');
      this.#ignored.journal_error = (this.#ignored.journal_error ?? 0) + 1;
      return { applied: false, reason: 'journal_error', detail: 'journal write failed' };
    }
    this.#counters.applied += 1;
    this.#counters.eventsAcked += result.acked;
    this.#counters.alreadyAcked += result.alreadyAcked;
    this.#counters.unknownIds += result.unknownIds;
    if (result.throughSeqAhead) {
      this.#counters.throughSeqAhead += 1;
      this.#log.warn({ throughSeq: ack.throughSeq }, 'cloud acknowledged a seq this gateway never assigned; ignored (was the database replaced?)');
    }
    if (result.unknownIds > 0) this.#log.debug({ unknownIds: result.unknownIds }, 'ack names events this journal does not hold');
    this.#throttle.success();
    return { applied: true, result };
  }

  #ignore(reason: AckRejectReason, detail: string): AckOutcome {
    this.#ignored[reason] = (this.#ignored[reason] ?? 0) + 1;
    const report = this.#throttle.failure(reason, Date.now());
    const fields = { reason, detail, suppressedSinceLastReport: report.suppressed };
    if (report.level === 'warn') this.#log.warn(fields, 'event ack ignored; the events stay pending');
    else this.#log.debug(fields, 'event ack ignored; the events stay pending');
    return { applied: false, reason, detail };
  }
}
