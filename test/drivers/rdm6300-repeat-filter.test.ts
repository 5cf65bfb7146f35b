import { describe, expect, it } from 'vitest';
import { RepeatFilter } from '../../drivers/rdm6300/repeat-filter.js';

const CARD_A = 1;
const CARD_B = 2;

describe('RepeatFilter', () => {
  it('lets the first sighting through and swallows repeats every 50 ms', () => {
    const filter = new RepeatFilter(500);
    const accepted = [0, 50, 100, 150, 200, 250, 300, 350, 400].map((t) => filter.accept(CARD_A, t));
    expect(accepted).toEqual([true, false, false, false, false, false, false, false, false]);
  });

  it('reads a card held for much longer than removalMs only once (each repeat extends the window)', () => {
    const filter = new RepeatFilter(300);
    const accepted = Array.from({ length: 100 }, (_, i) => filter.accept(CARD_A, i * 100));
    expect(accepted.filter(Boolean)).toHaveLength(1);
  });

  it('reads the same card again after removalMs of silence', () => {
    const filter = new RepeatFilter(500);
    expect(filter.accept(CARD_A, 1000)).toBe(true);
    expect(filter.accept(CARD_A, 1499)).toBe(false);
    expect(filter.accept(CARD_A, 1999)).toBe(true);
  });

  it('reads a different card at once', () => {
    const filter = new RepeatFilter(500);
    expect(filter.accept(CARD_A, 0)).toBe(true);
    expect(filter.accept(CARD_B, 10)).toBe(true);
  });

  it('does not flood when two cards alternate in the field', () => {
    const filter = new RepeatFilter(500);
    const accepted = Array.from({ length: 20 }, (_, i) => filter.accept(i % 2 === 0 ? CARD_A : CARD_B, i * 50));
    expect(accepted.filter(Boolean)).toHaveLength(2);
  });

  it('rejects a negative window', () => {
    expect(() => new RepeatFilter(-1)).toThrow(RangeError);
  });
});
