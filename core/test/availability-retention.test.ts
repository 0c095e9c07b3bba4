import { newId } from '@instainstru/db';
import { createTestDatabase, type TestDatabase, truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pruneAvailability } from '../src/availability/prune-availability.ts';
import { performEffect } from '../src/jobs/effects.ts';
import { createCoreHandlers } from '../src/jobs/handlers.ts';
import type { JobContext } from '../src/jobs/start-worker.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { createCatalogService, createInstructor, createUser } from './support/factories.ts';

// Wednesday 2027-09-01 12:00 in New York (EDT): 180 days back is 2027-03-05.
const NOW = new Date('2027-09-01T16:00:00Z');

let database: TestDatabase;
let serviceId: string;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.cleanup();
});
beforeEach(async () => {
  await truncateAll(database);
  serviceId = await createCatalogService(database);
});

async function instructorWithDays(days: string[]) {
  const { id, instructorServiceId } = await createInstructor(database, { serviceId });
  await database.db
    .insertInto('availabilityDays')
    .values(days.map((day) => ({ instructorId: id, day, bits: Buffer.alloc(180, 0xf0) })))
    .execute();
  return { id, instructorServiceId: instructorServiceId ?? '' };
}

async function book(instructor: { id: string; instructorServiceId: string }, startsAt: string, minutes: number, status: string) {
  const studentId = await createUser(database);
  const start = new Date(startsAt);
  await database.db
    .insertInto('bookings')
    .values({
      id: newId(),
      studentId,
      instructorId: instructor.id,
      serviceId,
      instructorServiceId: instructor.instructorServiceId,
      status,
      startsAt: start,
      endsAt: new Date(start.getTime() + minutes * 60_000),
      durationMinutes: minutes,
      bufferMinutes: 15,
      locationType: 'online',
      hourlyRateCents: 9000,
      lessonPriceCents: 9000,
      studentFeeCents: 1080,
      instructorFeeBps: 1500,
      instructorFeeCents: 1350,
      instructorPayoutCents: 7650,
    })
    .execute();
}

async function daysOf(instructorId: string): Promise<string[]> {
  const rows = await database.db
    .selectFrom('availabilityDays')
    .where('instructorId', '=', instructorId)
    .select('day')
    .orderBy('day')
    .execute();
  return rows.map((row) => row.day);
}

describe('availability retention', () => {
  it('deletes days older than 180 days except days that had a lesson holding time', async () => {
    const ada = await instructorWithDays([
      '2027-02-01', // confirmed lesson: kept
      '2027-02-02', // only a cancelled lesson: deleted
      '2027-02-03', // a completed lesson from 23:30 …
      '2027-02-04', // … to 00:30: both days kept
      '2027-02-05', // another instructor's lesson that day: deleted
      '2027-02-06', // a no-show: kept
      '2027-03-04', // 181 days back: deleted
      '2027-03-05', // 180 days back: kept
      '2027-08-31',
      '2027-09-15',
    ]);
    const grace = await instructorWithDays(['2027-02-05', '2027-01-10']);
    await book(ada, '2027-02-01T15:00:00Z', 60, 'confirmed');
    await book(ada, '2027-02-02T15:00:00Z', 60, 'cancelled');
    await book(ada, '2027-02-04T04:30:00Z', 60, 'completed'); // 23:30 EST on 2027-02-03
    await book(grace, '2027-02-05T15:00:00Z', 60, 'completed');
    await book(ada, '2027-02-06T15:00:00Z', 30, 'no_show');

    const result = await pruneAvailability(database.db, NOW);
    expect(result).toEqual({ cutoffDay: '2027-03-05', deleted: 4 });
    expect(await daysOf(ada.id)).toEqual([
      '2027-02-01',
      '2027-02-03',
      '2027-02-04',
      '2027-02-06',
      '2027-03-05',
      '2027-08-31',
      '2027-09-15',
    ]);
    expect(await daysOf(grace.id)).toEqual(['2027-02-05']);
    expect(await pruneAvailability(database.db, NOW)).toEqual({ cutoffDay: '2027-03-05', deleted: 0 });
  });

  it('uses the New York day: just before local midnight the cutoff has not moved yet', async () => {
    const ada = await instructorWithDays(['2027-03-04', '2027-03-05']);
    // 2027-09-01 23:59 EDT is already 2027-09-02 in UTC
    expect(await pruneAvailability(database.db, new Date('2027-09-02T03:59:00Z'))).toEqual({ cutoffDay: '2027-03-05', deleted: 1 });
    expect(await daysOf(ada.id)).toEqual(['2027-03-05']);
  });

  it('runs as the daily data-retention job, once per scheduled slot', async () => {
    const ada = await instructorWithDays(['2027-01-01', '2027-09-01']);
    const handler = createCoreHandlers()['retention.data-purge'];
    expect(handler).toBeDefined();
    const context = {
      clock: fixedClock(NOW),
      effect: (effect: string, perform: Parameters<typeof performEffect>[2]) =>
        performEffect(
          database.db,
          { jobName: 'retention.data-purge', jobKey: 'data-retention@2027-09-01T08:00:00Z', jobId: null, effect },
          perform,
        ),
    } as unknown as JobContext;
    const run = { schedule: 'data-retention', slot: '2027-09-01T08:00:00Z' };
    expect(await handler?.(database.db, run, context)).toEqual({ availability: { cutoffDay: '2027-03-05', deleted: 1 }, replayed: false });
    expect(await daysOf(ada.id)).toEqual(['2027-09-01']);
    expect(await handler?.(database.db, run, context)).toEqual({ availability: { cutoffDay: '2027-03-05', deleted: 1 }, replayed: true });
  });
});
