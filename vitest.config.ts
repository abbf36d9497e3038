// Test runner configuration: every suite under tests/, run in forked processes because
// several suites load the native addon and own real threads, fds and sockets.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
