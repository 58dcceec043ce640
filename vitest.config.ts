import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The packaged executables have their own run (npm run test:package, after npm run package).
    exclude: ['test/package/**', '**/node_modules/**'],
    reporters: ['default', './test/summary-reporter.ts'],
    // Integration tests start real processes and sockets; 2 cores, so keep the pool small.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
