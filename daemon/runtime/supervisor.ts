/**
 * Keeps one device driver open. A device that is missing at start or lost
 * later is retried with capped exponential backoff, on its own: the other
 * doors keep working and the process never exits because of hardware.
 */
import type { DeviceDriver } from '../../drivers/types.js';
import type { Logger } from './logger.js';

export type DeviceState = 'starting' | 'online' | 'offline' | 'stopped';

export interface DeviceStatus {
  readonly deviceId: string;
  readonly state: DeviceState;
  readonly since: number;
  readonly lastError: string | null;
  /** Times the device went from online to offline. */
  readonly faults: number;
  readonly nextRetryAt: number | null;
}

export interface SupervisorOptions {
  readonly logger: Logger;
  readonly minBackoffMs?: number;
  /** Kept short so a replugged device is back within about two seconds. */
  readonly maxBackoffMs?: number;
  readonly now?: () => number;
}

export class Supervisor<D extends DeviceDriver> {
  readonly driver: D;
  readonly #log: Logger;
  readonly #min: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #onlineListeners = new Set<() => void>();
  readonly #changeListeners = new Set<(status: DeviceStatus) => void>();
  #state: DeviceState = 'stopped';
  #since: number;
  #lastError: string | null = null;
  #faults = 0;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #nextRetryAt: number | null = null;
  #generation = 0;

  constructor(driver: D, options: SupervisorOptions) {
    this.driver = driver;
    this.#log = options.logger.child({ device: driver.deviceId });
    this.#min = options.minBackoffMs ?? 250;
    this.#max = options.maxBackoffMs ?? 2000;
    this.#now = options.now ?? Date.now;
    this.#since = this.#now();
    driver.onFault((error) => this.#fault(error));
  }

  get state(): DeviceState {
    return this.#state;
  }

  status(): DeviceStatus {
    return {
      deviceId: this.driver.deviceId,
      state: this.#state,
      since: this.#since,
      lastError: this.#lastError,
      faults: this.#faults,
      nextRetryAt: this.#nextRetryAt,
    };
  }

  /** Runs each time the device (re)opens, e.g. to put a relay back into its intended state. */
  onOnline(listener: () => void): void {
    this.#onlineListeners.add(listener);
  }

  /** Returns a function that removes the listener. */
  onChange(listener: (status: DeviceStatus) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  start(): void {
    if (this.#state !== 'stopped') return;
    this.#attempt = 0;
    this.#tryOpen();
  }

  async stop(): Promise<void> {
    this.#generation++;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#nextRetryAt = null;
    const wasOpen = this.#state === 'online' || this.#state === 'starting';
    this.#setState('stopped');
    if (wasOpen) await this.driver.close();
  }

  #setState(state: DeviceState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#since = this.#now();
    const status = this.status();
    for (const listener of this.#changeListeners) listener(status);
  }

  #tryOpen(): void {
    const generation = ++this.#generation;
    this.#nextRetryAt = null;
    this.#setState('starting');
    this.driver.open().then(
      () => {
        if (generation !== this.#generation) return; // stopped meanwhile
        this.#attempt = 0;
        this.#lastError = null;
        this.#setState('online');
        this.#log.info('device online');
        for (const listener of this.#onlineListeners) {
          try {
            listener();
          } catch (error) {
            this.#log.error({ err: error }, 'online handler failed');
          }
        }
      },
      (error: unknown) => {
        if (generation !== this.#generation) return;
        this.#retryLater(error);
      },
    );
  }

  #fault(error: Error): void {
    if (this.#state !== 'online') return;
    this.#faults++;
    this.#log.warn({ err: error.message }, 'device lost');
    // Offline at once: status must not show a lost device as online while it closes.
    this.#lastError = error.message;
    this.#setState('offline');
    const generation = ++this.#generation;
    this.driver.close().then(
      () => {
        if (generation === this.#generation) this.#retryLater(error);
      },
      () => {
        if (generation === this.#generation) this.#retryLater(error);
      },
    );
  }

  #retryLater(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    // Log a new kind of failure loudly, repeats quietly: an unplugged reader
    // must not flood the journal with one line per retry.
    if (message !== this.#lastError) this.#log.warn({ err: message }, 'device unavailable, retrying');
    else this.#log.debug({ err: message, attempt: this.#attempt }, 'device still unavailable');
    this.#lastError = message;
    this.#setState('offline');
    const delay = Math.min(this.#max, this.#min * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 16);
    this.#nextRetryAt = this.#now() + delay;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#tryOpen();
    }, delay);
  }
}
