/**
 * Lets the first sighting of a tag through and swallows the repeats that
 * follow while the card stays in the field (the RDM6300 resends its frame
 * about every 50 ms and never reports removal).
 *
 * A tag counts as removed after `removalMs` without a sighting; each repeat
 * extends that window, so a card held still is read once however long it is
 * held. Tags are tracked separately, so a second card is read at once and two
 * cards fighting over the field do not flood reads.
 */
export class RepeatFilter<K = number> {
  readonly #removalMs: number;
  /** Tag key → time it was last seen. Only tags seen within removalMs are kept. */
  readonly #lastSeen = new Map<K, number>();

  constructor(removalMs: number) {
    if (!Number.isFinite(removalMs) || removalMs < 0) throw new RangeError(`removalMs must be >= 0, got ${removalMs}`);
    this.#removalMs = removalMs;
  }

  /** Records a sighting at `now` (ms, monotonic) and says whether it is a new presentation. */
  accept(key: K, now: number): boolean {
    this.#forgetRemoved(now);
    const isNew = !this.#lastSeen.has(key);
    this.#lastSeen.set(key, now);
    return isNew;
  }

  #forgetRemoved(now: number): void {
    for (const [key, seenAt] of this.#lastSeen) {
      if (now - seenAt >= this.#removalMs) this.#lastSeen.delete(key);
    }
  }
}
