/** A relay with no hardware: remembers its state and history for status and tests. */
import { RelayCommandLog } from '../relay-command-log.js';
import type { RelayCounters, RelayDriver } from '../types.js';

export class SimRelay implements RelayDriver {
  readonly deviceId: string;
  readonly history: { at: number; energised: boolean }[] = [];
  readonly #faultListeners = new Set<(error: Error) => void>();
  readonly #log = new RelayCommandLog();
  #open = false;
  #energised = false;

  constructor(deviceId: string) {
    this.deviceId = deviceId;
  }

  async open(): Promise<void> {
    this.#open = true;
  }

  async close(): Promise<void> {
    this.#open = false;
  }

  onFault(listener: (error: Error) => void): void {
    this.#faultListeners.add(listener);
  }

  get energised(): boolean {
    return this.#energised;
  }

  set(energised: boolean): Promise<void> {
    return this.#log.record(async () => {
      if (!this.#open) throw new Error(`relay ${this.deviceId} is not open`);
      this.#energised = energised;
      this.#log.verified(energised);
      this.history.push({ at: Date.now(), energised });
      if (this.history.length > 100) this.history.shift();
    });
  }

  counters(): RelayCounters {
    return this.#log.counters();
  }
}
