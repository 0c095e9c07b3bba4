// The process under test for ops/bench/platform.ts: the real API process (startApi: helmet,
// CORS, deadline, JSON body limit, authentication, rate limiting, RBAC, the one error handler)
// with one extra route, GET /api/v1/bench/hello, that requires a permission — plus, in the same
// process on a second port, a bare Express app serving GET /hello with nothing in front of it.
// It also measures raw Argon2id verification here, on the same libuv thread pool the login
// route uses. Prints one JSON line with its URLs when ready; stops on SIGTERM.
import type { Server } from 'node:http';
import { verify } from '@node-rs/argon2';
import express from 'express';
import { z } from 'zod';
import { hashPassword } from '../../core/src/auth/passwords.ts';
import { loadConfig } from '../../core/src/config.ts';
import { requirePermission } from '../../core/src/http/require-permission.ts';
import { startApi } from '../../core/src/server.ts';
import { createLogger } from '../../core/src/shared/logger.ts';

const BENCH_PERMISSION = 'profile:read:own';
const Hello = z.object({ hello: z.literal('world') });

async function measureArgon2(durationMs: number, concurrency: number): Promise<{ verifies: number; perSecond: number }> {
  const password = 'correct horse battery staple';
  // hashPassword is the login's own hashing, so the parameters (m=19456, t=2, p=1) are the same.
  const hash = await hashPassword(password);
  let verifies = 0;
  const started = performance.now();
  const endAt = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < endAt) {
        if (!(await verify(hash, password))) throw new Error('argon2 verify failed');
        if (performance.now() <= endAt) verifies += 1;
      }
    }),
  );
  return { verifies, perSecond: verifies / (durationMs / 1000) };
}

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig({
    ...env,
    NODE_ENV: 'production',
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'warn',
    SEED_DEMO_DATA: 'never',
    PGLITE_DATA_DIR: env.DATABASE_URL ? env.PGLITE_DATA_DIR : 'memory://',
    // Every request is still checked against a policy; none is refused.
    RATE_LIMIT_POLICIES: JSON.stringify({
      default: { limit: 1_000_000, periodSeconds: 60 },
      auth: { limit: 1_000_000, periodSeconds: 60 },
    }),
  });
  const logger = createLogger({ level: config.logLevel, name: 'bench-api' });
  const api = await startApi(config, logger, {
    extraRoutes: (router) => {
      // Diagnostic only (not part of P3): the same stack without a token, to show what JWT + RBAC cost.
      router.add(
        {
          method: 'get',
          path: '/bench/public-hello',
          operationId: 'benchPublicHello',
          summary: 'Benchmark: hello through the whole stack, anonymous',
          tags: ['bench'],
          auth: 'public',
          responses: { 200: { description: 'Hello', schema: Hello } },
        },
        (_req, res) => {
          res.json({ hello: 'world' });
        },
      );
      router.add(
        {
          method: 'get',
          path: '/bench/hello',
          operationId: 'benchHello',
          summary: 'Benchmark: hello behind authentication, RBAC and rate limiting',
          tags: ['bench'],
          auth: { permission: BENCH_PERMISSION },
          responses: { 200: { description: 'Hello', schema: Hello } },
        },
        requirePermission(BENCH_PERMISSION),
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
  bare.post('/argon2', async (req, res) => {
    const durationMs = Number(req.query.durationMs ?? 10_000);
    const concurrency = Number(req.query.concurrency ?? 50);
    res.json(await measureArgon2(durationMs, concurrency));
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
