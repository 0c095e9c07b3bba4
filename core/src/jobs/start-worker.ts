import type { DB, JsonValue } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { ZodError } from 'zod';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { type CoreJobs, type JobName, type JobPayload, type JobRegistry, ScheduledRun } from './definitions.ts';
import { type EffectOutcome, performEffect, performExternalEffect } from './effects.ts';
import type { FetchedJob, JobQueue } from './queue.ts';
import { recordScheduleOutcome } from './scheduler.ts';
import { beat, markWorkerStopped, registerWorker, type WorkerCounters } from './worker-heartbeats.ts';

/** What a handler gets besides its payload. */
export interface JobContext<R extends JobRegistry = CoreJobs> {
  readonly jobId: string;
  readonly name: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly isLastAttempt: boolean;
  /** Aborted when the attempt runs out of time or the worker stops for good. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly logger: Logger;
  /** To send follow-up jobs (pass the transaction that makes the change). */
  readonly queue: JobQueue<R>;
  /** A database effect performed at most once per job key (see performEffect). */
  effect<T extends JsonValue | void>(effect: string, perform: (trx: Transaction<DB>) => Promise<T>): Promise<EffectOutcome<T>>;
  /** An outside-system effect, called with a deterministic idempotency key (see performExternalEffect). */
  externalEffect<T extends JsonValue | void>(effect: string, perform: (idempotencyKey: string) => Promise<T>): Promise<EffectOutcome<T>>;
}

/** A job's code: `db` first, then the validated payload, then the context. Returns the job's output. */
export type JobHandler<P, R extends JobRegistry = CoreJobs> = (
  db: Kysely<DB>,
  payload: P,
  context: JobContext<R>,
) => Promise<JsonValue | void>;

export type JobHandlers<R extends JobRegistry = CoreJobs> = { [N in JobName<R>]?: JobHandler<JobPayload<R, N>, R> };

/** Thrown by a handler when retrying cannot help (bad input, a booking that no longer exists): dead-letter now. */
export class UnrecoverableJobError extends Error {
  override readonly name = 'UnrecoverableJobError';
}

/** Per-attempt observations, for Prometheus. */
export interface JobObserver {
  jobFinished(queue: string, outcome: 'success' | 'retry' | 'dead', durationSeconds: number): void;
}

export interface WorkerOptions<R extends JobRegistry> {
  queue: JobQueue<R>;
  handlers: JobHandlers<R>;
  clock: Clock;
  logger: Logger;
  /** Overrides of the definitions' concurrency, per queue. */
  concurrency?: Partial<Record<JobName<R>, number>>;
  /** How long an idle queue waits before looking again (default 2 s). */
  pollIntervalMs?: number;
  heartbeatIntervalMs?: number;
  /** How long `stop` lets running jobs finish before handing them back to the queue (default 25 s). */
  shutdownTimeoutMs?: number;
  observer?: JobObserver;
  release?: string | null;
  /** Default: host:pid:random. */
  id?: string;
}

export interface RunningWorker {
  readonly id: string;
  readonly queues: readonly string[];
  counters(): WorkerCounters;
  /** Stops fetching, lets running jobs finish (bounded), writes the last heartbeat. */
  stop(): Promise<void>;
}

interface RunningJob {
  job: FetchedJob;
  controller: AbortController;
  done: Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the handlers' queues in this process: per queue, a loop that claims as many jobs as it has
 * free slots (its concurrency), runs them, and records each outcome on its own; an idle queue
 * waits `pollIntervalMs`. A heartbeat row says the worker is alive and what it is doing.
 */
export async function startWorker<R extends JobRegistry>(db: Kysely<DB>, options: WorkerOptions<R>): Promise<RunningWorker> {
  const { queue, handlers, clock, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5_000;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 25_000;
  const id = options.id ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const names = Object.keys(handlers).filter((name) => handlers[name as JobName<R>] !== undefined);
  const concurrency: Record<string, number> = {};
  for (const name of names) {
    concurrency[name] =
      (options.concurrency as Record<string, number | undefined> | undefined)?.[name] ?? queue.definition(name).concurrency;
  }

  const running = new Map<string, RunningJob>();
  const perQueue = new Map<string, number>(names.map((name) => [name, 0]));
  const slotFreed = new Map<string, () => void>();
  let jobsDone = 0;
  let jobsFailed = 0;
  const stopController = new AbortController();
  // Each queue's loop waits on the stop signal (a poll sleep or a free slot), so there are as many
  // listeners as queues: more than Node's default warning threshold of 10, and not a leak.
  setMaxListeners(names.length + 10, stopController.signal);

  const counters = (): WorkerCounters => ({
    jobsDone,
    jobsFailed,
    activeJobs: [...running.values()].map(({ job }) => ({ id: job.id, queue: job.name, startedAt: job.startedAt.toISOString() })),
  });

  await registerWorker(db, {
    id,
    host: os.hostname(),
    pid: process.pid,
    queues: names,
    concurrency,
    heartbeatIntervalMs,
    release: options.release ?? null,
  });

  let heartbeatTimer: NodeJS.Timeout | undefined;
  const heartbeat = () => {
    beat(db, id, counters())
      .catch((error: unknown) => logger.warn({ err: { message: errorMessage(error) } }, 'worker heartbeat failed'))
      .finally(() => {
        if (!stopController.signal.aborted) heartbeatTimer = setTimeout(heartbeat, heartbeatIntervalMs);
      });
  };
  heartbeatTimer = setTimeout(heartbeat, heartbeatIntervalMs);

  async function execute(job: FetchedJob, controller: AbortController): Promise<void> {
    const name = job.name;
    const definition = queue.definition(name);
    const handler = handlers[name as JobName<R>] as JobHandler<unknown, R>;
    const started = performance.now();
    const isLastAttempt = job.attempt > job.retryLimit;
    let payload: unknown;
    try {
      payload = definition.payload.parse(job.data);
      const jobKey = definition.effectKey?.(payload) ?? job.id;
      const context: JobContext<R> = {
        jobId: job.id,
        name,
        attempt: job.attempt,
        isLastAttempt,
        signal: controller.signal,
        clock,
        logger,
        queue,
        effect: (effect, perform) => performEffect(db, { jobName: name, jobKey, jobId: job.id, effect }, perform),
        externalEffect: (effect, perform) => performExternalEffect(db, { jobName: name, jobKey, jobId: job.id, effect }, perform),
      };
      const timeoutMs = definition.expireInSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new Error(`${name} ran longer than its limit of ${definition.expireInSeconds}s`));
        }, timeoutMs);
      });
      const output = await Promise.race([handler(db, payload, context), timeout]).finally(() => clearTimeout(timer));
      await queue.complete(name, job.id, output ?? null);
      jobsDone += 1;
      options.observer?.jobFinished(name, 'success', (performance.now() - started) / 1000);
      await noteScheduledRun(job, payload, 'success', null, started);
    } catch (error) {
      const retry = !(error instanceof UnrecoverableJobError || error instanceof ZodError) && !isLastAttempt;
      try {
        await queue.fail(name, job.id, error, { retry: !(error instanceof UnrecoverableJobError || error instanceof ZodError) });
      } catch (failError) {
        // The job stays active until pg-boss expires it, then it is retried: nothing is lost.
        logger.error({ err: { message: errorMessage(failError) }, job: job.id, queue: name }, 'could not record a job failure');
      }
      jobsFailed += 1;
      options.observer?.jobFinished(name, retry ? 'retry' : 'dead', (performance.now() - started) / 1000);
      logger[retry ? 'warn' : 'error'](
        { queue: name, job: job.id, attempt: job.attempt, err: { message: errorMessage(error) } },
        retry ? 'job failed; it will be retried' : 'job failed for good; moved to its dead-letter queue',
      );
      await noteScheduledRun(job, payload, 'failure', errorMessage(error), started);
    }
  }

  async function noteScheduledRun(
    job: FetchedJob,
    payload: unknown,
    outcome: 'success' | 'failure',
    error: string | null,
    started: number,
  ) {
    const run = ScheduledRun.safeParse(payload);
    if (!run.success) return;
    await recordScheduleOutcome(db, {
      schedule: run.data.schedule,
      jobId: job.id,
      outcome,
      error,
      durationMs: performance.now() - started,
      at: clock.now(),
    }).catch((recordError: unknown) => logger.warn({ err: { message: errorMessage(recordError) } }, 'could not record a schedule outcome'));
  }

  function launch(job: FetchedJob): void {
    const controller = new AbortController();
    perQueue.set(job.name, (perQueue.get(job.name) ?? 0) + 1);
    const entry: RunningJob = {
      job,
      controller,
      done: execute(job, controller).finally(() => {
        running.delete(job.id);
        perQueue.set(job.name, (perQueue.get(job.name) ?? 1) - 1);
        slotFreed.get(job.name)?.();
      }),
    };
    running.set(job.id, entry);
  }

  async function loop(name: string): Promise<void> {
    const limit = concurrency[name] ?? 1;
    while (!stopController.signal.aborted) {
      const free = limit - (perQueue.get(name) ?? 0);
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          const freed = () => {
            stopController.signal.removeEventListener('abort', freed);
            slotFreed.delete(name);
            resolve();
          };
          slotFreed.set(name, freed);
          stopController.signal.addEventListener('abort', freed, { once: true });
        });
        continue;
      }
      let jobs: FetchedJob[] = [];
      try {
        jobs = await queue.fetch(name, free);
      } catch (error) {
        logger.warn({ queue: name, err: { message: errorMessage(error) } }, 'fetching jobs failed; retrying');
      }
      // A claimed job is run even when a stop began meanwhile: the claim is already ours.
      for (const job of jobs) launch(job);
      if (jobs.length === 0) await sleep(pollIntervalMs, stopController.signal);
    }
  }

  const loops = names.map((name) =>
    loop(name).catch((error: unknown) => logger.error({ queue: name, err: { message: errorMessage(error) } }, 'worker loop stopped')),
  );
  logger.info({ worker: id, queues: names, concurrency }, 'job worker started');

  let stopping: Promise<void> | undefined;
  return {
    id,
    queues: names,
    counters,
    stop() {
      stopping ??= (async () => {
        stopController.abort();
        if (heartbeatTimer) clearTimeout(heartbeatTimer);
        await Promise.all(loops);
        const finished = Promise.all([...running.values()].map((entry) => entry.done));
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          finished.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), shutdownTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          // Hand unfinished jobs back now rather than after their expiry; effects keep the retry safe.
          for (const entry of running.values()) {
            entry.controller.abort();
            await queue
              .fail(entry.job.name, entry.job.id, new Error('the worker stopped before this job finished'))
              .catch((error: unknown) =>
                logger.warn({ job: entry.job.id, err: { message: errorMessage(error) } }, 'could not hand a job back'),
              );
          }
        }
        await markWorkerStopped(db, id, counters()).catch((error: unknown) =>
          logger.warn({ err: { message: errorMessage(error) } }, 'could not write the last heartbeat'),
        );
        logger.info({ worker: id, jobsDone, jobsFailed, handedBack: timedOut ? running.size : 0 }, 'job worker stopped');
      })();
      return stopping;
    },
  };
}
