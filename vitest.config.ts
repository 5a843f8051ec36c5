import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // TensorFlow.js suites build real models. Sized for a busy 2-core machine: the slowest test
    // ("learns: at least 90%", about 30 s idle) missed a 120 s timeout at load 11.
    testTimeout: 360_000,
    hookTimeout: 360_000,
    pool: 'forks',
    // Both cores: vitest's default on 2 cores is one worker (11.1 min); two take 8.2 min, all passing.
    maxWorkers: 2,
  },
});
