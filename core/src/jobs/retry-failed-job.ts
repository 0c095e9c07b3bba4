import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import { AppError } from '../shared/errors.ts';
import { deadLetterQueueOf, type JobRegistry } from './definitions.ts';
import type { JobQueue } from './queue.ts';

export interface RetriedJob {
  id: string;
  queue: string;
  /** Attempts used before this retry; the retry adds one more. */
  previousAttempts: number;
  deadLetterCancelled: boolean;
  auditId: string;
}

/**
 * Gives a failed job one more attempt, under its own id (so effects it already performed are not
 * repeated), cancels its copy in the dead-letter queue, and audits who did it — all in one
 * transaction.
 */
export async function retryFailedJob<R extends JobRegistry>(
  db: Kysely<DB>,
  jobId: string,
  options: { queue: JobQueue<R>; audit: AuditContext; reason?: string | null },
): Promise<RetriedJob> {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ name: string; state: string; retryCount: number }>`
      select name, state::text as state, retry_count from pgboss.job where id = ${jobId}::uuid for update
    `.execute(trx);
    const job = rows[0];
    if (!job) {
      const archived = await sql<{ state: string }>`select state::text as state from pgboss.archive where id = ${jobId}::uuid`.execute(trx);
      if (archived.rows[0]) {
        throw new AppError('conflict', 'This job was archived and can no longer be retried; send a new job instead.', 'id');
      }
      throw new AppError('not_found', 'No job with this id.', 'id');
    }
    if (job.state !== 'failed') {
      throw new AppError('conflict', `Only failed jobs can be retried; this one is ${job.state}.`, 'id');
    }
    const deadLetterQueue = deadLetterQueueOf(job.name);
    // pg-boss writes the dead letter in the statement that fails the job: same data, and its
    // created_on equals the job's completed_on (one transaction, one now()).
    const cancelled = await sql`
      update pgboss.job set state = 'cancelled', completed_on = now()
      where name = ${deadLetterQueue} and id = (
        select dead.id from pgboss.job dead, pgboss.job failed
        where failed.name = ${job.name} and failed.id = ${jobId}::uuid
          and dead.name = ${deadLetterQueue} and dead.state = 'created'
          and dead.created_on = failed.completed_on and dead.data is not distinct from failed.data
        limit 1)
    `.execute(trx);
    const retried = await options.queue.retry(trx, job.name, jobId);
    if (!retried) throw new AppError('conflict', 'The job changed while it was being retried; look again.', 'id');
    const auditId = await recordAudit(trx, options.audit, {
      action: 'jobs.retry',
      resourceType: 'job',
      resourceId: jobId,
      before: { state: 'failed', attempts: job.retryCount + 1 },
      after: { state: 'retry' },
      reason: options.reason ?? null,
      metadata: { queue: job.name },
    });
    return {
      id: jobId,
      queue: job.name,
      previousAttempts: job.retryCount + 1,
      deadLetterCancelled: Number(cancelled.numAffectedRows ?? 0) > 0,
      auditId,
    };
  });
}
