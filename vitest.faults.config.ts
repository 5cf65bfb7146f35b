import { defineConfig } from 'vitest/config';

/**
 * The fault suite (npm run test:faults): real brokers stopped, daemons
 * SIGKILLed, devices unplugged, a full disk, a corrupt file, clock jumps.
 * FAULTS_PROFILE=short (default, in CI) or full (longer outages, more kills).
 * The reader unplug/replug test of the main suite is part of it: reused, not copied.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts', 'test/daemon/device-faults.test.ts'],
    testTimeout: process.env.FAULTS_PROFILE === 'full' ? 600_000 : 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One fault at a time: they share a 2-core machine and each starts daemons and brokers.
    fileParallelism: false,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
