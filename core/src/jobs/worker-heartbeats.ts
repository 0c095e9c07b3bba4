import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';

export interface WorkerIdentity {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: Record<string, number>;
  heartbeatIntervalMs: number;
  release: string | null;
}

export interface WorkerCounters {
  jobsDone: number;
  jobsFailed: number;
  activeJobs: Array<{ id: string; queue: string; startedAt: string }>;
}

/** A worker is presumed dead after this many missed beats. */
export const MISSED_BEATS_BEFORE_DEAD = 3;

/** Writes the worker's row when it starts. Times are the database's, shared by every process. */
export async function registerWorker(db: Kysely<DB>, worker: WorkerIdentity): Promise<void> {
  await db
    .insertInto('workerHeartbeats')
    .values({
      id: worker.id,
      host: worker.host,
      pid: worker.pid,
      queues: worker.queues,
      concurrency: JSON.stringify(worker.concurrency),
      heartbeatIntervalMs: worker.heartbeatIntervalMs,
      release: worker.release,
    })
    .execute();
  // Rows of workers gone for a week only clutter the list.
  await db
    .deleteFrom('workerHeartbeats')
    .where('lastBeatAt', '<', sql<Date>`now() - interval '7 days'`)
    .execute();
}

/** One beat: the worker is alive, with these counters. */
export async function beat(db: Kysely<DB>, workerId: string, counters: WorkerCounters): Promise<void> {
  await db
    .updateTable('workerHeartbeats')
    .set({
      lastBeatAt: sql<Date>`now()`,
      jobsDone: counters.jobsDone,
      jobsFailed: counters.jobsFailed,
      activeJobs: JSON.stringify(counters.activeJobs),
    })
    .where('id', '=', workerId)
    .execute();
}

/** The last beat of a worker that shut down cleanly. */
export async function markWorkerStopped(db: Kysely<DB>, workerId: string, counters: WorkerCounters): Promise<void> {
  await db
    .updateTable('workerHeartbeats')
    .set({
      lastBeatAt: sql<Date>`now()`,
      stoppedAt: sql<Date>`now()`,
      jobsDone: counters.jobsDone,
      jobsFailed: counters.jobsFailed,
      activeJobs: JSON.stringify(counters.activeJobs),
    })
    .where('id', '=', workerId)
    .execute();
}

export interface WorkerStatus {
  id: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: Record<string, number>;
  status: 'alive' | 'dead' | 'stopped';
  dead: boolean;
  startedAt: Date;
  lastBeatAt: Date;
  heartbeatAgeSeconds: number;
  heartbeatIntervalSeconds: number;
  stoppedAt: Date | null;
  jobsDone: number;
  jobsFailed: number;
  activeJobs: Array<{ id: string; queue: string; startedAt: string }>;
  release: string | null;
}

/**
 * Workers seen in the last `sinceHours` (default 24), live ones first. `dead` means no beat for
 * more than three of the worker's own intervals without a clean stop: it crashed or hangs.
 */
export async function findWorkers(db: Kysely<DB>, options: { sinceHours?: number } = {}): Promise<WorkerStatus[]> {
  const sinceHours = options.sinceHours ?? 24;
  const rows = await db
    .selectFrom('workerHeartbeats')
    .selectAll()
    .select(sql<number>`extract(epoch from now() - last_beat_at)::float8`.as('ageSeconds'))
    .where('lastBeatAt', '>', sql<Date>`now() - make_interval(hours => ${sinceHours})`)
    .orderBy('lastBeatAt', 'desc')
    .limit(200)
    .execute();
  return (
    rows
      .map((row) => {
        const dead = row.stoppedAt === null && row.ageSeconds * 1000 > row.heartbeatIntervalMs * MISSED_BEATS_BEFORE_DEAD;
        const status: WorkerStatus['status'] = row.stoppedAt !== null ? 'stopped' : dead ? 'dead' : 'alive';
        return {
          id: row.id,
          host: row.host,
          pid: row.pid,
          queues: row.queues,
          concurrency: row.concurrency as Record<string, number>,
          status,
          dead,
          startedAt: row.startedAt,
          lastBeatAt: row.lastBeatAt,
          heartbeatAgeSeconds: Math.max(0, Math.round(row.ageSeconds * 10) / 10),
          heartbeatIntervalSeconds: row.heartbeatIntervalMs / 1000,
          stoppedAt: row.stoppedAt,
          jobsDone: row.jobsDone,
          jobsFailed: row.jobsFailed,
          activeJobs: row.activeJobs as WorkerStatus['activeJobs'],
          release: row.release,
        };
      })
      // Stable sort: live, then dead, then stopped, each most recent beat first.
      .sort((a, b) => rank(a.status) - rank(b.status))
  );
}

function rank(status: WorkerStatus['status']): number {
  return status === 'alive' ? 0 : status === 'dead' ? 1 : 2;
}
