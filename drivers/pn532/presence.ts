/** What one poll changed: a card that arrived, one that left, or both when cards were swapped. */
export interface PresenceChange<K> {
  readonly presented?: K;
  readonly removed?: K;
}

/**
 * Tracks the card in a polled field. A card is presented on the first poll
 * that sees it and removed only after `removalPolls` polls in a row without
 * it: a resting card sometimes misses one poll, and reading it again would
 * count a second check-in.
 */
export class PresenceTracker<K> {
  readonly #removalPolls: number;
  #current: K | undefined;
  #misses = 0;

  constructor(removalPolls: number) {
    if (!Number.isInteger(removalPolls) || removalPolls < 1) throw new RangeError(`removalPolls must be >= 1, got ${removalPolls}`);
    this.#removalPolls = removalPolls;
  }

  get current(): K | undefined {
    return this.#current;
  }

  /** Records one completed poll: the card seen, or undefined for an empty field. */
  observe(seen: K | undefined): PresenceChange<K> {
    const previous = this.#current;
    if (seen === undefined) {
      if (previous === undefined) return {};
      this.#misses += 1;
      if (this.#misses < this.#removalPolls) return {};
      this.#current = undefined;
      this.#misses = 0;
      return { removed: previous };
    }
    this.#misses = 0;
    if (previous === seen) return {};
    this.#current = seen;
    return previous === undefined ? { presented: seen } : { presented: seen, removed: previous };
  }

  /** Forgets the card, e.g. after the reader was reopened and nothing is known about its field. */
  reset(): void {
    this.#current = undefined;
    this.#misses = 0;
  }
}
