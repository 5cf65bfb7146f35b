/**
 * Whether the cache is stale: pure, with the clock passed in, so the
 * boundary is a table-driven test. A cache that was never synced is stale as
 * soon as a staleness limit applies; without one (no cloud configured) data
 * never goes stale, because nothing could refresh it.
 */

export interface Freshness {
  readonly stale: boolean;
  /** Milliseconds since the last successful sync; null when there was none. */
  readonly ageMs: number | null;
}

export function freshness(syncedAt: number | null, at: number, staleAfterMs: number | null): Freshness {
  const ageMs = syncedAt === null ? null : Math.max(0, at - syncedAt);
  if (staleAfterMs === null) return { stale: false, ageMs };
  return { stale: ageMs === null || ageMs > staleAfterMs, ageMs };
}
