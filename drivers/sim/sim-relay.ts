/** A relay with no hardware: remembers its state and history for status and tests. */
import type { RelayDriver } from '../types.js';

export class SimRelay implements RelayDriver {
  readonly deviceId: string;
  readonly history: { at: number; energised: boolean }[] = [];
  readonly #faultListeners = new Set<(error: Error) => void>();
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

  async set(energised: boolean): Promise<void> {
    if (!this.#open) throw new Error(`relay ${this.deviceId} is not open`);
    this.#energised = energised;
    this.history.push({ at: Date.now(), energised });
    if (this.history.length > 100) this.history.shift();
  }
}
