import { describe, expect, it } from 'vitest';
import { FloodGuard, rejectionUnits } from '../../drivers/serial/flood-guard.js';
import { capturingLogger } from './support/capture.js';

function guard(options: { burst?: number; perSecond?: number; logIntervalMs?: number } = {}) {
  let now = 1_000;
  const lines: string[] = [];
  const flood = new FloodGuard({ deviceId: 'r1', logger: capturingLogger(lines), clock: { now: () => now }, ...options });
  return {
    flood,
    lines,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('FloodGuard', () => {
  it('tolerates a burst and a steady trickle of rejections', () => {
    const { flood, advance } = guard({ burst: 5, perSecond: 2 });
    for (let i = 0; i < 5; i += 1) flood.reject();
    expect(flood.flooding).toBe(false);
    for (let i = 0; i < 20; i += 1) {
      advance(500);
      flood.reject();
      expect(flood.admit(10)).toBe(true);
    }
    expect(flood.counters()).toEqual({ floodActive: 0, floodEpisodes: 0, floodShedBytes: 0 });
  });

  it('sheds input once the budget is spent, reports it, and recovers when the budget refills', () => {
    const { flood, lines, advance } = guard({ burst: 5, perSecond: 2 });
    flood.reject(6);
    expect(flood.flooding).toBe(true);
    expect(flood.admit(100)).toBe(false);
    expect(flood.admit(28)).toBe(false);
    expect(flood.counters()).toEqual({ floodActive: 1, floodEpisodes: 1, floodShedBytes: 128 });
    advance(2_000);
    expect(flood.admit(1)).toBe(false); // 4 of 5 tokens back
    advance(600);
    expect(flood.admit(1)).toBe(true);
    expect(flood.counters().floodActive).toBe(0);
    expect(lines.filter((line) => line.includes('flooding'))).toHaveLength(1);
  });

  it('logs at most once per interval however often the device floods', () => {
    const { flood, lines, advance } = guard({ burst: 2, perSecond: 10, logIntervalMs: 60_000 });
    for (let episode = 0; episode < 50; episode += 1) {
      flood.reject(100);
      advance(1_000);
      flood.admit(1);
    }
    expect(flood.counters().floodEpisodes).toBe(50);
    expect(lines).toHaveLength(1);
    advance(60_000);
    flood.reject(100);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('"newEpisodes":50');
  });

  it('ignores zero and negative charges', () => {
    const { flood } = guard({ burst: 1 });
    flood.reject(0);
    flood.reject(-5);
    expect(flood.flooding).toBe(false);
  });

  it('charges skipped bytes in units', () => {
    expect(rejectionUnits(2, 47)).toBe(4);
  });
});
