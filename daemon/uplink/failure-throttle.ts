/**
 * Decides how loudly to report a run of connection failures. A broker that is
 * down for a weekend with a 2 s reconnect period would otherwise write ~86,000
 * warnings a day; an operator needs the first one, any change of cause, and a
 * periodic reminder with a count.
 */

export interface FailureReport {
  /** `warn` for the first failure of a run, a new cause, or a reminder; else `debug`. */
  readonly level: 'warn' | 'debug';
  /** Failed attempts in the current run, this one included. */
  readonly attempts: number;
  /** Failures since the last warn-level report, this one excluded. */
  readonly suppressed: number;
  readonly failingSinceMs: number;
}

export interface RecoveryReport {
  /** Failed attempts before this success; 0 means there was no outage to report. */
  readonly attempts: number;
  readonly failingSinceMs: number | null;
}

export class FailureThrottle {
  readonly #reminderMs: number;
  #attempts = 0;
  #suppressed = 0;
  #since: number | null = null;
  #lastCause: string | null = null;
  #lastWarnAt = 0;

  constructor(reminderMs = 60_000) {
    this.#reminderMs = reminderMs;
  }

  failure(cause: string, nowMs: number): FailureReport {
    this.#attempts += 1;
    this.#since ??= nowMs;
    const loud = this.#attempts === 1 || cause !== this.#lastCause || nowMs - this.#lastWarnAt >= this.#reminderMs;
    this.#lastCause = cause;
    if (loud) {
      const report: FailureReport = { level: 'warn', attempts: this.#attempts, suppressed: this.#suppressed, failingSinceMs: this.#since };
      this.#suppressed = 0;
      this.#lastWarnAt = nowMs;
      return report;
    }
    this.#suppressed += 1;
    return { level: 'debug', attempts: this.#attempts, suppressed: this.#suppressed - 1, failingSinceMs: this.#since };
  }

  success(): RecoveryReport {
    const report: RecoveryReport = { attempts: this.#attempts, failingSinceMs: this.#since };
    this.#attempts = 0;
    this.#suppressed = 0;
    this.#since = null;
    this.#lastCause = null;
    this.#lastWarnAt = 0;
    return report;
  }
}
