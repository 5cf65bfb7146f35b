import { describe, expect, it } from 'vitest';
import { PresenceTracker, type PresenceChange } from '../../daemon/ble/presence-tracker.js';
import { sequence } from '../support/ble-sequences.js';

const rules = { enterRssi: -75, exitRssi: -85, smoothing: 0.3, absentAfterMs: 30_000 };

function play(tracker: PresenceTracker, samples: [number, number][], offset = 0): PresenceChange[] {
  const changes: PresenceChange[] = [];
  for (const [t, rssi] of samples) {
    changes.push(...tracker.tick(offset + t));
    const c = tracker.observe('b', rssi, offset + t);
    if (c !== null) changes.push(c);
  }
  return changes;
}

describe('PresenceTracker on recorded sequences', () => {
  it('arrive: arrives once the smoothed RSSI reaches the enter threshold, not on the first strong packet', () => {
    const t = new PresenceTracker(rules);
    expect(play(t, sequence('arrive'))).toEqual([{ type: 'arrived', beaconId: 'b', at: 5000, rssi: -72 }]);
  });

  it('linger: twelve minutes of noisy RSSI stay one presence', () => {
    const t = new PresenceTracker(rules);
    const changes = play(t, sequence('linger'));
    expect(changes.map((c) => c.type)).toEqual(['arrived']);
    expect(t.isPresent('b')).toBe(true);
  });

  it('leave: leaves when the smoothed RSSI drops below the exit threshold', () => {
    const t = new PresenceTracker(rules);
    play(t, [[-1000, -60]]);
    // The average lags the raw drop (-86 at 3 s) by design: one weak packet is not a departure.
    expect(play(t, sequence('leave')).map((c) => [c.type, c.at])).toEqual([['left', 6000]]);
  });

  it('leave by silence: absent after absentAfterMs without a packet', () => {
    const t = new PresenceTracker(rules);
    play(t, [[0, -60]]);
    expect(t.tick(29_999)).toEqual([]);
    expect(t.tick(30_000)).toEqual([{ type: 'left', beaconId: 'b', at: 30_000, rssi: -60 }]);
    expect(t.isPresent('b')).toBe(false);
  });

  it('flapping between the thresholds: one arrival, no departure; without hysteresis it would flap', () => {
    expect(play(new PresenceTracker(rules), sequence('flapping')).map((c) => c.type)).toEqual(['arrived']);
    const noHysteresis = new PresenceTracker({ ...rules, exitRssi: -75.5 });
    expect(play(noHysteresis, sequence('flapping')).map((c) => c.type)).toEqual(['arrived', 'left']);
  });

  it('refuses rules without hysteresis', () => {
    expect(() => new PresenceTracker({ ...rules, exitRssi: -75 })).toThrow(/below enterRssi/);
  });
});
