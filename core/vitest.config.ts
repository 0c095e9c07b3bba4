import { defineConfig } from 'vitest/config';

// Suites that need a database several processes share (*.postgres.test.ts) only make sense on a
// PostgreSQL server; the embedded PGlite lives inside one process.
const postgresOnly = process.env.DATABASE_URL ? [] : ['test/**/*.postgres.test.ts'];

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...postgresOnly],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
