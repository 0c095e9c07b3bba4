import type { Database } from '@instainstru/db';
import type { JobsConfig } from '../config.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { type CoreJobs, JOBS } from './definitions.ts';
import { type CoreHandlerDeps, createCoreHandlers } from './handlers.ts';
import { createJobQueue, type JobQueue } from './queue.ts';
import { type RunningScheduler, startScheduler } from './scheduler.ts';
import { type JobHandlers, type JobObserver, type RunningWorker, startWorker } from './start-worker.ts';

export interface JobsRuntime {
  readonly queue: JobQueue<CoreJobs>;
  readonly worker: RunningWorker | undefined;
  readonly scheduler: RunningScheduler | undefined;
  /** Scheduler, then worker (running jobs finish, bounded), then the queue. */
  stop(): Promise<void>;
}

/**
 * The job machinery of one process, built once at start-up: the queue (every process sends and
 * inspects), and when `runWorker` the worker and the scheduler too (worker processes, and the API
 * on the embedded engine, where one process owns the database).
 */
export async function startJobs(
  database: Database,
  options: {
    config: JobsConfig;
    clock: Clock;
    logger: Logger;
    runWorker: boolean;
    release?: string | undefined;
    observer?: JobObserver | undefined;
    handlers?: JobHandlers<CoreJobs>;
    /** What the core handlers need (the payment provider). */
    handlerDeps?: CoreHandlerDeps;
  },
): Promise<JobsRuntime> {
  const { config, clock, logger } = options;
  const queue = createJobQueue(database, {
    jobs: JOBS,
    logger,
    maintenance: options.runWorker,
    maintenanceIntervalSeconds: config.maintenanceIntervalSeconds,
  });
  await queue.start();
  if (!options.runWorker) {
    logger.info('job queue ready (send and inspect only; workers run in their own processes)');
    return { queue, worker: undefined, scheduler: undefined, stop: () => queue.stop() };
  }
  const handlers = options.handlers ?? createCoreHandlers(options.handlerDeps);
  const worker = await startWorker(database.db, {
    queue,
    handlers,
    clock,
    logger,
    pollIntervalMs: config.pollIntervalMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    ...(options.observer ? { observer: options.observer } : {}),
    release: options.release ?? null,
  });
  const scheduler = await startScheduler(database.db, {
    queue,
    clock,
    logger,
    runnableJobs: new Set(worker.queues),
    tickMs: config.schedulerTickMs,
  });
  let stopping: Promise<void> | undefined;
  return {
    queue,
    worker,
    scheduler,
    stop() {
      stopping ??= (async () => {
        await scheduler.stop();
        await worker.stop();
        await queue.stop();
      })();
      return stopping;
    },
  };
}
