import type { Server } from 'node:http';
import { prepareDatabase } from './bootstrap.ts';
import { type AppConfig, loadConfig } from './config.ts';
import { createAuthDeps } from './auth/auth-deps.ts';
import { type AppOptions, createApp } from './http/app.ts';
import { sweepExpiredIdempotencyKeys } from './http/idempotency-store.ts';
import { createPlatformDeps } from './http/platform.ts';
import { createJobObserverMetrics } from './jobs/metrics.ts';
import { startJobs } from './jobs/start-jobs.ts';
import { createPaymentProvider } from './payments/providers/index.ts';
import { systemClock } from './shared/clock.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { stopOnSignals } from './shared/shutdown.ts';

/**
 * Starts the API process; resolves once it listens. Returns a stop function for graceful shutdown.
 * `appOptions` adds routes (the benchmarks' hello routes served by this same process).
 */
export async function startApi(
  config: AppConfig,
  logger: Logger,
  appOptions: AppOptions = {},
): Promise<{ server: Server; url: string; stop: () => Promise<void> }> {
  const database = await prepareDatabase(config, logger);
  const platform = await createPlatformDeps({ config, database, logger, clock: systemClock });
  const auth = createAuthDeps({ config: config.auth, clock: systemClock, logger });
  const payments = createPaymentProvider(config.payments, database.db, { clock: systemClock, logger });
  // On the embedded engine this process owns the database, so it runs the job worker and the
  // scheduler too; with DATABASE_URL they run in worker processes (src/worker.ts).
  const jobs = await startJobs(database, {
    config: config.jobs,
    clock: systemClock,
    logger,
    runWorker: config.jobs.inApi,
    release: config.release,
    observer: config.jobs.inApi ? createJobObserverMetrics(platform.metrics.registry) : undefined,
    handlerDeps: { payments, redis: platform.redis },
  });
  const app = createApp(
    { config, database, logger, clock: systemClock, startedAt: new Date(), auth, jobs: jobs.queue, payments, ...platform },
    appOptions,
  );
  const idempotencySweep = setInterval(() => {
    sweepExpiredIdempotencyKeys(database).catch((error: unknown) =>
      logger.warn({ err: { message: (error as Error).message } }, 'could not delete expired idempotency keys'),
    );
  }, 3_600_000);
  idempotencySweep.unref();
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.port, config.host, () => resolve(listening));
    listening.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Stop taking new connections, let in-flight requests finish (bounded), then close the pool.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 10_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      clearInterval(idempotencySweep);
      await jobs.stop();
      await platform.close();
      await database.close();
    })();
    return stopping;
  };
  return { server, url, stop };
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, name: 'api' });
  const api = await startApi(config, logger);
  logger.info({ url: api.url }, `API listening on ${api.url}/api/v1 (health: ${api.url}/api/v1/health)`);
  stopOnSignals(logger, 'shutting down', () => api.stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
