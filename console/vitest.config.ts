import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // The end-to-end test builds the console and starts a browser in beforeAll.
    hookTimeout: 180_000,
    testTimeout: 30_000,
  },
});
