import type { DriverLogger } from './logger.js';

/**
 * Listeners registered on a driver (reads, faults). A throwing listener is
 * logged and skipped: it must not break frame parsing, the device's poll loop
 * or the other listeners.
 */
export class Listeners<T> {
  readonly #listeners: ((value: T) => void)[] = [];

  constructor(
    private readonly deviceId: string,
    private readonly logger: DriverLogger,
    private readonly what: string,
  ) {}

  add(listener: (value: T) => void): void {
    this.#listeners.push(listener);
  }

  emit(value: T): void {
    for (const listener of this.#listeners) {
      try {
        listener(value);
      } catch (error) {
        this.logger.warn(
          { deviceId: this.deviceId, err: error instanceof Error ? error.message : String(error) },
          `${this.what} listener failed`,
        );
      }
    }
  }
}
