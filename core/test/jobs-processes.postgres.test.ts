import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobQueue } from '../src/jobs/queue.ts';
import { findWorkers } from '../src/jobs/worker-heartbeats.ts';
import {
  countJobs,
  createEffectLog,
  effectCounts,
  jobState,
  spawnWorkerChild,
  startTestQueue,
  type TestJobs,
  waitFor,
  type WorkerChild,
} from './support/jobs.ts';

// Real worker processes killed with SIGKILL. A PGlite database lives inside one process, so this
// file (*.postgres.test.ts) is only collected when DATABASE_URL is set (core/vitest.config.ts; CI
// runs the suite that way too); jobs-queue.test.ts covers the same guarantees in one process on
// both engines.
describe('worker processes on PostgreSQL', () => {
  let database: TestDatabase;
  let queue: JobQueue<TestJobs>;
  const children: WorkerChild[] = [];

  function spawn(tag: string, env: Record<string, string> = {}): WorkerChild {
    const child = spawnWorkerChild(database.url!, tag, env);
    children.push(child);
    return child;
  }

  async function workerLog(n: number): Promise<Array<{ worker: string; attempt: number }>> {
    const { rows } = await sql<{ worker: string; attempt: number }>`select worker, attempt from test_effect_log where n = ${n}`.execute(
      database.db,
    );
    return rows;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    queue = await startTestQueue(database);
    await createEffectLog(database.db);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
  });
  afterAll(async () => {
    await queue?.stop();
    await database?.cleanup();
  });

  it('runs a job exactly once when its worker is SIGKILLed before the effect and another takes over', async () => {
    const first = spawn('first');
    const firstId = await first.workerId;
    const id = (await queue.send(database.db, 'test.effect', { n: 1, pauseBeforeEffectMs: 10_000 }))!;
    await first.waitForLine(/^CHECKPOINT before-effect 1$/);
    await first.kill('SIGKILL');
    expect((await jobState(database.db, id))?.state).toBe('active');

    const second = spawn('second');
    await second.workerId;
    // expireInSeconds 2 + maintenance every second, then an immediate retry.
    await waitFor(async () => (await jobState(database.db, id))?.state === 'completed', { timeoutMs: 15_000, what: 'the job to complete' });
    expect(await workerLog(1)).toEqual([{ worker: 'second', attempt: 2 }]);
    const workers = await waitFor(
      async () => {
        const seen = await findWorkers(database.db);
        return seen.find((worker) => worker.id === firstId)?.dead ? seen : undefined;
      },
      { what: 'the killed worker to be reported dead' },
    );
    expect(workers.find((worker) => worker.id === firstId)).toMatchObject({ status: 'dead', stoppedAt: null });
  });

  it('does not repeat an effect when the worker is SIGKILLed after the effect committed but before the job completed', async () => {
    const worker = spawn('third');
    await worker.workerId;
    const id = (await queue.send(database.db, 'test.effect', { n: 2, pauseAfterEffectMs: 10_000 }))!;
    await worker.waitForLine(/^CHECKPOINT after-effect 2$/);
    await worker.kill('SIGKILL');
    expect((await jobState(database.db, id))?.state).toBe('active');
    expect(await workerLog(2)).toHaveLength(1);

    const survivor = spawn('fourth');
    await survivor.workerId;
    await waitFor(async () => (await jobState(database.db, id))?.state === 'completed', {
      timeoutMs: 15_000,
      what: 'the retry by the surviving worker',
    });
    expect(await workerLog(2)).toEqual([{ worker: 'third', attempt: 1 }]);
    expect((await queue.getJob('test.effect', id))?.output).toMatchObject({ replayed: true });
    expect((await queue.getJob('test.effect', id))?.attempts).toBe(2);
  });

  it('R9: two worker processes share 1,000 jobs plus duplicates, one SIGKILLed mid-batch; every effect happens exactly once', async () => {
    const total = 1_000;
    const duplicates = 100;
    const p = spawn('p', { TEST_WORKER_CONCURRENCY: '10' });
    const q = spawn('q', { TEST_WORKER_CONCURRENCY: '10' });
    await Promise.all([p.workerId, q.workerId]);
    await database.db.transaction().execute(async (trx) => {
      for (let n = 1_000; n < 1_000 + total; n += 1) await queue.send(trx, 'test.effect', { n, workMs: 5 });
      for (let n = 1_000; n < 1_000 + duplicates; n += 1) await queue.send(trx, 'test.effect', { n, workMs: 5 });
    });
    await waitFor(
      async () => {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from test_effect_log where worker = 'p'`.execute(database.db);
        return (rows[0]?.n ?? 0) >= 150;
      },
      { timeoutMs: 20_000, what: 'p to be mid-batch' },
    );
    await p.kill('SIGKILL');
    const restarted = spawn('p2', { TEST_WORKER_CONCURRENCY: '10' });
    await restarted.workerId;

    await waitFor(async () => (await countJobs(database.db, 'test.effect', 'completed')) >= total + duplicates + 2, {
      timeoutMs: 45_000,
      intervalMs: 250,
      what: 'every job to complete',
    });
    const counts = await effectCounts(database.db);
    const batch = [...counts.entries()].filter(([n]) => n >= 1_000);
    expect(batch).toHaveLength(total);
    expect(batch.filter(([, times]) => times !== 1)).toEqual([]);
    const { rows: byWorker } = await sql<{ worker: string; n: number }>`
      select worker, count(*)::int as n from test_effect_log where n >= 1000 group by worker order by worker`.execute(database.db);
    expect(byWorker.map((row) => row.worker)).toEqual(expect.arrayContaining(['p', 'q']));
    expect(await countJobs(database.db, 'test.effect.dead')).toBe(0);
    expect(await countJobs(database.db, 'test.effect', 'failed')).toBe(0);
    const { rows: effects } = await sql<{
      n: number;
    }>`select count(*)::int as n from job_effects where key ~ '^test\.effect:n1[0-9]{3}:'`.execute(database.db);
    expect(effects[0]?.n).toBe(total);
  }, 90_000);
});
