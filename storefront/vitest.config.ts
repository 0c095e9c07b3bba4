import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // The end-to-end test runs `next build` and starts a browser in beforeAll.
    hookTimeout: 240_000,
    testTimeout: 30_000,
  },
});
