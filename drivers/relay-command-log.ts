import type { RelayCounters } from './types.js';

/**
 * Counts a relay driver's commands for status: how many were sent, how many
 * failed and why the last one failed, and the state the device last reported.
 */
export class RelayCommandLog {
  #sent = 0;
  #failed = 0;
  #lastError: string | null = null;
  #verified: boolean | null = null;

  /** Runs one command and counts its outcome; the result or rejection passes through. */
  async record<T>(command: () => Promise<T>): Promise<T> {
    this.#sent += 1;
    try {
      return await command();
    } catch (error) {
      this.#failed += 1;
      this.#lastError = error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  /** The energised state the device reported (after a command or a poll). */
  verified(energised: boolean): void {
    this.#verified = energised;
  }

  counters(details: Readonly<Record<string, number>> = {}): RelayCounters {
    return { commandsSent: this.#sent, commandFailures: this.#failed, lastError: this.#lastError, verifiedEnergised: this.#verified, details };
  }
}
