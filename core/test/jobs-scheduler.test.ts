import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobQueue } from '../src/jobs/queue.ts';
import { findScheduleStatus, registerSchedules, runSchedulerTick, type SchedulerOptions, startScheduler } from '../src/jobs/scheduler.ts';
import { SCHEDULES, type ScheduleDefinition } from '../src/jobs/schedules.ts';
import type { RunningWorker } from '../src/jobs/start-worker.ts';
import { fixedClock } from '../src/shared/clock.ts';
import {
  countJobs,
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
const workers: RunningWorker[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  queue = await startTestQueue(database);
});
afterAll(async () => {
  await queue?.stop();
  await database?.cleanup();
});
beforeEach(async () => {
  await resetJobs(database.db);
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((running) => running.stop()));
});

const CORE_RUNNABLE = new Set(['booking.hold-expiry', 'booking.hold-expiry-sweep']);
const TICKS: ScheduleDefinition[] = [{ name: 'test-ticks', cron: '* * * * *', job: 'test.tick', description: 'every minute' }];

function schedulerOptions(
  clock: ReturnType<typeof fixedClock>,
  overrides: Partial<SchedulerOptions<TestJobs>> = {},
): SchedulerOptions<TestJobs> {
  return { queue, clock, logger: silentLogger, runnableJobs: CORE_RUNNABLE, sampleQueueDepths: false, ...overrides };
}

async function scheduleRow(name: string) {
  return database.db.selectFrom('jobSchedules').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
}

describe('the schedule table drives real runs', () => {
  it('enqueues each slot once as the clock advances, runs it, and records outcome, next run and missed runs', async () => {
    const clock = fixedClock('2026-03-02T10:00:30Z');
    const options = schedulerOptions(clock);
    await registerSchedules(database.db, options);
    // A new schedule starts from the current slot: nothing to catch up on.
    expect(await runSchedulerTick(database.db, options)).toEqual([]);

    const bookingId = await createHeldBooking(database, {
      holdExpiresAt: new Date('2026-03-02T10:00:45Z'),
      startsAt: new Date('2026-03-09T15:00:00Z'),
    });
    workers.push(await startTestWorker(database, queue, { clock }));

    clock.set('2026-03-02T10:01:05Z');
    const first = await runSchedulerTick(database.db, options);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ schedule: 'hold-expiry-sweep', slot: new Date('2026-03-02T10:01:00Z'), missed: 0 });
    expect(await runSchedulerTick(database.db, options)).toEqual([]);

    await waitFor(async () => (await scheduleRow('hold-expiry-sweep')).lastOutcome === 'success', { what: 'the sweep to run' });
    const booking = await database.db.selectFrom('bookings').selectAll().where('id', '=', bookingId).executeTakeFirstOrThrow();
    expect(booking).toMatchObject({ status: 'cancelled', cancelledBy: 'system', cancellationReason: 'hold_expired' });
    expect(await database.db.selectFrom('bookingEvents').select('type').where('bookingId', '=', bookingId).execute()).toEqual([
      { type: 'hold_expired' },
    ]);
    expect(await scheduleRow('hold-expiry-sweep')).toMatchObject({
      lastSlotAt: new Date('2026-03-02T10:01:00Z'),
      lastRunAt: new Date('2026-03-02T10:01:05Z'),
      nextRunAt: new Date('2026-03-02T10:02:00Z'),
      lastJobId: first[0]!.jobId,
      missedRuns: 0,
      lastError: null,
    });

    // The scheduler was away for three slots: they are counted, and only the latest runs.
    clock.set('2026-03-02T10:05:10Z');
    const late = await runSchedulerTick(database.db, options);
    expect(late).toMatchObject([{ schedule: 'hold-expiry-sweep', slot: new Date('2026-03-02T10:05:00Z'), missed: 3 }]);
    await waitFor(async () => (await jobState(database.db, late[0]!.jobId!))?.state === 'completed', { what: 'the second run' });

    const statuses = await findScheduleStatus(database.db, { clock });
    expect(statuses.map((status) => status.name)).toEqual(SCHEDULES.map((schedule) => schedule.name));
    expect(statuses.find((status) => status.name === 'hold-expiry-sweep')).toMatchObject({
      enabled: true,
      registered: true,
      lastOutcome: 'success',
      missedRuns: 3,
      nextRunAt: new Date('2026-03-02T10:06:00Z'),
      lastJobState: 'completed',
      late: false,
    });
    expect(statuses.find((status) => status.name === 'payment-capture-sweep')).toMatchObject({
      enabled: false,
      disabledReason: 'no worker handles payments.capture-sweep yet',
      lastRunAt: null,
    });
    expect(await countJobs(database.db, 'payments.capture-sweep')).toBe(0);

    // No scheduler for over two minutes past the next slot: the status says so.
    clock.set('2026-03-02T10:09:00Z');
    expect((await findScheduleStatus(database.db, { clock })).find((status) => status.name === 'hold-expiry-sweep')?.late).toBe(true);
  });

  it('records failures with their error', async () => {
    const clock = fixedClock('2026-03-02T10:00:30Z');
    const options = schedulerOptions(clock, { schedules: TICKS, runnableJobs: new Set(['test.tick']) });
    await registerSchedules(database.db, options);
    workers.push(await startTestWorker(database, queue, { clock }));
    clock.set('2026-03-02T10:01:01Z');
    await runSchedulerTick(database.db, options);
    await waitFor(async () => (await scheduleRow('test-ticks')).lastOutcome === 'failure', { what: 'the failed run' });
    expect((await scheduleRow('test-ticks')).lastError).toBe('odd slot 2026-03-02T10:01:00.000Z');
    clock.set('2026-03-02T10:02:01Z');
    await runSchedulerTick(database.db, options);
    await waitFor(async () => (await scheduleRow('test-ticks')).lastOutcome === 'success', { what: 'the next run' });
    expect((await scheduleRow('test-ticks')).lastError).toBeNull();
  });

  it('folds a backlog into the waiting run and counts the folded slots as missed', async () => {
    const clock = fixedClock('2026-03-02T10:00:30Z');
    const options = schedulerOptions(clock, { schedules: TICKS, runnableJobs: new Set(['test.tick']) });
    await registerSchedules(database.db, options);
    clock.set('2026-03-02T10:01:01Z');
    const [first] = await runSchedulerTick(database.db, options);
    clock.set('2026-03-02T10:02:01Z');
    const [second] = await runSchedulerTick(database.db, options);
    expect(first?.jobId).toBeTruthy();
    expect(second).toMatchObject({ jobId: null, missed: 1 });
    expect(await countJobs(database.db, 'test.tick')).toBe(1);
    expect((await scheduleRow('test-ticks')).missedRuns).toBe(1);
  });

  it('never lets two schedulers enqueue the same slot', async () => {
    const clock = fixedClock('2026-03-02T10:00:30Z');
    const options = schedulerOptions(clock, { schedules: TICKS, runnableJobs: new Set(['test.tick']) });
    await registerSchedules(database.db, options);
    workers.push(await startTestWorker(database, queue, { clock }));
    const claims: string[] = [];
    for (let minute = 1; minute <= 5; minute += 1) {
      clock.set(new Date(Date.parse('2026-03-02T10:00:05Z') + minute * 60_000));
      const results = await Promise.all([
        runSchedulerTick(database.db, options),
        runSchedulerTick(database.db, options),
        runSchedulerTick(database.db, options),
      ]);
      for (const result of results.flat()) claims.push(result.slot.toISOString());
      // Let the run finish so the next slot is not folded into it.
      await waitFor(
        async () => (await countJobs(database.db, 'test.tick', 'created')) + (await countJobs(database.db, 'test.tick', 'active')) === 0,
        {
          what: 'the run to finish',
        },
      );
    }
    expect(claims).toHaveLength(5);
    expect(new Set(claims).size).toBe(5);
    const { rows } = await sql<{
      slots: number;
    }>`select count(distinct data->>'slot')::int as slots from pgboss.job where name = 'test.tick'`.execute(database.db);
    expect(rows[0]?.slots).toBe(5);
    expect(await countJobs(database.db, 'test.tick')).toBe(5);
  });

  it('ticks on its own timer and stops cleanly', async () => {
    const clock = fixedClock('2026-03-02T10:00:30Z');
    const scheduler = await startScheduler(
      database.db,
      schedulerOptions(clock, { schedules: TICKS, runnableJobs: new Set(['test.tick']), tickMs: 50 }),
    );
    clock.set('2026-03-02T10:01:01Z');
    await waitFor(async () => (await countJobs(database.db, 'test.tick')) === 1, { what: 'the timer to enqueue' });
    await scheduler.stop();
    clock.set('2026-03-02T10:03:01Z');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await countJobs(database.db, 'test.tick')).toBe(1);
  });
});

describe('hold expiry, end to end', () => {
  it('releases a hold when its per-booking job comes due, once', async () => {
    workers.push(await startTestWorker(database, queue));
    const holdExpiresAt = new Date(Date.now() + 1_000);
    const startsAt = new Date(Date.now() + 7 * 86_400_000);
    let bookingId = '';
    let jobId: string | null = null;
    await database.db.transaction().execute(async (trx) => {
      // The booking and its expiry job commit together.
      bookingId = await createHeldBooking(trx, { holdExpiresAt, startsAt });
      jobId = await queue.schedule(trx, 'booking.hold-expiry', { bookingId }, holdExpiresAt);
    });
    expect(jobId).toBeTruthy();
    // Due in a second, not before.
    expect((await database.db.selectFrom('bookings').select('status').where('id', '=', bookingId).executeTakeFirstOrThrow()).status).toBe(
      'pending_payment',
    );
    await waitFor(async () => (await jobState(database.db, jobId!))?.state === 'completed', {
      what: 'the hold-expiry job',
      timeoutMs: 10_000,
    });
    const booking = await database.db.selectFrom('bookings').selectAll().where('id', '=', bookingId).executeTakeFirstOrThrow();
    expect(booking).toMatchObject({ status: 'cancelled', cancelledBy: 'system', cancellationReason: 'hold_expired' });
    expect(booking.cancelledAt!.getTime()).toBeGreaterThanOrEqual(holdExpiresAt.getTime());
    expect((await queue.getJob('booking.hold-expiry', jobId!))?.output).toMatchObject({
      outcome: 'released',
      released: [bookingId],
      replayed: false,
    });
    const effects = await database.db.selectFrom('jobEffects').selectAll().execute();
    expect(effects).toMatchObject([
      { key: `booking.hold-expiry:${bookingId}:release`, jobId, effect: 'release', result: { released: [bookingId] } },
    ]);

    // A duplicate job for the same booking later changes nothing.
    const duplicate = await queue.send(database.db, 'booking.hold-expiry', { bookingId });
    await waitFor(async () => (await jobState(database.db, duplicate!))?.state === 'completed', { what: 'the duplicate' });
    expect((await queue.getJob('booking.hold-expiry', duplicate!))?.output).toMatchObject({ outcome: 'not_pending' });
    expect(await database.db.selectFrom('bookingEvents').select('type').where('bookingId', '=', bookingId).execute()).toHaveLength(1);
  });

  it('leaves a booking confirmed in time alone, and follows an extended hold', async () => {
    workers.push(await startTestWorker(database, queue));
    const soon = new Date(Date.now() + 300);
    const confirmed = await createHeldBooking(database, { holdExpiresAt: soon, startsAt: new Date(Date.now() + 8 * 86_400_000) });
    const extended = await createHeldBooking(database, { holdExpiresAt: soon, startsAt: new Date(Date.now() + 9 * 86_400_000) });
    const confirmedJob = await queue.schedule(database.db, 'booking.hold-expiry', { bookingId: confirmed }, soon);
    const extendedJob = await queue.schedule(database.db, 'booking.hold-expiry', { bookingId: extended }, soon);
    await database.db.updateTable('bookings').set({ status: 'confirmed', confirmedAt: new Date() }).where('id', '=', confirmed).execute();
    const newExpiry = new Date(Date.now() + 1_500);
    await database.db.updateTable('bookings').set({ holdExpiresAt: newExpiry }).where('id', '=', extended).execute();

    await waitFor(async () => (await jobState(database.db, confirmedJob!))?.state === 'completed', { what: 'the confirmed booking job' });
    expect((await queue.getJob('booking.hold-expiry', confirmedJob!))?.output).toMatchObject({ outcome: 'not_pending' });
    await waitFor(async () => (await jobState(database.db, extendedJob!))?.state === 'completed', { what: 'the extended booking job' });
    expect((await queue.getJob('booking.hold-expiry', extendedJob!))?.output).toMatchObject({ outcome: 'rescheduled' });
    await waitFor(
      async () =>
        (await database.db.selectFrom('bookings').select('status').where('id', '=', extended).executeTakeFirstOrThrow()).status ===
        'cancelled',
      { what: 'the extended hold to be released at its new expiry', timeoutMs: 10_000 },
    );
    expect((await database.db.selectFrom('bookings').select('status').where('id', '=', confirmed).executeTakeFirstOrThrow()).status).toBe(
      'confirmed',
    );
    expect(await countJobs(database.db, 'booking.hold-expiry', 'completed')).toBe(3);
  });
});
