import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { countCronSlotsBetween, latestCronSlot, nextCronSlot, parseCron } from './cron.ts';
import type { JobRegistry } from './definitions.ts';
import { sampleQueueDepths } from './queue-depth.ts';
import type { JobQueue } from './queue.ts';
import { SCHEDULES, type ScheduleDefinition } from './schedules.ts';

export interface SchedulerOptions<R extends JobRegistry> {
  queue: JobQueue<R>;
  clock: Clock;
  logger: Logger;
  /** Default: SCHEDULES. */
  schedules?: readonly ScheduleDefinition[];
  /** Jobs this process's worker has handlers for; schedules of other jobs are registered disabled. */
  runnableJobs: ReadonlySet<string>;
  /** How often the scheduler looks at the clock (default 5 s). */
  tickMs?: number;
  /** Also record the per-minute queue-depth samples behind the 1-hour trend (default true). */
  sampleQueueDepths?: boolean;
}

export interface ScheduledEnqueue {
  schedule: string;
  slot: Date;
  /** Null when the previous run of this schedule was still waiting: the slot folded into it. */
  jobId: string | null;
  /** Slots skipped since the last enqueue (the scheduler was not running). */
  missed: number;
}

export interface RunningScheduler {
  /** One evaluation now (tests advance the clock, then tick). */
  tick(): Promise<ScheduledEnqueue[]>;
  stop(): Promise<void>;
}

function definitionsOf<R extends JobRegistry>(options: SchedulerOptions<R>): readonly ScheduleDefinition[] {
  const schedules = options.schedules ?? SCHEDULES;
  for (const schedule of schedules) {
    parseCron(schedule.cron);
    options.queue.definition(schedule.job);
  }
  return schedules;
}

/**
 * Writes (or updates) one state row per schedule. A new schedule starts from the current slot,
 * so it first runs at its next slot rather than catching up on the past.
 */
export async function registerSchedules<R extends JobRegistry>(db: Kysely<DB>, options: SchedulerOptions<R>): Promise<void> {
  const now = options.clock.now();
  for (const schedule of definitionsOf(options)) {
    const cron = parseCron(schedule.cron);
    const enabled = options.runnableJobs.has(schedule.job);
    await db
      .insertInto('jobSchedules')
      .values({
        name: schedule.name,
        cron: schedule.cron,
        jobName: schedule.job,
        enabled,
        disabledReason: enabled ? null : `no worker handles ${schedule.job} yet`,
        lastSlotAt: latestCronSlot(cron, now) ?? null,
        nextRunAt: nextCronSlot(cron, now),
        updatedAt: now,
      })
      .onConflict((conflict) =>
        conflict.column('name').doUpdateSet({
          cron: (eb) => eb.ref('excluded.cron'),
          jobName: (eb) => eb.ref('excluded.jobName'),
          enabled: (eb) => eb.ref('excluded.enabled'),
          disabledReason: (eb) => eb.ref('excluded.disabledReason'),
          // A changed cron (or a schedule coming back from disabled) starts afresh instead of
          // counting the old cron's slots as missed.
          lastSlotAt: sql`case when job_schedules.cron <> excluded.cron or not job_schedules.enabled
            then excluded.last_slot_at else job_schedules.last_slot_at end`,
          nextRunAt: sql`case when job_schedules.cron <> excluded.cron or not job_schedules.enabled or job_schedules.next_run_at is null
            then excluded.next_run_at else job_schedules.next_run_at end`,
          updatedAt: (eb) => eb.ref('excluded.updatedAt'),
        }),
      )
      .execute();
  }
}

/**
 * Enqueues every enabled schedule whose latest slot has not been enqueued yet. A scheduler claims
 * a slot by moving `last_slot_at` forward from the value it read, in the same transaction as the
 * enqueue: of two schedulers only one claims a slot, and a rolled-back claim enqueues nothing.
 * Slots skipped while no scheduler ran are counted as missed; only the latest one runs.
 */
export async function runSchedulerTick<R extends JobRegistry>(db: Kysely<DB>, options: SchedulerOptions<R>): Promise<ScheduledEnqueue[]> {
  const now = options.clock.now();
  const schedules = definitionsOf(options);
  const rows = await db
    .selectFrom('jobSchedules')
    .select(['name', 'lastSlotAt', 'cron'])
    .where('enabled', '=', true)
    .where(
      'name',
      'in',
      schedules.map((schedule) => schedule.name),
    )
    .execute();
  const enqueued: ScheduledEnqueue[] = [];
  for (const schedule of schedules) {
    const row = rows.find((candidate) => candidate.name === schedule.name);
    if (!row || row.cron !== schedule.cron) continue;
    const cron = parseCron(schedule.cron);
    const due = latestCronSlot(cron, now);
    if (!due || (row.lastSlotAt && due.getTime() <= row.lastSlotAt.getTime())) continue;
    const missed = row.lastSlotAt ? countCronSlotsBetween(cron, row.lastSlotAt, due) : 0;
    const result = await db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable('jobSchedules')
        .set({
          lastSlotAt: due,
          lastEnqueuedAt: now,
          nextRunAt: nextCronSlot(cron, now),
          missedRuns: sql<number>`missed_runs + ${missed}`,
          updatedAt: now,
        })
        .where('name', '=', schedule.name)
        .where('enabled', '=', true)
        .where((eb) => (row.lastSlotAt ? eb('lastSlotAt', '=', row.lastSlotAt) : eb('lastSlotAt', 'is', null)))
        .returning('name')
        .executeTakeFirst();
      if (!claimed) return undefined;
      const jobId = await options.queue.send(trx, schedule.job as never, { schedule: schedule.name, slot: due.toISOString() } as never);
      await trx
        .updateTable('jobSchedules')
        .set(jobId ? { lastJobId: jobId } : { missedRuns: sql<number>`missed_runs + 1` })
        .where('name', '=', schedule.name)
        .execute();
      return { schedule: schedule.name, slot: due, jobId, missed: jobId ? missed : missed + 1 };
    });
    if (result) {
      enqueued.push(result);
      if (result.missed > 0) options.logger.warn({ schedule: schedule.name, missed: result.missed }, 'schedule missed runs');
    }
  }
  return enqueued;
}

/** Registers the schedules and ticks on a timer until stopped. */
export async function startScheduler<R extends JobRegistry>(db: Kysely<DB>, options: SchedulerOptions<R>): Promise<RunningScheduler> {
  const tickMs = options.tickMs ?? 5_000;
  await registerSchedules(db, options);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let lastSampleAt = 0;

  async function tick(): Promise<ScheduledEnqueue[]> {
    const enqueued = await runSchedulerTick(db, options);
    if ((options.sampleQueueDepths ?? true) && Date.now() - lastSampleAt >= 30_000) {
      lastSampleAt = Date.now();
      await sampleQueueDepths(db);
    }
    return enqueued;
  }

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((error: unknown) =>
        options.logger.warn({ err: { message: (error as Error).message } }, 'scheduler tick failed; retrying next tick'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, tickMs);
      });
  };
  loop();
  options.logger.info({ schedules: (options.schedules ?? SCHEDULES).length, tickMs }, 'scheduler started');

  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** Called by the worker when a scheduled job finishes an attempt: the schedule's last run and outcome. */
export async function recordScheduleOutcome(
  db: Kysely<DB>,
  run: { schedule: string; jobId: string; outcome: 'success' | 'failure'; error: string | null; durationMs: number; at: Date },
): Promise<void> {
  await db
    .updateTable('jobSchedules')
    .set({
      lastRunAt: run.at,
      lastOutcome: run.outcome,
      lastError: run.error?.slice(0, 2_000) ?? null,
      lastDurationMs: Math.round(run.durationMs),
      updatedAt: run.at,
    })
    .where('name', '=', run.schedule)
    // An older slot finishing late does not overwrite the newest run's outcome.
    .where('lastJobId', '=', run.jobId)
    .execute();
}

export interface ScheduleStatus {
  name: string;
  cron: string;
  job: string;
  description: string;
  registered: boolean;
  enabled: boolean;
  disabledReason: string | null;
  lastSlotAt: Date | null;
  lastEnqueuedAt: Date | null;
  lastJobId: string | null;
  lastJobState: string | null;
  lastRunAt: Date | null;
  lastOutcome: 'success' | 'failure' | null;
  lastError: string | null;
  lastDurationMs: number | null;
  nextRunAt: Date;
  missedRuns: number;
  /** The next run is over two minutes late: no scheduler is running. */
  late: boolean;
}

/** Every schedule in the code table with its recorded state (for monitoring). */
export async function findScheduleStatus(
  db: Kysely<DB>,
  options: { clock: Clock; schedules?: readonly ScheduleDefinition[] },
): Promise<ScheduleStatus[]> {
  const now = options.clock.now();
  const schedules = options.schedules ?? SCHEDULES;
  const rows = await db.selectFrom('jobSchedules').selectAll().execute();
  const jobIds = rows.map((row) => row.lastJobId).filter((id): id is string => id !== null);
  const states = new Map<string, string>();
  if (jobIds.length > 0) {
    const found = await sql<{ id: string; state: string }>`
      select id::text as id, state::text as state from pgboss.job where id = any(${jobIds}::uuid[])
      union all
      select id::text, state::text from pgboss.archive where id = any(${jobIds}::uuid[])
    `.execute(db);
    for (const job of found.rows) states.set(job.id, job.state);
  }
  return schedules.map((schedule) => {
    const row = rows.find((candidate) => candidate.name === schedule.name);
    const nextRunAt = row?.nextRunAt ?? nextCronSlot(parseCron(schedule.cron), now);
    const enabled = row?.enabled ?? false;
    return {
      name: schedule.name,
      cron: schedule.cron,
      job: schedule.job,
      description: schedule.description,
      registered: row !== undefined,
      enabled,
      disabledReason: row ? row.disabledReason : 'no scheduler has registered this schedule yet',
      lastSlotAt: row?.lastSlotAt ?? null,
      lastEnqueuedAt: row?.lastEnqueuedAt ?? null,
      lastJobId: row?.lastJobId ?? null,
      lastJobState: row?.lastJobId ? (states.get(row.lastJobId) ?? 'purged') : null,
      lastRunAt: row?.lastRunAt ?? null,
      lastOutcome: (row?.lastOutcome as ScheduleStatus['lastOutcome']) ?? null,
      lastError: row?.lastError ?? null,
      lastDurationMs: row?.lastDurationMs ?? null,
      nextRunAt,
      missedRuns: row?.missedRuns ?? 0,
      late: enabled && nextRunAt.getTime() < now.getTime() - 120_000,
    };
  });
}
