/**
 * Token buckets keyed by a string (a RADIUS client, an email's fingerprint),
 * on a monotonic clock so a wall-clock jump neither refills nor drains them.
 * Full buckets are forgotten: memory grows with the keys that are busy now,
 * not with every key ever seen.
 */
export interface BucketRate {
  /** Tokens added per second. */
  readonly ratePerS: number;
  /** Bucket size: requests allowed at once. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Above this many buckets, full ones are swept on the next take(). */
const SWEEP_ABOVE = 1_024;

export class TokenBuckets {
  readonly #rate: BucketRate;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(rate: BucketRate, now: () => number = () => performance.now()) {
    this.#rate = rate;
    this.#now = now;
  }

  /** Take one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.#now();
    if (this.#buckets.size > SWEEP_ABOVE) this.#sweep(now);
    const bucket = this.#buckets.get(key) ?? { tokens: this.#rate.burst, at: now };
    bucket.tokens = this.#refilled(bucket, now);
    bucket.at = now;
    const ok = bucket.tokens >= 1;
    if (ok) bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    return ok;
  }

  get size(): number {
    return this.#buckets.size;
  }

  #refilled(bucket: Bucket, now: number): number {
    return Math.min(this.#rate.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.#rate.ratePerS);
  }

  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) if (this.#refilled(bucket, now) >= this.#rate.burst) this.#buckets.delete(key);
  }
}
