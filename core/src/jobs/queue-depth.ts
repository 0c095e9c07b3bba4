import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { deadLetterQueueOf, isDeadLetterQueue } from './definitions.ts';

// Monitoring reads pg-boss's tables (schema JOBS_SCHEMA = pgboss) directly: one query instead of
// one call per queue, and fields pg-boss's API does not expose.

interface DepthRow {
  queue: string;
  queued: number;
  scheduled: number;
  active: number;
  retrying: number;
  failed: number;
  completedLastHour: number;
  oldestQueuedSeconds: number | null;
}

async function currentDepths(db: Kysely<DB>): Promise<DepthRow[]> {
  const { rows } = await sql<DepthRow>`
    select q.name as queue,
      count(j.id) filter (where j.state < 'active' and j.start_after <= now())::int as queued,
      count(j.id) filter (where j.state < 'active' and j.start_after > now())::int as scheduled,
      count(j.id) filter (where j.state = 'active')::int as active,
      count(j.id) filter (where j.state = 'retry')::int as retrying,
      count(j.id) filter (where j.state = 'failed')::int as failed,
      count(j.id) filter (where j.state = 'completed' and j.completed_on > now() - interval '1 hour')::int as completed_last_hour,
      extract(epoch from now() - min(j.start_after) filter (where j.state < 'active' and j.start_after <= now()))::float8
        as oldest_queued_seconds
    from pgboss.queue q
    left join pgboss.job j on j.name = q.name
    group by q.name
    order by q.name
  `.execute(db);
  return rows;
}

export interface QueueDepth {
  queue: string;
  /** Ready to run now (created or waiting to retry, start time passed). */
  queued: number;
  /** Waiting for a later start (e.g. a hold-expiry job sent with startAfter). */
  scheduled: number;
  active: number;
  /** Of the waiting jobs, those that failed before and wait to retry. */
  retrying: number;
  /** Failed for good and still retryable (kept seven days). */
  failed: number;
  /** In this queue's dead-letter queue, waiting for a person. */
  deadLetters: number;
  completedLastHour: number;
  /** Age of the oldest ready job: how far behind the workers are. */
  oldestQueuedSeconds: number | null;
  /** Samples of the last hour, oldest first, one a minute. */
  trend: Array<{ at: Date; queued: number; active: number; failed: number; oldestQueuedSeconds: number | null }>;
}

/** Depth and lag of every queue, each with its dead-letter count and 1-hour trend. */
export async function getQueueDepths(db: Kysely<DB>): Promise<QueueDepth[]> {
  const depths = await currentDepths(db);
  const samples = await db
    .selectFrom('queueDepthSamples')
    .selectAll()
    .where('sampledAt', '>', sql<Date>`now() - interval '1 hour'`)
    .orderBy('sampledAt')
    .execute();
  const byName = new Map(depths.map((row) => [row.queue, row]));
  return depths
    .filter((row) => !isDeadLetterQueue(row.queue))
    .map((row) => {
      const dead = byName.get(deadLetterQueueOf(row.queue));
      return {
        queue: row.queue,
        queued: row.queued,
        scheduled: row.scheduled,
        active: row.active,
        retrying: row.retrying,
        failed: row.failed,
        deadLetters: dead ? dead.queued + dead.scheduled : 0,
        completedLastHour: row.completedLastHour,
        oldestQueuedSeconds: row.oldestQueuedSeconds === null ? null : Math.round(row.oldestQueuedSeconds),
        trend: samples
          .filter((sample) => sample.queue === row.queue)
          .map((sample) => ({
            at: sample.sampledAt,
            queued: sample.queued,
            active: sample.active,
            failed: sample.failed,
            oldestQueuedSeconds: sample.oldestQueuedSeconds,
          })),
      };
    });
}

/**
 * Records this minute's depth of every queue (once per minute whoever calls: the key is the
 * minute) and forgets samples older than a day.
 */
export async function sampleQueueDepths(db: Kysely<DB>): Promise<number> {
  const depths = await currentDepths(db);
  if (depths.length === 0) return 0;
  const inserted = await db
    .insertInto('queueDepthSamples')
    .values(
      depths.map((row) => ({
        queue: row.queue,
        sampledAt: sql<Date>`date_trunc('minute', now())`,
        queued: row.queued,
        scheduled: row.scheduled,
        active: row.active,
        failed: row.failed,
        oldestQueuedSeconds: row.oldestQueuedSeconds === null ? null : Math.round(row.oldestQueuedSeconds),
      })),
    )
    .onConflict((conflict) => conflict.columns(['queue', 'sampledAt']).doNothing())
    .executeTakeFirst();
  await db
    .deleteFrom('queueDepthSamples')
    .where('sampledAt', '<', sql<Date>`now() - interval '1 day'`)
    .execute();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0);
}
