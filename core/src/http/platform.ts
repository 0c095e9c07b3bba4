import type { Database } from '@instainstru/db';
import type { AppConfig } from '../config.ts';
import { type ErrorReporter, initErrorReporting } from '../observability/sentry.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { closeRedisClient, createRedisClient, type Redis } from '../shared/redis.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { loadRateLimitPolicies } from './rate-limit-policies.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit.ts';

/** The API platform's collaborators: Redis (optional), rate limiter, metrics, error reporting. */
export interface PlatformDeps {
  readonly redis: Redis | undefined;
  readonly rateLimiter: RateLimiter;
  readonly metrics: Metrics;
  readonly errorReporter: ErrorReporter;
}

/** How long start-up waits for a configured Redis before serving with the fallback. */
const REDIS_STARTUP_WAIT_MS = 2_000;

/**
 * Builds the platform collaborators once per process (server.ts, tests, benchmarks). A Redis
 * that is down at start does not stop the API: it serves with per-process limits (money routes
 * 503) and switches to Redis when it connects. `close` releases timers and connections.
 */
export async function createPlatformDeps(input: {
  config: AppConfig;
  database: Database;
  logger: Logger;
  clock: Clock;
}): Promise<PlatformDeps & { close(): Promise<void> }> {
  const { config, database, logger, clock } = input;
  const redis = config.redisUrl ? createRedisClient(config.redisUrl, { keyPrefix: config.redisKeyPrefix, logger }) : undefined;
  if (redis) await waitUntilReady(redis, REDIS_STARTUP_WAIT_MS);
  const metrics = createMetrics({ database });
  const policies = await loadRateLimitPolicies(database, {
    configured: config.rateLimitPolicies,
    refreshMs: config.rateLimitRefreshMs,
    logger,
  });
  const rateLimiter = createRateLimiter({
    policies,
    redis,
    clock,
    logger,
    memoryMaxKeys: config.rateLimitMemoryMaxKeys,
    onDecision: (policy, outcome, store) => metrics.recordRateLimitDecision(policy, outcome, store),
  });
  const errorReporter = initErrorReporting(
    { dsn: config.sentryDsn, release: config.release, environment: config.env, tracesSampleRate: config.sentryTracesSampleRate },
    logger,
  );
  logger.info(
    { store: rateLimiter.backend, redisReady: redis?.status === 'ready' },
    `rate limits counted in ${rateLimiter.backend === 'redis' ? 'Redis' : 'this process (no REDIS_URL)'}`,
  );
  return {
    redis,
    rateLimiter,
    metrics,
    errorReporter,
    async close() {
      rateLimiter.stop();
      policies.stop();
      await errorReporter.close();
      if (redis) await closeRedisClient(redis);
    },
  };
}

/** Resolves when the first connection attempt succeeds or fails, or after `timeoutMs`. */
function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
    redis.once('error', done);
  });
}
