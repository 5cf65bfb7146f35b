import { describe, expect, it } from 'vitest';
import { PresenceTracker } from '../../drivers/pn532/presence.js';

describe('PresenceTracker', () => {
  it('presents a card on the first poll that sees it, once, however long it rests', () => {
    const tracker = new PresenceTracker<string>(3);
    expect(tracker.observe('A')).toEqual({ presented: 'A' });
    for (let poll = 0; poll < 50; poll += 1) expect(tracker.observe('A')).toEqual({});
  });

  it('removes a card only after removalPolls empty polls in a row', () => {
    const tracker = new PresenceTracker<string>(3);
    tracker.observe('A');
    expect(tracker.observe(undefined)).toEqual({});
    expect(tracker.observe(undefined)).toEqual({});
    expect(tracker.observe(undefined)).toEqual({ removed: 'A' });
    expect(tracker.observe('A')).toEqual({ presented: 'A' });
  });

  it('does not re-read a resting card that misses a poll now and then (debounce)', () => {
    const tracker = new PresenceTracker<string>(3);
    const seen = ['A', undefined, 'A', undefined, undefined, 'A', 'A', undefined, 'A'];
    const presented = seen.map((key) => tracker.observe(key).presented).filter((key) => key !== undefined);
    expect(presented).toEqual(['A']);
  });

  it('swaps cards at once', () => {
    const tracker = new PresenceTracker<string>(3);
    tracker.observe('A');
    expect(tracker.observe('B')).toEqual({ presented: 'B', removed: 'A' });
  });

  it('forgets the card on reset()', () => {
    const tracker = new PresenceTracker<string>(2);
    tracker.observe('A');
    tracker.reset();
    expect(tracker.current).toBeUndefined();
    expect(tracker.observe('A')).toEqual({ presented: 'A' });
  });

  it('refuses a window under one poll', () => {
    expect(() => new PresenceTracker(0)).toThrow(RangeError);
  });
});
