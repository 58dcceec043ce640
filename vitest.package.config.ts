import { defineConfig } from 'vitest/config';

/** The packaged executables' smoke tests: `npm run package` first (see .ci/run). */
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
