/**
 * Token buckets by key (client address, kiosk id): `perMinute` requests,
 * refilled continuously, so a burst up to the limit passes and a steady
 * stream above it is refused with the time until the next token.
 */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterS: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept at most; full ones are dropped first (they carry no state worth keeping). */
const MAX_KEYS = 10_000;

export class RateLimiter {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(perMinute: number) {
    this.#capacity = perMinute;
    this.#perMs = perMinute / 60_000;
  }

  take(key: string, at: number): RateDecision {
    const bucket = this.#buckets.get(key) ?? { tokens: this.#capacity, at };
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + Math.max(0, at - bucket.at) * this.#perMs);
    bucket.at = at;
    if (!this.#buckets.has(key)) this.#remember(key, bucket, at);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs / 1000)) };
  }

  #remember(key: string, bucket: Bucket, at: number): void {
    if (this.#buckets.size >= MAX_KEYS) {
      for (const [k, b] of this.#buckets) {
        if (b.tokens + (at - b.at) * this.#perMs >= this.#capacity) this.#buckets.delete(k);
      }
      // Still full of active clients: forget the oldest rather than grow without bound.
      if (this.#buckets.size >= MAX_KEYS) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    this.#buckets.set(key, bucket);
  }
}
