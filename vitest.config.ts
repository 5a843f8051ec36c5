import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // TensorFlow.js suites build real models; give them room on 2-core machines.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Both cores: vitest's default on 2 cores is one worker (11.1 min); two take 8.2 min, all passing.
    maxWorkers: 2,
  },
});
