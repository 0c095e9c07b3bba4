import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { getQueueDepths } from './queue-depth.ts';
import type { JobObserver } from './start-worker.ts';
import { findWorkers } from './worker-heartbeats.ts';

/**
 * Per-attempt metrics of the worker running in this process: job outcomes and durations.
 * Register them on the registry the process exposes (the API's /metrics on the embedded engine,
 * the worker's own port otherwise).
 */
export function createJobObserverMetrics(registry: Registry): JobObserver {
  const processed = new Counter({
    name: 'jobs_processed_total',
    help: 'Job attempts finished by this process, by queue and outcome (success, retry = failed and will retry, dead = failed for good)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'job_duration_seconds',
    help: 'How long job attempts ran, by queue and outcome',
    labelNames: ['queue', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900],
    registers: [registry],
  });
  return {
    jobFinished(queue, outcome, durationSeconds) {
      processed.inc({ queue, outcome });
      duration.observe({ queue, outcome }, durationSeconds);
    },
  };
}

/**
 * Gauges read from the database at scrape time — queue depth and lag, dead letters, workers,
 * schedules — so any one process reports the whole system. Register them in one process kind
 * only (the API), or Prometheus sums the same numbers twice.
 */
export function registerJobStateMetrics(registry: Registry, deps: { db: Kysely<DB> }): void {
  // One read per scrape feeds every gauge (each gauge's collect would otherwise query again).
  let pending: Promise<void> | undefined;
  const refresh = () => {
    pending ??= (async () => {
      try {
        const queues = await getQueueDepths(deps.db);
        depth.reset();
        oldest.reset();
        for (const queue of queues) {
          for (const state of ['queued', 'scheduled', 'active', 'retrying', 'failed', 'deadLetters'] as const) {
            depth.set({ queue: queue.queue, state: state === 'deadLetters' ? 'dead_letter' : state }, queue[state]);
          }
          oldest.set({ queue: queue.queue }, queue.oldestQueuedSeconds ?? 0);
        }
        const seen = await findWorkers(deps.db);
        workers.reset();
        for (const status of ['alive', 'dead', 'stopped'] as const) {
          workers.set({ status }, seen.filter((worker) => worker.status === status).length);
        }
        const schedules = await deps.db.selectFrom('jobSchedules').select(['name', 'missedRuns', 'lastRunAt', 'lastOutcome']).execute();
        missed.reset();
        lastRun.reset();
        for (const schedule of schedules) {
          missed.set({ schedule: schedule.name }, schedule.missedRuns);
          if (schedule.lastRunAt && schedule.lastOutcome) {
            lastRun.set({ schedule: schedule.name, outcome: schedule.lastOutcome }, schedule.lastRunAt.getTime() / 1000);
          }
        }
      } catch {
        // A scrape during a database outage keeps the last values; readiness reports the outage.
      } finally {
        setImmediate(() => {
          pending = undefined;
        });
      }
    })();
    return pending;
  };

  const depth = new Gauge({
    name: 'jobs_queue_depth',
    help: 'Jobs per queue and state (queued = ready now, scheduled = waiting for a later start, dead_letter = waiting for a person)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    collect: refresh,
  });
  const oldest = new Gauge({
    name: 'jobs_queue_oldest_ready_seconds',
    help: 'Age of the oldest job ready to run, per queue: how far behind the workers are',
    labelNames: ['queue'] as const,
    registers: [registry],
    collect: refresh,
  });
  const workers = new Gauge({
    name: 'job_workers',
    help: 'Worker processes seen in the last day by status (dead = no heartbeat for three intervals)',
    labelNames: ['status'] as const,
    registers: [registry],
    collect: refresh,
  });
  const missed = new Gauge({
    name: 'job_schedule_missed_runs',
    help: 'Cron slots a schedule skipped because no scheduler ran, or the previous run was still waiting',
    labelNames: ['schedule'] as const,
    registers: [registry],
    collect: refresh,
  });
  const lastRun = new Gauge({
    name: 'job_schedule_last_run_timestamp_seconds',
    help: 'When a schedule last finished a run, by outcome of that run',
    labelNames: ['schedule', 'outcome'] as const,
    registers: [registry],
    collect: refresh,
  });
}
