import { describe, expect, it } from 'vitest';
import { FailureThrottle } from '../../daemon/uplink/failure-throttle.js';

describe('FailureThrottle', () => {
  it('warns on the first failure, then only on a new cause or after the reminder interval', () => {
    const throttle = new FailureThrottle(60_000);
    const levels: string[] = [];
    for (let t = 0; t < 50_000; t += 2_000) levels.push(throttle.failure('ECONNREFUSED', t).level);
    expect(levels[0]).toBe('warn');
    expect(levels.slice(1).every((l) => l === 'debug')).toBe(true);

    expect(throttle.failure('Connection refused: Not authorized', 52_000).level).toBe('warn');
    expect(throttle.failure('Connection refused: Not authorized', 54_000).level).toBe('debug');
    const reminder = throttle.failure('Connection refused: Not authorized', 112_000);
    expect(reminder).toMatchObject({ level: 'warn', attempts: 28, suppressed: 1, failingSinceMs: 0 });
  });

  it('reports the outage on success and starts a fresh run afterwards', () => {
    const throttle = new FailureThrottle(60_000);
    throttle.failure('ECONNREFUSED', 1_000);
    throttle.failure('ECONNREFUSED', 3_000);
    expect(throttle.success()).toEqual({ attempts: 2, failingSinceMs: 1_000 });
    expect(throttle.success()).toEqual({ attempts: 0, failingSinceMs: null });
    expect(throttle.failure('ECONNREFUSED', 9_000)).toMatchObject({ level: 'warn', attempts: 1, failingSinceMs: 9_000 });
  });
});
