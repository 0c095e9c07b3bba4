import { type Database, isSchemaCurrent, openDatabase } from '@instainstru/db';
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type AppConfig, loadConfig } from './config.ts';
import { createJobObserverMetrics } from './jobs/metrics.ts';
import { type JobsRuntime, startJobs } from './jobs/start-jobs.ts';
import { createPaymentProvider } from './payments/providers/index.ts';
import { systemClock } from './shared/clock.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { closeRedisClient, createRedisClient } from './shared/redis.ts';
import { stopOnSignals } from './shared/shutdown.ts';

/** How long a worker waits for the API (or a deploy step) to bring the schema up to date. */
const SCHEMA_WAIT_MS = 5 * 60_000;

async function waitForSchema(database: Database, logger: Logger): Promise<void> {
  const deadline = Date.now() + SCHEMA_WAIT_MS;
  let warned = false;
  while (!(await isSchemaCurrent(database.db))) {
    if (Date.now() > deadline) throw new Error('The database schema is not current; run `npm run db -- migrate` first.');
    if (!warned) logger.warn('waiting for pending migrations (the API applies them on non-PROD tiers)');
    warned = true;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

function serveMetrics(registry: Registry, port: number, host: string, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      logger.info({ port }, `worker metrics on http://${host}:${port}/metrics`);
      resolve(server);
    });
  });
}

/**
 * The worker process (with DATABASE_URL): runs every queue this codebase has handlers for, the
 * scheduler, and pg-boss maintenance; any number of them may run side by side. On the embedded
 * PGlite the API process runs the same things in-process instead.
 */
export async function startWorkerProcess(config: AppConfig, logger: Logger): Promise<{ jobs: JobsRuntime; stop: () => Promise<void> }> {
  if (!config.db.databaseUrl) {
    throw new Error(
      'The worker needs DATABASE_URL: the embedded database belongs to the API process, which runs the jobs itself (npm start).',
    );
  }
  const database = await openDatabase(config.db, logger);
  await waitForSchema(database, logger);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Payment jobs take the same Redis money locks as the API (fail closed when Redis is configured but down).
  const redis = config.redisUrl
    ? createRedisClient(config.redisUrl, { keyPrefix: config.redisKeyPrefix, logger, name: 'worker' })
    : undefined;
  const jobs = await startJobs(database, {
    config: config.jobs,
    clock: systemClock,
    logger,
    runWorker: true,
    release: config.release,
    observer: createJobObserverMetrics(registry),
    handlerDeps: { payments: createPaymentProvider(config.payments, database.db, { clock: systemClock, logger }), redis },
  });
  const metricsServer = config.jobs.workerMetricsPort
    ? await serveMetrics(registry, config.jobs.workerMetricsPort, config.host, logger)
    : undefined;
  let stopping: Promise<void> | undefined;
  return {
    jobs,
    stop() {
      stopping ??= (async () => {
        await jobs.stop();
        if (redis) await closeRedisClient(redis);
        metricsServer?.close();
        await database.close();
      })();
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel, name: 'worker' });
  const worker = await startWorkerProcess(config, logger);
  logger.info({ worker: worker.jobs.worker?.id, queues: worker.jobs.worker?.queues }, 'worker running');
  // A second signal means "now": running jobs are retried after their expiry, effects keep that safe.
  stopOnSignals(logger, 'stopping: running jobs may finish', () => worker.stop());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
