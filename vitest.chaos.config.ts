// The chaos suites (`npm run test:chaos`): whole process trees SIGKILLed with parts in flight. Not
// part of `npm test`; run on demand. The include list is set after the merge: mergeConfig
// concatenates arrays, which would run every test file as well.
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

const config = mergeConfig(base, defineConfig({ test: { testTimeout: 600_000 } }));
config.test!.include = ['test/chaos/**/*.chaos.ts'];
export default config;
