/**
 * gatehouse doctor's free-space rule: a margin for the journal, and room for
 * the next snapshot, which is built beside the cache in force before the
 * old file is deleted.
 */
import { describe, expect, it } from 'vitest';
import { diskLevel } from '../../daemon/cli/doctor.js';

const MB = 1024 * 1024;

describe('doctor: free disk for the store', () => {
  it.each([
    { free: 40, cache: 0, level: 'fail' },
    { free: 100, cache: 0, level: 'warn' },
    { free: 600, cache: 0, level: 'ok' },
    // A 60 MB cache (100k people): the next snapshot needs another 60 MB while it is built.
    { free: 100, cache: 60, level: 'fail' },
    { free: 200, cache: 60, level: 'warn' },
    { free: 600, cache: 60, level: 'warn' },
    { free: 700, cache: 60, level: 'ok' },
  ])('$free MB free with a $cache MB cache: $level', ({ free, cache, level }) => {
    expect(diskLevel(free * MB, cache * MB)).toBe(level);
  });
});
