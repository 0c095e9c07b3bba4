import type { DB, JsonValue } from '@instainstru/db';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { AppError } from '../shared/errors.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { findEffectsOfJob } from './effects.ts';
import { redactJobError, redactPayload } from './redact.ts';

export const JOB_STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

interface JobRow {
  id: string;
  name: string;
  state: JobState;
  data: unknown;
  output: unknown;
  retryCount: number;
  retryLimit: number;
  createdOn: Date;
  startAfter: Date;
  startedOn: Date | null;
  completedOn: Date | null;
  singletonKey: string | null;
  deadLetter: string | null;
  archived: boolean;
  /** Full-precision sort key (timestamptz as text) for keyset cursors. */
  cursorAt: string;
}

const COLUMNS = sql`id::text as id, name, state::text as state, data, output, retry_count, retry_limit, created_on, start_after,
  started_on, completed_on, singleton_key, dead_letter`;

export interface JobSummary {
  id: string;
  queue: string;
  state: JobState;
  /** Attempts started so far. */
  attempts: number;
  maxAttempts: number;
  createdAt: Date;
  startAfter: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  durationMs: number | null;
  singletonKey: string | null;
  payload: JsonValue;
  error: { name: string; message: string; code: string | null } | null;
  /** Moved to the archive: history only, no longer retryable. */
  archived: boolean;
}

function toSummary(row: JobRow): JobSummary {
  const attempts = row.startedOn ? row.retryCount + 1 : 0;
  return {
    id: row.id,
    queue: row.name,
    state: row.state,
    attempts,
    maxAttempts: row.retryLimit + 1,
    createdAt: row.createdOn,
    startAfter: row.startAfter,
    startedAt: row.startedOn,
    completedAt: row.completedOn,
    durationMs: row.startedOn && row.completedOn ? row.completedOn.getTime() - row.startedOn.getTime() : null,
    singletonKey: row.singletonKey,
    payload: redactPayload(row.data),
    error: row.state === 'failed' || row.state === 'retry' ? redactJobError(row.output) : null,
    archived: row.archived,
  };
}

const Cursor = z.object({ at: z.string().max(64), id: z.uuid() });

function whereAll(conditions: RawBuilder<unknown>[]): RawBuilder<unknown> {
  return conditions.length === 0 ? sql`true` : sql.join(conditions, sql` and `);
}

export interface FailedJobsQuery {
  queue?: string | undefined;
  /** Only jobs that failed at or after this instant. */
  since?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * Jobs that failed for good (every attempt used; their copy waits in the dead-letter queue),
 * newest first, with the error and a redacted payload. They stay retryable for seven days.
 */
export async function findFailedJobs(db: Kysely<DB>, query: FailedJobsQuery): Promise<Page<JobSummary>> {
  const after = decodeCursor(query.cursor, Cursor);
  const conditions: RawBuilder<unknown>[] = [sql`state = 'failed'`];
  if (query.queue) conditions.push(sql`name = ${query.queue}`);
  if (query.since) conditions.push(sql`completed_on >= ${query.since}`);
  if (after) conditions.push(sql`(completed_on, id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  const { rows } = await sql<JobRow>`
    select ${COLUMNS}, false as archived, completed_on::text as cursor_at
    from pgboss.job
    where ${whereAll(conditions)}
    order by completed_on desc, id desc
    limit ${query.limit + 1}
  `.execute(db);
  return toPage(rows, query.limit, toSummary, (row) => ({ at: row.cursorAt, id: row.id }));
}

export interface JobHistoryQuery {
  queue?: string | undefined;
  state?: JobState | undefined;
  /** Created at or after. */
  since?: Date | undefined;
  /** Created before. */
  until?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Every job, live and archived (finished jobs are kept seven days), newest first, filtered. */
export async function findJobHistory(db: Kysely<DB>, query: JobHistoryQuery): Promise<Page<JobSummary>> {
  const after = decodeCursor(query.cursor, Cursor);
  const conditions: RawBuilder<unknown>[] = [];
  if (query.queue) conditions.push(sql`name = ${query.queue}`);
  if (query.state) conditions.push(sql`state = ${query.state}::pgboss.job_state`);
  if (query.since) conditions.push(sql`created_on >= ${query.since}`);
  if (query.until) conditions.push(sql`created_on < ${query.until}`);
  if (after) conditions.push(sql`(created_on, id) < (${after.at}::timestamptz, ${after.id}::uuid)`);
  const where = whereAll(conditions);
  const { rows } = await sql<JobRow>`
    select * from (
      select ${COLUMNS}, false as archived, created_on::text as cursor_at from pgboss.job where ${where}
      union all
      select ${COLUMNS}, true as archived, created_on::text as cursor_at from pgboss.archive where ${where}
    ) jobs
    order by created_on desc, id desc
    limit ${query.limit + 1}
  `.execute(db);
  return toPage(rows, query.limit, toSummary, (row) => ({ at: row.cursorAt, id: row.id }));
}

export interface ActiveJob extends JobSummary {
  runningSeconds: number;
  /** Seconds until pg-boss presumes the attempt dead and retries it. */
  expiresInSeconds: number;
  /** The worker running it, from the workers' heartbeats (null if none claims it: a dead worker). */
  workerId: string | null;
}

/** Jobs running now, longest-running first, with the worker that runs each. */
export async function findActiveJobs(db: Kysely<DB>, options: { limit?: number } = {}): Promise<ActiveJob[]> {
  const { rows } = await sql<JobRow & { runningSeconds: number; expiresInSeconds: number }>`
    select ${COLUMNS}, false as archived, started_on::text as cursor_at,
      extract(epoch from now() - started_on)::float8 as running_seconds,
      extract(epoch from started_on + expire_in - now())::float8 as expires_in_seconds
    from pgboss.job
    where state = 'active'
    order by started_on
    limit ${options.limit ?? 200}
  `.execute(db);
  const workers = await db
    .selectFrom('workerHeartbeats')
    .select(['id', 'activeJobs'])
    .where('stoppedAt', 'is', null)
    .where('lastBeatAt', '>', sql<Date>`now() - interval '1 hour'`)
    .execute();
  const workerOf = new Map<string, string>();
  for (const worker of workers) {
    for (const job of worker.activeJobs as Array<{ id: string }>) workerOf.set(job.id, worker.id);
  }
  return rows.map((row) => ({
    ...toSummary(row),
    runningSeconds: Math.max(0, Math.round(row.runningSeconds)),
    expiresInSeconds: Math.round(row.expiresInSeconds),
    workerId: workerOf.get(row.id) ?? null,
  }));
}

export interface JobDetail extends JobSummary {
  output: JsonValue;
  deadLetterQueue: string | null;
  effects: Array<{ key: string; effect: string; result: JsonValue; createdAt: Date }>;
}

/** One job by id, live or archived, with its (redacted) output and the effects it recorded. */
export async function getJobDetail(db: Kysely<DB>, jobId: string): Promise<JobDetail> {
  const { rows } = await sql<JobRow>`
    select ${COLUMNS}, false as archived, created_on::text as cursor_at from pgboss.job where id = ${jobId}::uuid
    union all
    select ${COLUMNS}, true as archived, created_on::text as cursor_at from pgboss.archive where id = ${jobId}::uuid
    limit 1
  `.execute(db);
  const row = rows[0];
  if (!row) throw new AppError('not_found', 'No job with this id (jobs are kept seven days after they finish).', 'id');
  return {
    ...toSummary(row),
    output: redactPayload(row.output),
    deadLetterQueue: row.deadLetter,
    effects: await findEffectsOfJob(db, jobId),
  };
}
