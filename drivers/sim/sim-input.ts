/**
 * A digital input with no hardware (door contact, request-to-exit button):
 * levels are injected through the control socket
 * (`gatehouse sim input <door> contact|rex open|closed|press`). It reports
 * inactive (contact closed, button released) as soon as it opens, like an
 * input board's first poll.
 */
import type { InputDriver } from '../types.js';

export class SimInput implements InputDriver {
  readonly deviceId: string;
  readonly #changeListeners = new Set<(active: boolean) => void>();
  readonly #faultListeners = new Set<(error: Error) => void>();
  #open = false;
  /** The simulated hardware's level; it does not change while the daemon has the input closed. */
  #physical: boolean;
  #level: boolean | null = null;

  /** `initialActive`: the level the hardware has when first opened (a door standing open at boot). */
  constructor(deviceId: string, initialActive = false) {
    this.deviceId = deviceId;
    this.#physical = initialActive;
  }

  get level(): boolean | null {
    return this.#level;
  }

  async open(): Promise<void> {
    this.#open = true;
    this.#report(this.#physical, true);
  }

  async close(): Promise<void> {
    this.#open = false;
    this.#level = null;
  }

  onFault(listener: (error: Error) => void): void {
    this.#faultListeners.add(listener);
  }

  onChange(listener: (active: boolean) => void): void {
    this.#changeListeners.add(listener);
  }

  /** Set the level as if the hardware had changed. Returns false when the input is not open. */
  set(active: boolean): boolean {
    if (!this.#open) return false;
    this.#report(active, false);
    return true;
  }

  /** A momentary press: active, then inactive. */
  press(): boolean {
    return this.set(true) && this.set(false);
  }

  /** Simulate the device being unplugged. */
  unplug(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#level = null;
    for (const listener of this.#faultListeners) listener(new Error('simulated unplug'));
  }

  #report(active: boolean, first: boolean): void {
    this.#physical = active;
    if (!first && this.#level === active) return;
    this.#level = active;
    for (const listener of this.#changeListeners) listener(active);
  }
}
