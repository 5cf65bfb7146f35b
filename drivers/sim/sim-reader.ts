/**
 * A reader with no hardware: reads are injected through the control socket
 * (`gatehouse sim card|pin`). Used by the demo and by tests of the layers above
 * the drivers.
 */
import type { PresentedCredential, ReaderDriver, ReaderFeedback } from '../types.js';

export class SimReader implements ReaderDriver {
  readonly deviceId: string;
  readonly #readListeners = new Set<(credential: PresentedCredential) => void>();
  readonly #faultListeners = new Set<(error: Error) => void>();
  #open = false;
  #lastFeedback: ReaderFeedback | null = null;

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

  onRead(listener: (credential: PresentedCredential) => void): void {
    this.#readListeners.add(listener);
  }

  feedback(signal: ReaderFeedback): void {
    this.#lastFeedback = signal;
  }

  get lastFeedback(): ReaderFeedback | null {
    return this.#lastFeedback;
  }

  /** Present a credential as if the hardware had read it. Returns false when the reader is closed. */
  present(credential: PresentedCredential): boolean {
    if (!this.#open) return false;
    for (const listener of this.#readListeners) listener(credential);
    return true;
  }

  /** Simulate the device being unplugged. */
  unplug(): void {
    if (!this.#open) return;
    this.#open = false;
    for (const listener of this.#faultListeners) listener(new Error('simulated unplug'));
  }
}
