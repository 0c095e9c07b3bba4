import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { loadConfig, type AppConfig } from '../../src/config.ts';
import { createApp } from '../../src/http/app.ts';
import type { ApiDeps } from '../../src/http/deps.ts';
import { type Clock, systemClock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';

export interface TestApi {
  baseUrl: string;
  database: TestDatabase;
  config: AppConfig;
  deps: ApiDeps;
  /** fetch relative to the API, JSON in and out. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/**
 * The real Express app over real HTTP on a random port, against a fresh migrated database
 * (the real PostgreSQL when DATABASE_URL is set, in-memory PGlite otherwise).
 */
export async function startTestApi(options: { env?: Record<string, string>; clock?: Clock } = {}): Promise<TestApi> {
  const database = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SEED_DEMO_DATA: 'never',
    API_PORT: '0',
    ...options.env,
  });
  const logger = createLogger({ level: config.logLevel, name: 'api-test' });
  const deps: ApiDeps = { config, database, logger, clock: options.clock ?? systemClock, startedAt: new Date() };
  const app = createApp(deps);
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
      await database.cleanup();
    },
  };
}
