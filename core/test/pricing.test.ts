import { truncateAll } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCoreHandlers } from '../src/jobs/handlers.ts';
import { type RunningWorker, startWorker } from '../src/jobs/start-worker.ts';
import { instructorFeeBpsFor } from '../src/pricing/index.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { auditRows } from './support/auth.ts';
import { actingUser, BOOKING_TEST_ENV, createBookableInstructor, postBooking } from './support/bookings.ts';
import { createUser } from './support/factories.ts';
import { jobState, silentLogger, waitFor } from './support/jobs.ts';
import { createPerson, forgetOfferings, insertCompletedLessons, insertLesson } from './support/payment-rows.ts';

// Tuesday 2027-06-15 08:00 in New York (EDT, UTC−4)
const NOW = '2027-06-15T12:00:00Z';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const clock = fixedClock(NOW);
const at = (msFromNow: number) => new Date(Date.parse(NOW) + msFromNow);
let api: TestApi;
let worker: RunningWorker;

beforeAll(async () => {
  api = await startTestApi({ clock, env: { ...BOOKING_TEST_ENV, BOOKINGS_CONFIRM_IMMEDIATELY: 'false' } });
  worker = await startWorker(api.database.db, {
    queue: api.deps.jobs,
    handlers: { 'pricing.evaluate-tiers': createCoreHandlers()['pricing.evaluate-tiers']! },
    clock,
    logger: silentLogger,
    pollIntervalMs: 50,
    heartbeatIntervalMs: 1_000,
  });
});
afterAll(async () => {
  await worker?.stop();
  await api?.close();
});
beforeEach(async () => {
  clock.set(NOW);
  forgetOfferings();
  await truncateAll(api.database);
});

async function instructorWith(input: { tierFeeBps?: number; tierSetAt?: Date | null; lessonEnds?: Date[] } = {}) {
  const instructor = await createPerson(api.database, 'instructor', 'Tia', 'Tier');
  await api.database.db
    .updateTable('instructorProfiles')
    .set({ tierFeeBps: input.tierFeeBps ?? 1500, tierEvaluatedAt: input.tierSetAt ?? null })
    .where('userId', '=', instructor.id)
    .execute();
  await insertCompletedLessons(api.database, instructor.id, input.lessonEnds ?? []);
  return instructor.id;
}

/** `count` lessons that ended in the last days, two hours apart, the latest one hour ago. */
const recentEnds = (count: number) => Array.from({ length: count }, (_, index) => at(-HOUR - index * 2 * HOUR));

async function profile(instructorId: string) {
  return api.database.db
    .selectFrom('instructorProfiles')
    .select(['tierFeeBps', 'tierEvaluatedAt', 'lastLessonAt', 'isFounding'])
    .where('userId', '=', instructorId)
    .executeTakeFirstOrThrow();
}

const feeFor = (instructorId: string) =>
  api.database.db.transaction().execute((trx) => instructorFeeBpsFor(trx, instructorId, clock.now()));

async function tierAudits(instructorId: string) {
  return (await auditRows(api.database, 'pricing.tier.change')).filter((row) => row.resourceId === instructorId);
}

/** Runs the scheduled job through a real worker, as the scheduler would enqueue it, and returns its output. */
async function runTierJob(): Promise<Record<string, unknown>> {
  const slot = clock.now().toISOString();
  const jobId = await api.deps.jobs.send(api.database.db, 'pricing.evaluate-tiers', { schedule: 'instructor-tier-evaluation', slot });
  expect(jobId).toBeTruthy();
  await waitFor(async () => (await jobState(api.database.db, jobId!))?.state === 'completed', { what: 'the tier evaluation job' });
  const job = await api.deps.jobs.getJob('pricing.evaluate-tiers', jobId!);
  return (job?.output ?? {}) as Record<string, unknown>;
}

describe('instructorFeeBpsFor: the rate a booking snapshots, evaluated at booking time', () => {
  it.each([
    [0, 1500],
    [1, 1500],
    [4, 1500],
    [5, 1200],
    [10, 1200],
    [11, 1000],
  ])('%i completed lessons in 30 days → %i bps, persisted; a rise is audited as the system', async (lessons, expectedBps) => {
    const id = await instructorWith({ lessonEnds: recentEnds(lessons) });
    expect(await feeFor(id)).toEqual({ feeBps: expectedBps, isFounding: false });
    const row = await profile(id);
    expect(row.tierFeeBps).toBe(expectedBps);
    expect(row.lastLessonAt).toEqual(lessons ? at(-HOUR) : null);
    const audits = await tierAudits(id);
    if (expectedBps === 1500) {
      expect(row.tierEvaluatedAt).toBeNull();
      expect(audits).toHaveLength(0);
    } else {
      expect(row.tierEvaluatedAt).toEqual(clock.now());
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({
        actorType: 'system',
        actorId: null,
        resourceType: 'instructor',
        before: { feeBps: 1500 },
        after: { feeBps: expectedBps },
        metadata: { change: 'rise', trigger: 'booking', lessonsInWindow: lessons },
      });
    }
    // evaluating again at the same instant changes nothing
    expect(await feeFor(id)).toEqual({ feeBps: expectedBps, isFounding: false });
    expect(await tierAudits(id)).toHaveLength(audits.length);
  });

  it('counts a lesson while it is younger than 30 days; cancelled, no-show and unfinished lessons never count', async () => {
    // 4 inside the window + one that ended exactly 30 days ago (out)
    const id = await instructorWith({ lessonEnds: recentEnds(4) });
    const [boundary] = await insertCompletedLessons(api.database, id, [at(-30 * DAY)]);
    const student = await createUser(api.database);
    await insertLesson(api.database, { instructorId: id, studentId: student, startsAt: at(-3 * DAY), status: 'cancelled' });
    await insertLesson(api.database, { instructorId: id, studentId: student, startsAt: at(-4 * DAY), status: 'no_show' });
    // "completed" but still running at `now`: it has not ended yet
    await insertLesson(api.database, { instructorId: id, studentId: student, startsAt: at(-30 * MINUTE), status: 'completed' });
    expect(await feeFor(id)).toEqual({ feeBps: 1500, isFounding: false });
    // the same lesson ending one minute later (30 days minus a minute ago) counts: five
    await sql`update bookings set starts_at = starts_at + interval '1 minute', ends_at = ends_at + interval '1 minute' where id = ${boundary!}`.execute(
      api.database.db,
    );
    expect(await feeFor(id)).toEqual({ feeBps: 1200, isFounding: false });
  });

  it('a booking made through the API snapshots the evaluated tier, not the stale column', async () => {
    const instructor = await createBookableInstructor(api, { days: ['2027-06-17'], hourlyRateCents: 12_000 });
    await insertCompletedLessons(api.database, instructor.instructorId, recentEnds(11));
    const student = await actingUser(api);
    const { status, body } = await postBooking(api, student.headers, {
      instructorId: instructor.instructorId,
      serviceId: instructor.serviceId,
      startsAt: '2027-06-17T15:00:00Z',
      durationMinutes: 60,
      locationType: 'online',
    });
    expect(status).toBe(201);
    // LP $120 at 10%: IF $12.00, P $108.00; SF $14.40 whatever the tier
    expect(body.price).toMatchObject({
      instructorFeeBps: 1000,
      instructorFeeCents: 1200,
      instructorPayoutCents: 10_800,
      studentFeeCents: 1440,
    });
    expect((await profile(instructor.instructorId)).tierFeeBps).toBe(1000);
    expect((await tierAudits(instructor.instructorId))[0]?.metadata).toMatchObject({ change: 'rise', trigger: 'booking' });
  });
});

describe('the daily tier evaluation job (pricing.evaluate-tiers)', () => {
  it('rises at once, drops one step after 30 days at a tier, holds in between, and audits every change', async () => {
    const busy = await instructorWith({ tierFeeBps: 1200, tierSetAt: at(-3 * DAY), lessonEnds: recentEnds(11) });
    const slowing = await instructorWith({ tierFeeBps: 1000, tierSetAt: at(-31 * DAY), lessonEnds: recentEnds(2) });
    const steady = await instructorWith({ tierFeeBps: 1200, tierSetAt: at(-60 * DAY), lessonEnds: recentEnds(7) });

    const first = await runTierJob();
    expect(first).toMatchObject({ evaluated: 3, rose: 1, dropped: 1, reset: 0, replayed: false });
    expect((await profile(busy)).tierFeeBps).toBe(1000);
    // earns 15% with 2 lessons, but drops one step only
    expect(await profile(slowing)).toMatchObject({ tierFeeBps: 1200, tierEvaluatedAt: clock.now() });
    expect(await profile(steady)).toMatchObject({ tierFeeBps: 1200, tierEvaluatedAt: at(-60 * DAY) });
    const [drop] = await tierAudits(slowing);
    expect(drop).toMatchObject({
      actorType: 'system',
      before: { feeBps: 1000 },
      after: { feeBps: 1200 },
      metadata: { change: 'drop', trigger: 'daily-evaluation', lessonsInWindow: 2, earnedFeeBps: 1500 },
    });
    expect(drop?.reason).toContain('one step');

    // the next day: still earns 15%, but 12% was set yesterday → held, nothing written
    clock.advance(DAY);
    expect(await runTierJob()).toMatchObject({ dropped: 0, held: 1 });
    expect((await profile(slowing)).tierFeeBps).toBe(1200);
    expect(await tierAudits(slowing)).toHaveLength(1);

    // 30 days after the first drop: the second step
    clock.set(at(30 * DAY));
    await runTierJob();
    expect(await profile(slowing)).toMatchObject({ tierFeeBps: 1500, tierEvaluatedAt: clock.now() });
    expect((await tierAudits(slowing)).map((row) => (row.after as { feeBps: number }).feeBps)).toEqual([1200, 1500]);
  });

  it('resets to the entry tier at exactly 90 days without a lesson, not a minute before', async () => {
    const idle90 = await instructorWith({ tierFeeBps: 1000, tierSetAt: at(-10 * DAY), lessonEnds: [at(-90 * DAY)] });
    const idleAlmost = await instructorWith({ tierFeeBps: 1000, tierSetAt: at(-10 * DAY), lessonEnds: [at(-90 * DAY + MINUTE)] });
    const output = await runTierJob();
    expect(output).toMatchObject({ reset: 1, held: 1 });
    expect(await profile(idle90)).toMatchObject({ tierFeeBps: 1500, lastLessonAt: at(-90 * DAY) });
    expect(await profile(idleAlmost)).toMatchObject({ tierFeeBps: 1000 });
    expect((await tierAudits(idle90))[0]?.metadata).toMatchObject({ change: 'reset', trigger: 'daily-evaluation' });
  });

  it('never touches founding instructors: 8% for life, whatever the lessons or idle time', async () => {
    const founder = await instructorWith({ tierFeeBps: 800, tierSetAt: at(-400 * DAY), lessonEnds: [at(-200 * DAY)] });
    await api.database.db
      .updateTable('instructorProfiles')
      .set({ isFounding: true, foundingNumber: 7, foundingGrantedAt: at(-400 * DAY) })
      .where('userId', '=', founder)
      .execute();
    const busyFounder = await instructorWith({ tierFeeBps: 800, lessonEnds: recentEnds(12) });
    await api.database.db
      .updateTable('instructorProfiles')
      .set({ isFounding: true, foundingNumber: 8, foundingGrantedAt: at(-400 * DAY) })
      .where('userId', '=', busyFounder)
      .execute();

    expect(await runTierJob()).toMatchObject({ evaluated: 0 });
    expect(await feeFor(founder)).toEqual({ feeBps: 800, isFounding: true });
    expect(await feeFor(busyFounder)).toEqual({ feeBps: 800, isFounding: true });
    expect(await profile(founder)).toMatchObject({ tierFeeBps: 800, tierEvaluatedAt: at(-400 * DAY) });
    expect(await auditRows(api.database, 'pricing.tier.change')).toHaveLength(0);
  });

  it('is on the schedule list, daily', async () => {
    const { SCHEDULES } = await import('../src/jobs/schedules.ts');
    expect(SCHEDULES.find((schedule) => schedule.job === 'pricing.evaluate-tiers')).toMatchObject({
      name: 'instructor-tier-evaluation',
      cron: '10 5 * * *',
    });
  });
});
