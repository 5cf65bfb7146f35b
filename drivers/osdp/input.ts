/** One PD input (door contact, request-to-exit) as an InputDriver, from ISTATR reports. */
import { Listeners } from '../serial/listeners.js';
import type { InputDriver } from '../types.js';
import type { PdHub } from './bus.js';
import { OsdpPdDriver, type OsdpPdDriverOptions } from './pd-driver.js';

export interface OsdpInputOptions extends OsdpPdDriverOptions {
  /** Input number on the PD, 0-based. */
  readonly input: number;
  /** Report the opposite of the PD's level (normally-closed contacts wired as "active = closed"). */
  readonly inverted?: boolean;
}

export class OsdpInput extends OsdpPdDriver implements InputDriver {
  readonly #input: number;
  readonly #inverted: boolean;
  readonly #changes: Listeners<boolean>;
  readonly #c = { inputChanges: 0 };
  #level: boolean | null = null;

  constructor(options: OsdpInputOptions) {
    super(options);
    this.#input = options.input;
    this.#inverted = options.inverted ?? false;
    this.#changes = new Listeners(options.deviceId, options.logger, 'input');
  }

  get level(): boolean | null {
    return this.#level;
  }

  onChange(listener: (active: boolean) => void): void {
    this.#changes.add(listener);
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.linkCounters(), ...this.#c, level: this.#level === null ? -1 : this.#level ? 1 : 0 };
  }

  protected subscribe(hub: PdHub): void {
    hub.inputs.add((levels) => this.#report(levels));
    // Another driver on this PD may have brought it online already: start from what it last said.
    if (hub.lastInputs !== null) this.#report(hub.lastInputs);
  }

  #report(levels: readonly boolean[]): void {
    const raw = levels[this.#input];
    if (raw === undefined) return;
    const active = raw !== this.#inverted;
    if (active === this.#level) return;
    this.#level = active;
    this.#c.inputChanges += 1;
    this.#changes.emit(active);
  }
}
