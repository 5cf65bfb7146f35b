import { describe, expect, it } from 'vitest';
import { ClockWatch, EARLIEST_PLAUSIBLE } from '../../daemon/runtime/clock-watch.js';

/** Two hand-driven clocks: the wall clock can be stepped, the monotonic one only advances. */
function clocks(wall = Date.parse('2026-11-23T10:00:00Z')) {
  const c = { wall, mono: 1_000 };
  return {
    c,
    advance(ms: number) {
      c.wall += ms;
      c.mono += ms;
    },
    options: { wallNow: () => c.wall, monoNow: () => c.mono, probe: null, toleranceMs: 2_000, probeEveryMs: 60_000 },
  };
}

describe('ClockWatch', () => {
  it('reports a step of the wall clock once, with its size, and not the normal passing of time', () => {
    const t = clocks();
    const watch = new ClockWatch(t.options);
    const jumps: number[] = [];
    watch.onJump((delta) => jumps.push(delta));
    for (let i = 0; i < 5; i++) {
      t.advance(1_000);
      watch.tick();
    }
    expect(jumps).toEqual([]);
    t.advance(1_000);
    t.c.wall += 3_600_000; // NTP steps forward an hour
    watch.tick();
    t.advance(1_000);
    t.c.wall -= 30_000; // and back 30 s
    watch.tick();
    expect(jumps).toEqual([3_600_000, -30_000]);
    expect(watch.status().jumps).toBe(2);
  });

  it('drift within the tolerance is not a jump', () => {
    const t = clocks();
    const watch = new ClockWatch(t.options);
    const jumps: number[] = [];
    watch.onJump((delta) => jumps.push(delta));
    t.advance(1_000);
    t.c.wall += 1_500;
    watch.tick();
    expect(jumps).toEqual([]);
  });

  it('a clock before the release date is never trusted; the probe decides otherwise', async () => {
    expect(new ClockWatch(clocks(EARLIEST_PLAUSIBLE - 1).options).trusted()).toBe(false);
    expect(new ClockWatch(clocks().options).trusted()).toBe(true);
    let answer: boolean | null = false;
    const t = clocks();
    const watch = new ClockWatch({ ...t.options, probe: () => Promise.resolve(answer) });
    await watch.start();
    expect(watch.trusted()).toBe(false);
    answer = true;
    t.advance(60_000);
    watch.tick();
    await new Promise((r) => setImmediate(r));
    expect(watch.trusted()).toBe(true);
    // A probe that cannot tell keeps the last answer.
    answer = null;
    t.advance(60_000);
    watch.tick();
    await new Promise((r) => setImmediate(r));
    expect(watch.trusted()).toBe(true);
    watch.stop();
  });
});
