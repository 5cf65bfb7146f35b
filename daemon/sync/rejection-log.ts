/**
 * Rejected sync messages: counted by reason, the last one kept for the
 * status, and logged without flooding the log when a broken or hostile
 * sender repeats itself (the first of a run, every new reason, and a
 * reminder a minute are warnings; the rest are debug).
 */
import type { Logger } from '../runtime/logger.js';
import { FailureThrottle } from '../uplink/failure-throttle.js';
import type { SyncRejectReason } from './messages.js';

const MAX_DETAIL = 300;

export interface Rejection {
  readonly reason: SyncRejectReason;
  readonly detail: string;
  readonly at: string;
}

export class RejectionLog {
  readonly #log: Logger;
  readonly #throttle = new FailureThrottle();
  readonly #counts: Partial<Record<SyncRejectReason, number>> = {};
  #last: Rejection | null = null;

  constructor(logger: Logger) {
    this.#log = logger;
  }

  /** Count and log one rejection; returns the detail as kept (shortened). */
  record(reason: SyncRejectReason, detail: string, now: number): string {
    const text = detail.slice(0, MAX_DETAIL);
    const count = (this.#counts[reason] ?? 0) + 1;
    this.#counts[reason] = count;
    this.#last = { reason, detail: text, at: new Date(now).toISOString() };
    const report = this.#throttle.failure(reason, now);
    const fields = { reason, detail: text, count, suppressed: report.suppressed };
    if (report.level === 'warn') this.#log.warn(fields, 'sync message rejected');
    else this.#log.debug(fields, 'sync message rejected');
    return text;
  }

  /** A message was applied: the next rejection starts a new run and is a warning again. */
  applied(): void {
    this.#throttle.success();
  }

  get counts(): Readonly<Partial<Record<SyncRejectReason, number>>> {
    return { ...this.#counts };
  }

  get last(): Rejection | null {
    return this.#last;
  }
}
