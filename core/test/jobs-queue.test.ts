import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM_CONTEXT } from '../src/audit/record-audit.ts';
import { performEffect } from '../src/jobs/effects.ts';
import type { JobQueue } from '../src/jobs/queue.ts';
import { retryFailedJob } from '../src/jobs/retry-failed-job.ts';
import type { RunningWorker } from '../src/jobs/start-worker.ts';
import { findWorkers } from '../src/jobs/worker-heartbeats.ts';
import { AppError } from '../src/shared/errors.ts';
import {
  countJobs,
  createEffectLog,
  effectCounts,
  jobState,
  resetJobs,
  startTestQueue,
  startTestWorker,
  type TestJobs,
  waitFor,
} from './support/jobs.ts';

let database: TestDatabase;
let queue: JobQueue<TestJobs>;
const workers: RunningWorker[] = [];

async function worker(options: Parameters<typeof startTestWorker>[2] = {}): Promise<RunningWorker> {
  const started = await startTestWorker(database, queue, options);
  workers.push(started);
  return started;
}

beforeAll(async () => {
  database = await createTestDatabase();
  queue = await startTestQueue(database);
  await createEffectLog(database.db);
});
afterAll(async () => {
  await queue?.stop();
  await database?.cleanup();
});
beforeEach(async () => {
  await resetJobs(database.db, ['test_effect_log', 'audit_log']);
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((running) => running.stop()));
});

describe('transactional enqueue', () => {
  it('never runs a job sent in a rolled-back transaction, and runs a committed one exactly once', async () => {
    await worker();
    await expect(
      database.db.transaction().execute(async (trx) => {
        await queue.send(trx, 'test.effect', { n: 1 });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    let committedId: string | null = null;
    await database.db.transaction().execute(async (trx) => {
      committedId = await queue.send(trx, 'test.effect', { n: 2 });
      // Still invisible to the worker while the transaction is open.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from test_effect_log`.execute(trx);
      expect(rows[0]?.n).toBe(0);
    });
    expect(committedId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(async () => (await jobState(database.db, committedId!))?.state === 'completed', { what: 'the committed job' });
    // Ten more polls: nothing else appears.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(Object.fromEntries(await effectCounts(database.db))).toEqual({ 2: 1 });
    expect(await countJobs(database.db, 'test.effect')).toBe(1);
  });

  it('validates payloads when sending', async () => {
    await expect(queue.send(database.db, 'test.effect', { n: 'one' } as never)).rejects.toThrow(/test.effect: invalid payload at n/);
    await expect(queue.send(database.db, 'test.effect', { n: 1, extra: true } as never)).rejects.toThrow(/invalid payload/);
    await expect(queue.send(database.db, 'no.such-job' as never, {} as never)).rejects.toThrow(/Unknown job/);
  });

  it('deduplicates by singleton key: one queued hold-expiry job per booking', async () => {
    const later = new Date(Date.now() + 3_600_000);
    const first = await queue.schedule(database.db, 'booking.hold-expiry', { bookingId: 'B1' }, later);
    const again = await queue.schedule(database.db, 'booking.hold-expiry', { bookingId: 'B1' }, later);
    const other = await queue.schedule(database.db, 'booking.hold-expiry', { bookingId: 'B2' }, later);
    expect(first).not.toBeNull();
    expect(again).toBeNull();
    expect(other).not.toBeNull();
    expect(await countJobs(database.db, 'booking.hold-expiry')).toBe(2);
  });

  it('cancels a job before it runs', async () => {
    const id = await queue.schedule(database.db, 'test.effect', { n: 3 }, new Date(Date.now() + 200));
    expect(await queue.cancel(database.db, 'test.effect', id!)).toBe(true);
    await worker();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await jobState(database.db, id!))?.state).toBe('cancelled');
    expect((await effectCounts(database.db)).size).toBe(0);
    expect(await queue.cancel(database.db, 'test.effect', id!)).toBe(false);
  });
});

describe('retries, backoff and dead letters', () => {
  it('backs off exponentially between attempts, keeping the last error', async () => {
    const id = (await queue.send(database.db, 'test.fail', { message: 'card declined for ada@example.com' }))!;
    await worker();
    // retryDelay 1 s with backoff: attempt n waits between 2^(n−1) and 2^n seconds.
    const delays: number[] = [];
    for (const retryCount of [0, 1]) {
      const row = await waitFor(
        async () => {
          const { rows } = await sql<{ state: string; retryCount: number; startAfter: Date; startedOn: Date }>`
            select state::text as state, retry_count, start_after, started_on from pgboss.job where id = ${id}::uuid`.execute(database.db);
          const job = rows[0];
          return job && job.state === 'retry' && job.retryCount === retryCount ? job : undefined;
        },
        { what: `retry ${retryCount + 1}`, intervalMs: 20 },
      );
      delays.push((row.startAfter.getTime() - row.startedOn.getTime()) / 1000);
    }
    expect(delays[0]).toBeGreaterThanOrEqual(0.95);
    expect(delays[0]).toBeLessThanOrEqual(2.3);
    expect(delays[1]).toBeGreaterThanOrEqual(1.95);
    expect(delays[1]).toBeLessThanOrEqual(4.3);
    const job = await queue.getJob('test.fail', id);
    expect(job).toMatchObject({ state: 'retry', attempts: 2, retryLimit: 2 });
    expect(job?.output).toMatchObject({ name: 'Error', message: 'card declined for ada@example.com' });
  });

  it('dead-letters at once on an unrecoverable error', async () => {
    const id = (await queue.send(database.db, 'test.fail', { message: 'no such booking', unrecoverable: true }))!;
    await worker();
    await waitFor(async () => (await jobState(database.db, id))?.state === 'failed', { what: 'the failure' });
    expect((await queue.getJob('test.fail', id))?.attempts).toBe(1);
    const { rows: deadLetters } = await sql<{ data: unknown; output: unknown }>`
      select data, output from pgboss.job where name = 'test.fail.dead' and state = 'created'`.execute(database.db);
    expect(deadLetters).toMatchObject([
      { data: { message: 'no such booking', unrecoverable: true }, output: { message: 'no such booking' } },
    ]);
  });

  it('retries a dead-lettered job under its own id without repeating its effect, and audits it', async () => {
    // Fails after its effect on attempts 1–5; the limit is 5 attempts, so it dead-letters.
    const id = (await queue.send(database.db, 'test.effect', { n: 7, failAfterEffectAttempts: 5 }))!;
    await worker();
    await waitFor(async () => (await jobState(database.db, id))?.state === 'failed', { what: 'the dead letter' });
    expect(await countJobs(database.db, 'test.effect.dead', 'created')).toBe(1);
    expect(Object.fromEntries(await effectCounts(database.db))).toEqual({ 7: 1 });

    const retried = await retryFailedJob(database.db, id, { queue, audit: SYSTEM_CONTEXT, reason: 'card updated' });
    expect(retried).toMatchObject({ id, queue: 'test.effect', previousAttempts: 5, deadLetterCancelled: true });
    expect(await countJobs(database.db, 'test.effect.dead', 'created')).toBe(0);
    await waitFor(async () => (await jobState(database.db, id))?.state === 'completed', { what: 'the retried job' });
    expect((await queue.getJob('test.effect', id))?.output).toMatchObject({ replayed: true });
    expect(Object.fromEntries(await effectCounts(database.db))).toEqual({ 7: 1 });

    const audit = await database.db.selectFrom('auditLog').selectAll().where('action', '=', 'jobs.retry').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ resourceType: 'job', resourceId: id, reason: 'card updated', metadata: { queue: 'test.effect' } });

    const again = retryFailedJob(database.db, id, { queue, audit: SYSTEM_CONTEXT });
    await expect(again).rejects.toBeInstanceOf(AppError);
    await expect(again).rejects.toMatchObject({ code: 'conflict' });
    await expect(
      retryFailedJob(database.db, '00000000-0000-4000-8000-000000000000', { queue, audit: SYSTEM_CONTEXT }),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('exactly-once effects under worker death and duplicate delivery', () => {
  it('retries a job whose worker died before its effect; the effect happens once', async () => {
    const id = (await queue.send(database.db, 'test.effect', { n: 11 }))!;
    // A worker claims the job and dies: nobody completes it.
    const [claimed] = await queue.fetch('test.effect', 1);
    expect(claimed?.id).toBe(id);
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // expireInSeconds = 2
    await queue.maintain();
    expect((await jobState(database.db, id))?.state).toBe('retry');
    await worker({ tag: 'survivor' });
    await waitFor(async () => (await jobState(database.db, id))?.state === 'completed', { what: 'the retried job' });
    expect(Object.fromEntries(await effectCounts(database.db))).toEqual({ 11: 1 });
    expect((await queue.getJob('test.effect', id))?.attempts).toBe(2);
  });

  it('retries a job whose worker died after its effect committed; the retry replays, not repeats', async () => {
    const id = (await queue.send(database.db, 'test.effect', { n: 12 }))!;
    const [claimed] = await queue.fetch('test.effect', 1);
    // The dead worker got as far as committing the effect (same key as the handler uses).
    await performEffect(database.db, { jobName: 'test.effect', jobKey: 'n12', jobId: claimed!.id, effect: 'write' }, async (trx) => {
      await sql`insert into test_effect_log (n, job_id, attempt, worker) values (12, ${claimed!.id}, 1, 'dead')`.execute(trx);
      return { wrote: 12 };
    });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await queue.maintain();
    await worker({ tag: 'survivor' });
    await waitFor(async () => (await jobState(database.db, id))?.state === 'completed', { what: 'the retried job' });
    expect((await queue.getJob('test.effect', id))?.output).toMatchObject({ replayed: true, worker: 'survivor' });
    expect(Object.fromEntries(await effectCounts(database.db))).toEqual({ 12: 1 });
  });

  it('two workers share a queue without double-processing, duplicates included (R9, in one process)', async () => {
    const total = 300;
    await database.db.transaction().execute(async (trx) => {
      for (let n = 0; n < total; n += 1) await queue.send(trx, 'test.effect', { n });
      // Duplicate delivery: 50 of them sent again as separate jobs.
      for (let n = 0; n < 50; n += 1) await queue.send(trx, 'test.effect', { n });
    });
    const a = await worker({ tag: 'a' });
    const b = await worker({ tag: 'b' });
    await waitFor(async () => (await countJobs(database.db, 'test.effect', 'completed')) === total + 50, {
      timeoutMs: 30_000,
      what: 'every job to complete',
    });
    const counts = await effectCounts(database.db);
    expect(counts.size).toBe(total);
    expect([...counts.values()].every((times) => times === 1)).toBe(true);
    expect(a.counters().jobsDone).toBeGreaterThan(0);
    expect(b.counters().jobsDone).toBeGreaterThan(0);
    expect(a.counters().jobsDone + b.counters().jobsDone).toBe(total + 50);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from job_effects where job_name = 'test.effect'`.execute(
      database.db,
    );
    expect(rows[0]?.n).toBe(total);
  });
});

describe('the worker', () => {
  it('lets a running job finish on shutdown and writes its last heartbeat', async () => {
    const running = await worker();
    const id = (await queue.send(database.db, 'test.slow', { ms: 800 }))!;
    await waitFor(async () => (await jobState(database.db, id))?.state === 'active', { what: 'the job to start' });
    const started = Date.now();
    await running.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((await jobState(database.db, id))?.state).toBe('completed');
    const [row] = (await findWorkers(database.db)).filter((candidate) => candidate.id === running.id);
    expect(row).toMatchObject({ status: 'stopped', jobsDone: 1, jobsFailed: 0, activeJobs: [] });
  });

  it('hands a job back when it outlives the shutdown timeout', async () => {
    const running = await worker({ shutdownTimeoutMs: 100 });
    const id = (await queue.send(database.db, 'test.slow', { ms: 3_000 }))!;
    await waitFor(async () => (await jobState(database.db, id))?.state === 'active', { what: 'the job to start' });
    await running.stop();
    expect((await jobState(database.db, id))?.state).toBe('retry');
  });

  it('beats while alive, with its queues, concurrency and running jobs', async () => {
    const running = await worker({ concurrency: { 'test.slow': 3 } });
    const id = (await queue.send(database.db, 'test.slow', { ms: 1_000 }))!;
    const row = await waitFor(
      async () => (await findWorkers(database.db)).find((candidate) => candidate.id === running.id && candidate.activeJobs.length === 1),
      { what: 'a heartbeat showing the running job' },
    );
    expect(row).toMatchObject({ status: 'alive', dead: false, pid: process.pid, activeJobs: [{ id, queue: 'test.slow' }] });
    expect(row.queues).toEqual(expect.arrayContaining(['test.slow', 'test.effect', 'booking.hold-expiry']));
    expect(row.concurrency['test.slow']).toBe(3);
    expect(row.heartbeatAgeSeconds).toBeLessThan(1);
  });
});
