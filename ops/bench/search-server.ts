// The process under test for ops/bench/search.ts: the real API process (startApi, production
// settings: no response validation, warn-level logs) on a database it migrates and fills with the
// demo data, plus one extra route, GET /api/v1/bench/hello (public, through the same middleware
// as search), and a bare Express hello on a second port. Prints one JSON line with its URLs when
// ready; stops on SIGTERM.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { z } from 'zod';
import { loadConfig } from '../../core/src/config.ts';
import { startApi } from '../../core/src/server.ts';
import { createLogger } from '../../core/src/shared/logger.ts';

const Hello = z.object({ hello: z.literal('world') });

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig({
    ...env,
    NODE_ENV: 'production',
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'warn',
    SEED_DEMO_DATA: 'auto',
    PGLITE_DATA_DIR: env.DATABASE_URL ? env.PGLITE_DATA_DIR : 'memory://',
    // a key space of its own: a cache left by an earlier run must not make "cold" warm
    REDIS_KEY_PREFIX: `bench-search:${randomBytes(4).toString('hex')}:`,
    // the regex path: no LLM fallback, no embeddings
    OPENAI_API_KEY: '',
    // every request is still checked against a policy; none is refused
    RATE_LIMIT_POLICIES: JSON.stringify({ default: { limit: 1_000_000, periodSeconds: 60 } }),
  });
  const logger = createLogger({ level: config.logLevel, name: 'bench-search-api' });
  const api = await startApi(config, logger, {
    extraRoutes: (router) => {
      router.add(
        {
          method: 'get',
          path: '/bench/hello',
          operationId: 'benchSearchHello',
          summary: 'Benchmark: hello through the whole stack, anonymous (the search baseline)',
          tags: ['bench'],
          auth: 'public',
          responses: { 200: { description: 'Hello', schema: Hello } },
        },
        (_req, res) => {
          res.json({ hello: 'world' });
        },
      );
    },
  });

  const bare = express();
  bare.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  const bareServer = await new Promise<Server>((resolve) => {
    const listening = bare.listen(0, '127.0.0.1', () => resolve(listening));
  });
  bareServer.keepAliveTimeout = 65_000;
  const address = bareServer.address();
  const barePort = typeof address === 'object' && address ? address.port : 0;

  process.stdout.write(`${JSON.stringify({ ready: true, apiUrl: api.url, bareUrl: `http://127.0.0.1:${barePort}`, pid: process.pid })}\n`);
  process.once('SIGTERM', () => {
    bareServer.closeAllConnections();
    bareServer.close();
    api.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
