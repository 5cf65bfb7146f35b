/**
 * Publishes the retained `state` topic (gatehouse.state/1): doors and
 * occupancy as they are now. Published on every connect and, debounced, after
 * every change, so a door pulse gives two messages (unlocked, locked) rather
 * than one per internal step. Best effort: a publish that fails is simply
 * replaced by the next connect's; nothing here is journaled (the events are).
 */
import type { Logger } from '../runtime/logger.js';
import type { MqttLink } from './mqtt-link.js';
import type { SiteState } from './payloads.js';

const DEBOUNCE_MS = 250;

export class SiteStatePublisher {
  readonly #link: MqttLink;
  readonly #topic: string;
  readonly #build: () => SiteState;
  readonly #log: Logger;
  readonly #onConnect: Array<() => void> = [];
  #timer: NodeJS.Timeout | null = null;
  #off: (() => void) | null = null;

  constructor(options: { link: MqttLink; topic: string; build: () => SiteState; logger: Logger }) {
    this.#link = options.link;
    this.#topic = options.topic;
    this.#build = options.build;
    this.#log = options.logger;
  }

  /** Also run `publish` on every connect (Home Assistant discovery configs). */
  alsoOnConnect(publish: () => void): void {
    this.#onConnect.push(publish);
  }

  start(): void {
    this.#off = this.#link.onStateChange((state) => {
      if (state !== 'connected') return;
      for (const publish of this.#onConnect) publish();
      this.#publish();
    });
  }

  stop(): void {
    this.#off?.();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Something in the state changed: publish soon. */
  changed(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#publish();
    }, DEBOUNCE_MS);
    this.#timer.unref();
  }

  #publish(): void {
    if (this.#link.state !== 'connected') return;
    let payload: string;
    try {
      payload = JSON.stringify(this.#build());
    } catch (error) {
      this.#log.error({ err: error }, 'could not build the site state');
      return;
    }
    this.#link.publish(this.#topic, payload, { retain: true }).catch((error: unknown) => {
      this.#log.debug({ err: error }, 'site state not published; sent again on the next change or connect');
    });
  }
}
