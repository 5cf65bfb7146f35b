/**
 * Which beacons are here, from a stream of RSSI samples. Pure: the caller
 * passes a monotonic time with each call.
 *
 * RSSI jumps by 10 dB between packets, so each beacon's samples are smoothed
 * with an exponential moving average. A beacon arrives when the average
 * reaches `enterRssi` and leaves when it falls below the lower `exitRssi`,
 * or when nothing was heard from it for `absentAfterMs`: between the two
 * thresholds nothing changes, so a phone at the edge does not flap.
 */
export interface PresenceRules {
  /** Smoothed RSSI (dBm) at which a beacon counts as arrived. */
  readonly enterRssi: number;
  /** Smoothed RSSI below which it counts as gone; below enterRssi (hysteresis). */
  readonly exitRssi: number;
  /** EMA weight of a new sample, 0 < smoothing <= 1. */
  readonly smoothing: number;
  /** Silence after which a present beacon counts as gone. */
  readonly absentAfterMs: number;
}

export type PresenceChange = { readonly type: 'arrived' | 'left'; readonly beaconId: string; readonly at: number; readonly rssi: number };

interface BeaconState {
  smoothed: number;
  present: boolean;
  lastHeardAt: number;
  /** Last instant it was heard while present: what inactivity is measured from. */
  lastHereAt: number | null;
}

export class PresenceTracker {
  readonly #rules: PresenceRules;
  readonly #beacons = new Map<string, BeaconState>();

  constructor(rules: PresenceRules) {
    if (!(rules.exitRssi < rules.enterRssi)) throw new RangeError('exitRssi must be below enterRssi');
    if (!(rules.smoothing > 0 && rules.smoothing <= 1)) throw new RangeError('smoothing is in (0, 1]');
    this.#rules = rules;
  }

  observe(beaconId: string, rssi: number, now: number): PresenceChange | null {
    const r = this.#rules;
    let b = this.#beacons.get(beaconId);
    if (b === undefined) {
      b = { smoothed: rssi, present: false, lastHeardAt: now, lastHereAt: null };
      this.#beacons.set(beaconId, b);
    } else {
      b.smoothed += r.smoothing * (rssi - b.smoothed);
      b.lastHeardAt = now;
    }
    if (!b.present && b.smoothed >= r.enterRssi) {
      b.present = true;
      b.lastHereAt = now;
      return { type: 'arrived', beaconId, at: now, rssi: Math.round(b.smoothed) };
    }
    if (b.present && b.smoothed < r.exitRssi) {
      b.present = false;
      return { type: 'left', beaconId, at: now, rssi: Math.round(b.smoothed) };
    }
    if (b.present) b.lastHereAt = now;
    return null;
  }

  /** Beacons gone silent; forgets beacons that are neither here nor heard lately. */
  tick(now: number): PresenceChange[] {
    const changes: PresenceChange[] = [];
    for (const [beaconId, b] of this.#beacons) {
      if (now - b.lastHeardAt < this.#rules.absentAfterMs) continue;
      if (b.present) changes.push({ type: 'left', beaconId, at: now, rssi: Math.round(b.smoothed) });
      // A beacon heard again later starts a fresh average.
      this.#beacons.delete(beaconId);
    }
    return changes;
  }

  isPresent(beaconId: string): boolean {
    return this.#beacons.get(beaconId)?.present ?? false;
  }

  /** Smoothed RSSI, for status and tests. */
  smoothed(beaconId: string): number | null {
    return this.#beacons.get(beaconId)?.smoothed ?? null;
  }
}
