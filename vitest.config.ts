import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    globalSetup: ['test/setup/global.ts'],
    setupFiles: ['test/setup/quiet-runtime.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Files share one chain and its signing keys: run them one at a time so their nonces never race.
    fileParallelism: false,
    pool: 'forks',
  },
});
