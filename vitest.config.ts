import { configDefaults, defineConfig } from 'vitest/config';

// npm run fuzz multiplies every property's runs (test/support/fast-check.ts); the time they may take grows with them.
const fuzzScale = Math.max(1, Number(process.env.FC_RUNS_SCALE ?? 1));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite has its own config and command (npm run test:faults).
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    // Hardware-facing tests start socat and Mosquitto; give them room on a loaded 2-core box.
    testTimeout: 30_000 * fuzzScale,
    hookTimeout: 30_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
  },
});
