import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJobObserverMetrics } from '../src/jobs/metrics.ts';
import type { JobQueue } from '../src/jobs/queue.ts';
import { sampleQueueDepths } from '../src/jobs/queue-depth.ts';
import { registerSchedules } from '../src/jobs/scheduler.ts';
import { SCHEDULES } from '../src/jobs/schedules.ts';
import type { RunningWorker } from '../src/jobs/start-worker.ts';
import { systemClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { loginAs, NO_RATE_LIMITS_ENV, type SignedIn } from './support/auth.ts';
import {
  countJobs,
  createEffectLog,
  createHeldBooking,
  jobState,
  resetJobs,
  silentLogger,
  startTestQueue,
  startTestWorker,
  type TestJobs,
  waitFor,
} from './support/jobs.ts';

let database: TestDatabase;
let queue: JobQueue<TestJobs>;
let api: TestApi;
let admin: SignedIn;
let worker: RunningWorker | undefined;

const METRICS_TOKEN = 'jobs-monitoring-test-token-0123456789';

beforeAll(async () => {
  database = await createTestDatabase();
  queue = await startTestQueue(database);
  await createEffectLog(database.db);
  api = await startTestApi({ database, jobs: queue as unknown as JobQueue, redisUrl: null, env: { ...NO_RATE_LIMITS_ENV, METRICS_TOKEN } });
});
afterAll(async () => {
  await worker?.stop();
  await api?.close();
  await queue?.stop();
  await database?.cleanup();
});
beforeEach(async () => {
  await resetJobs(database.db, ['test_effect_log', 'audit_log', 'bookings']);
  admin = await loginAs(api, 'admin');
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});

async function get(path: string, headers = admin.headers) {
  return api.request(`/api/v1/admin/jobs${path}`, { headers });
}

async function failedJob(message: string, extra: { customerEmail?: string } = {}): Promise<string> {
  const id = (await queue.send(database.db, 'test.fail', { message, unrecoverable: true, ...extra }))!;
  await waitFor(async () => (await jobState(database.db, id))?.state === 'failed', { what: `${message} to fail` });
  return id;
}

describe('access', () => {
  it('needs monitoring:access to look and jobs:retry to retry', async () => {
    expect((await get('/workers', {})).status).toBe(401);
    const student = await loginAs(api, 'student');
    for (const path of ['/workers', '/queues', '/active', '/failed', '/history', '/schedules', '/payment-health']) {
      const response = await get(path, student.headers);
      expect(response.status, path).toBe(403);
      expect(response.body.code).toBe('forbidden');
    }
    const retry = await api.request('/api/v1/admin/jobs/failed/00000000-0000-4000-8000-000000000000/retry', {
      method: 'POST',
      json: {},
      headers: student.headers,
    });
    expect(retry.status).toBe(403);
  });
});

describe('monitoring a running worker', () => {
  it('shows workers with heartbeat age, and flags a worker that stopped beating as dead', async () => {
    worker = await startTestWorker(database, queue, { tag: 'monitored' });
    // A worker that crashed a while ago: registered, beat, then nothing.
    await database.db
      .insertInto('workerHeartbeats')
      .values({
        id: 'crashed-1',
        host: 'elsewhere',
        pid: 4242,
        queues: ['test.effect'],
        heartbeatIntervalMs: 1_000,
        lastBeatAt: sql<Date>`now() - interval '10 seconds'`,
      })
      .execute();
    const { status, body } = await get('/workers');
    expect(status).toBe(200);
    expect(body.summary).toEqual({ alive: 1, dead: 1, stopped: 0 });
    expect(body.workers[0]).toMatchObject({ id: worker.id, status: 'alive', dead: false, pid: process.pid });
    expect(body.workers[0].heartbeatAgeSeconds).toBeLessThan(1);
    expect(body.workers[1]).toMatchObject({ id: 'crashed-1', status: 'dead', dead: true, host: 'elsewhere' });
    expect(body.workers[1].heartbeatAgeSeconds).toBeGreaterThanOrEqual(10);

    await worker.stop();
    const after = await get('/workers');
    expect(after.body.summary).toEqual({ alive: 0, dead: 1, stopped: 1 });
    worker = undefined;
  });

  it('shows queue depth, lag, dead letters and the trend; active jobs with their worker', async () => {
    worker = await startTestWorker(database, queue, { observer: createJobObserverMetrics(api.deps.metrics.registry) });
    for (let n = 0; n < 5; n += 1) await queue.send(database.db, 'test.effect', { n });
    await waitFor(async () => (await countJobs(database.db, 'test.effect', 'completed')) === 5, { what: 'five jobs' });
    await failedJob('no such booking');
    await queue.schedule(database.db, 'test.effect', { n: 99 }, new Date(Date.now() + 3_600_000));
    const slow = (await queue.send(database.db, 'test.slow', { ms: 2_500 }))!;
    await waitFor(async () => (await jobState(database.db, slow))?.state === 'active', { what: 'the slow job to start' });
    expect(await sampleQueueDepths(database.db)).toBeGreaterThan(0);

    const queues = (await get('/queues')).body.queues as Array<Record<string, any>>;
    const byName = Object.fromEntries(queues.map((item) => [item.queue, item]));
    expect(Object.keys(byName)).toEqual(
      expect.arrayContaining(['test.effect', 'test.fail', 'booking.hold-expiry', 'payments.capture-sweep']),
    );
    expect(Object.keys(byName).some((name) => name.endsWith('.dead'))).toBe(false);
    expect(byName['test.effect']).toMatchObject({
      queued: 0,
      scheduled: 1,
      active: 0,
      completedLastHour: 5,
      deadLetters: 0,
      oldestQueuedSeconds: null,
    });
    expect(byName['test.fail']).toMatchObject({ failed: 1, deadLetters: 1 });
    expect(byName['test.slow']).toMatchObject({ active: 1 });
    expect(byName['test.slow'].trend).toHaveLength(1);
    expect(byName['test.slow'].trend[0]).toMatchObject({ active: 1 });

    // Which worker runs a job is known from its next heartbeat (every 200 ms here).
    const active = await waitFor(
      async () => {
        const response = await get('/active');
        return response.body.items[0]?.workerId ? response : undefined;
      },
      { what: 'a heartbeat naming the running job' },
    );
    expect(active.body.items).toHaveLength(1);
    expect(active.body.items[0]).toMatchObject({
      id: slow,
      queue: 'test.slow',
      state: 'active',
      attempts: 1,
      workerId: worker.id,
      payload: { ms: 2_500 },
    });
    expect(active.body.items[0].expiresInSeconds).toBeGreaterThan(20);

    // Prometheus: state gauges read from the database, outcomes counted by the in-process worker.
    const scrape = await api.request('/api/v1/metrics/prometheus', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain('jobs_queue_depth{queue="test.slow",state="active"} 1');
    expect(scrape.body).toContain('jobs_queue_depth{queue="test.fail",state="dead_letter"} 1');
    expect(scrape.body).toContain('job_workers{status="alive"} 1');
    expect(scrape.body).toContain('jobs_processed_total{queue="test.effect",outcome="success"} 5');
    expect(scrape.body).toContain('jobs_processed_total{queue="test.fail",outcome="dead"} 1');
    expect(scrape.body).toMatch(/job_duration_seconds_count\{queue="test.effect",outcome="success"\} 5/);
  });

  it('lists failed jobs with error and redacted payload, page by page, and retries one (audited)', async () => {
    worker = await startTestWorker(database, queue);
    const first = await failedJob('card declined for ada@example.com', { customerEmail: 'ada@example.com' });
    const second = await failedJob('second failure');
    const third = await failedJob('third failure');

    const page1 = await get('/failed?limit=2');
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((item: { id: string }) => item.id)).toEqual([third, second]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await get(`/failed?limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items.map((item: { id: string }) => item.id)).toEqual([first]);
    expect(page2.body.nextCursor).toBeNull();
    expect(page2.body.items[0]).toMatchObject({
      queue: 'test.fail',
      state: 'failed',
      attempts: 1,
      error: { name: 'UnrecoverableJobError', message: 'card declined for a***@example.com', code: null },
      payload: { message: '[redacted]', customerEmail: '[redacted]', unrecoverable: true },
    });
    expect((await get('/failed?queue=test.effect')).body.items).toEqual([]);
    expect((await get('/failed?queue=Bad Queue')).status).toBe(422);
    expect((await get('/failed?cursor=nonsense')).status).toBe(422);

    const retried = await api.request(`/api/v1/admin/jobs/failed/${second}/retry`, {
      method: 'POST',
      json: { reason: 'booking restored' },
      headers: admin.headers,
    });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: second, queue: 'test.fail', state: 'retry', previousAttempts: 1, deadLetterCancelled: true });
    const audit = await database.db.selectFrom('auditLog').selectAll().where('action', '=', 'jobs.retry').execute();
    expect(audit).toMatchObject([
      { id: retried.body.auditId, actorType: 'user', actorId: admin.userId, resourceId: second, reason: 'booking restored' },
    ]);
    // It ran again (and, being unrecoverable, failed again): one more attempt under the same id.
    await waitFor(
      async () => (await queue.getJob('test.fail', second))?.attempts === 2 && (await jobState(database.db, second))?.state === 'failed',
      {
        what: 'the retried attempt',
      },
    );

    const running = (await queue.send(database.db, 'test.slow', { ms: 10 }))!;
    await waitFor(async () => (await jobState(database.db, running))?.state === 'completed', { what: 'a completed job' });
    const notFailed = await api.request(`/api/v1/admin/jobs/failed/${running}/retry`, { method: 'POST', json: {}, headers: admin.headers });
    expect(notFailed.status).toBe(409);
    expect(notFailed.body.detail).toBe('Only failed jobs can be retried; this one is completed.');
    const unknown = await api.request('/api/v1/admin/jobs/failed/00000000-0000-4000-8000-000000000000/retry', {
      method: 'POST',
      json: {},
      headers: admin.headers,
    });
    expect(unknown.status).toBe(404);
    const malformed = await api.request('/api/v1/admin/jobs/failed/not-a-uuid/retry', { method: 'POST', json: {}, headers: admin.headers });
    expect(malformed.status).toBe(422);
  });

  it('shows job history with filters, and one job with the effects it recorded', async () => {
    worker = await startTestWorker(database, queue);
    const ids: string[] = [];
    for (let n = 0; n < 3; n += 1) {
      ids.push((await queue.send(database.db, 'test.effect', { n }))!);
      // History is newest first by creation time, then by (random) job id. PGlite's clock ticks in
      // milliseconds, so two sends in one tick would tie: keep the three creation times apart.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await waitFor(async () => (await countJobs(database.db, 'test.effect', 'completed')) === 3, { what: 'three jobs' });
    await failedJob('boom');

    const all = await get('/history?limit=100');
    expect(all.body.items.map((item: { queue: string }) => item.queue)).toEqual([
      'test.fail.dead',
      'test.fail',
      'test.effect',
      'test.effect',
      'test.effect',
    ]);
    const completed = await get('/history?queue=test.effect&state=completed&limit=2');
    expect(completed.body.items.map((item: { id: string }) => item.id)).toEqual([ids[2], ids[1]]);
    const rest = await get(`/history?queue=test.effect&state=completed&limit=2&cursor=${completed.body.nextCursor}`);
    expect(rest.body.items.map((item: { id: string }) => item.id)).toEqual([ids[0]]);
    expect((await get(`/history?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.items).toEqual([]);
    expect((await get('/history?state=exploded')).status).toBe(422);

    const detail = await get(`/history/${ids[1]}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: ids[1],
      state: 'completed',
      output: { replayed: false },
      deadLetterQueue: 'test.effect.dead',
      effects: [{ key: 'test.effect:n1:write', effect: 'write', result: { wrote: 1 } }],
    });
    expect(detail.body.durationMs).toBeGreaterThanOrEqual(0);
    expect((await get('/history/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('shows every schedule with its state', async () => {
    await registerSchedules(database.db, {
      queue,
      clock: systemClock,
      logger: silentLogger,
      runnableJobs: new Set(['booking.hold-expiry-sweep', 'booking.hold-expiry']),
    });
    const { status, body } = await get('/schedules');
    expect(status).toBe(200);
    // every declared schedule (domains add theirs to schedules.ts)
    expect(body.schedules).toHaveLength(SCHEDULES.length);
    expect(body.schedules.map((schedule: { name: string }) => schedule.name)).toEqual(
      expect.arrayContaining([
        'hold-expiry-sweep',
        'payment-authorization-sweep',
        'payment-capture-sweep',
        'referral-unlocker',
        'stripe-reconciliation',
      ]),
    );
    expect(body.schedules.find((schedule: { name: string }) => schedule.name === 'hold-expiry-sweep')).toMatchObject({
      registered: true,
      enabled: true,
      cron: '* * * * *',
      missedRuns: 0,
      lastRunAt: null,
      late: false,
    });
    expect(body.schedules.find((schedule: { name: string }) => schedule.name === 'data-retention')).toMatchObject({
      enabled: false,
      disabledReason: 'no worker handles retention.data-purge yet',
    });
  });

  it('summarizes the payment pipeline from bookings and payment jobs', async () => {
    const now = Date.now();
    const hours = (count: number) => count * 3_600_000;
    // Authorization at T−24h: one overdue (T−24h was 30 min ago), one due within the hour, one failing.
    await createHeldBooking(database, { holdExpiresAt: null, status: 'confirmed', startsAt: new Date(now + hours(24) - 30 * 60_000) });
    await createHeldBooking(database, { holdExpiresAt: null, status: 'confirmed', startsAt: new Date(now + hours(24) + 20 * 60_000) });
    await createHeldBooking(database, {
      holdExpiresAt: null,
      status: 'confirmed',
      paymentStatus: 'payment_method_required',
      startsAt: new Date(now + hours(20)),
    });
    // Capture at end + 24h: this lesson ended 26 h ago (start 27 h ago): overdue by 2 h.
    await createHeldBooking(database, {
      holdExpiresAt: null,
      status: 'completed',
      paymentStatus: 'authorized',
      startsAt: new Date(now - hours(27)),
    });
    await createHeldBooking(database, {
      holdExpiresAt: null,
      status: 'confirmed',
      paymentStatus: 'manual_review',
      startsAt: new Date(now - hours(50)),
    });
    // A hold that expired ten minutes ago and was never released.
    const stuck = await createHeldBooking(database, { holdExpiresAt: new Date(now - 10 * 60_000), startsAt: new Date(now + hours(72)) });

    const { status, body } = await get('/payment-health');
    expect(status).toBe(200);
    expect(body.status).toBe('attention');
    expect(body.authorizations).toMatchObject({ due: 1, overdue: 1, failing: 1 });
    expect(Date.parse(body.authorizations.oldestOverdueAt)).toBeCloseTo(now - 30 * 60_000, -4);
    expect(body.captures).toMatchObject({ due: 0, overdue: 1, failing: 1 });
    expect(body.stuckBookings).toMatchObject({ count: 2, holdNotReleased: 1, notCompleted: 1 });
    expect(body.stuckBookings.sample.map((item: { bookingId: string; reason: string }) => item.reason)).toEqual([
      'not_completed',
      'hold_not_released',
    ]);
    expect(body.stuckBookings.sample[1].bookingId).toBe(stuck);
    expect(body.jobs).toEqual({ failedLast24h: 0, retrying: 0, deadLetters: 0 });
  });
});
