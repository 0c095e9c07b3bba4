import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import type { Express } from 'express';
import { loadConfig, type AppConfig } from '../../src/config.ts';
import { createAuthDeps } from '../../src/auth/auth-deps.ts';
import { type AppOptions, createApp } from '../../src/http/app.ts';
import type { ApiDeps } from '../../src/http/deps.ts';
import { createPlatformDeps } from '../../src/http/platform.ts';
import { createJobQueue, type JobQueue } from '../../src/jobs/queue.ts';
import { JOBS } from '../../src/jobs/definitions.ts';
import { type Clock, systemClock } from '../../src/shared/clock.ts';
import { createLogger, type Logger } from '../../src/shared/logger.ts';
import type { PaymentProvider } from '../../src/payments/provider.ts';
import { createPaymentProvider } from '../../src/payments/providers/index.ts';

export interface TestApi {
  baseUrl: string;
  database: TestDatabase;
  config: AppConfig;
  deps: ApiDeps;
  app: Express;
  /** fetch relative to the API, JSON in and out. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

export interface TestApiOptions extends AppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /**
   * Redis for rate limits: a URL, `null` for none (in-process store), or by default REDIS_URL
   * from the environment when set. Keys get a random per-app prefix unless `env.REDIS_KEY_PREFIX`
   * is given, so test files never see each other's counters.
   */
  redisUrl?: string | null;
  /** Share another test API's database (two API processes on one database); not cleaned up by this one. */
  database?: TestDatabase;
  /** A logger the test can read (e.g. pino writing to an array). */
  logger?: Logger;
  /** The job queue the app sends with (default: the platform's jobs on this database, no worker). */
  jobs?: JobQueue;
  /**
   * The payment provider (default: as configured by `env` — the offline provider on this database
   * unless STRIPE_SECRET_KEY/PAYMENTS_PROVIDER say otherwise, with this API's clock).
   */
  payments?: PaymentProvider;
}

/**
 * The real Express app over real HTTP on a random port, against a fresh migrated database
 * (the real PostgreSQL when DATABASE_URL is set, in-memory PGlite otherwise).
 */
export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const database = options.database ?? (await createTestDatabase());
  const redisUrl = options.redisUrl === undefined ? process.env.REDIS_URL : (options.redisUrl ?? undefined);
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SEED_DEMO_DATA: 'never',
    API_PORT: '0',
    REDIS_KEY_PREFIX: `test:${randomBytes(6).toString('hex')}:`,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...options.env,
  });
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'api-test' });
  const clock = options.clock ?? systemClock;
  const platform = await createPlatformDeps({ config, database, logger, clock });
  const auth = createAuthDeps({ config: config.auth, clock, logger });
  const jobs = options.jobs ?? createJobQueue(database, { jobs: JOBS, logger });
  if (!options.jobs) await jobs.start();
  const payments = options.payments ?? createPaymentProvider(config.payments, database.db, { clock });
  const deps: ApiDeps = { config, database, logger, clock, startedAt: new Date(), auth, jobs, payments, ...platform };
  const app = createApp(deps, options);
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    database,
    config,
    deps,
    app,
    async request(path, init = {}) {
      const { json, headers, ...rest } = init;
      const response = await fetch(`${baseUrl}${path}`, {
        ...rest,
        headers: {
          ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(headers as Record<string, string> | undefined),
        },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
      const text = await response.text();
      let body: unknown = text;
      if (response.headers.get('content-type')?.includes('json')) body = text ? JSON.parse(text) : null;
      return { status: response.status, headers: response.headers, body };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await platform.close();
      if (!options.jobs) await jobs.stop();
      if (!options.database) await database.cleanup();
    },
  };
}
