import { newId } from '@instainstru/db';
import { truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bitmapFromRanges } from '../src/availability/bitmap.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { invalidateAvailability } from '../src/http/routes/public-availability.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { createCatalogService, createInstructor, createUser } from './support/factories.ts';

// Tuesday 2027-03-02 10:00 in New York (EST, UTC−5)
const clock = fixedClock('2027-03-02T15:00:00Z');
let api: TestApi;
let serviceId: string;
let instructorId: string;
let instructorServiceId: string;

beforeAll(async () => {
  api = await startTestApi({ clock, env: { AVAILABILITY_CACHE_TTL_SECONDS: '60' } });
});
afterAll(async () => {
  await api?.close();
});

async function openDay(day: string, ranges: Array<{ start: number; end: number }>) {
  await api.database.db
    .insertInto('availabilityDays')
    .values({ instructorId, day, bits: Buffer.from(bitmapFromRanges(ranges)) })
    .onConflict((oc) => oc.columns(['instructorId', 'day']).doUpdateSet({ bits: Buffer.from(bitmapFromRanges(ranges)) }))
    .execute();
}

async function book(startsAt: string, minutes: number, status: string, extra: { holdExpiresAt?: Date } = {}) {
  const studentId = await createUser(api.database);
  const start = new Date(startsAt);
  await api.database.db
    .insertInto('bookings')
    .values({
      id: newId(),
      studentId,
      instructorId,
      serviceId,
      instructorServiceId,
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
      holdExpiresAt: extra.holdExpiresAt ?? null,
    })
    .execute();
}

const slotsPath = (query: string) => `/api/v1/public/instructors/${instructorId}/availability?serviceId=${serviceId}&${query}`;

describe('public availability', () => {
  beforeEach(async () => {
    await truncateAll(api.database);
    serviceId = await createCatalogService(api.database, { name: 'Piano' });
    const instructor = await createInstructor(api.database, { serviceId, hourlyRateCents: 9000 });
    instructorId = instructor.id;
    instructorServiceId = instructor.instructorServiceId ?? '';
  });

  it('lists bookable starts in UTC, honouring open hours, bookings with buffers, expired holds and blackout days', async () => {
    await openDay('2027-03-03', [{ start: 9 * 60, end: 17 * 60 }]);
    await openDay('2027-03-04', [{ start: 9 * 60, end: 17 * 60 }]);
    await api.database.db.insertInto('blackoutDates').values({ instructorId, day: '2027-03-04', reason: 'concert' }).execute();
    await book('2027-03-03T16:00:00Z', 60, 'confirmed'); // 11:00–12:00 local
    await book('2027-03-03T19:00:00Z', 60, 'pending_payment', { holdExpiresAt: new Date('2027-03-02T14:00:00Z') }); // expired hold
    await book('2027-03-03T20:30:00Z', 30, 'cancelled');

    const { status, body, headers } = await api.request(slotsPath('durationMinutes=60&locationType=online&from=2027-03-03&to=2027-03-04'));
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(body).toMatchObject({
      instructorId,
      serviceId,
      durationMinutes: 60,
      locationType: 'online',
      timezone: 'America/New_York',
      from: '2027-03-03',
      to: '2027-03-04',
    });
    expect(body.slots.map((slot: { startsAt: string }) => slot.startsAt.slice(11, 16))).toEqual([
      '14:00',
      '14:15',
      '14:30',
      '14:45',
      '17:15',
      '17:30',
      '17:45',
      '18:00',
      '18:15',
      '18:30',
      '18:45',
      '19:00',
      '19:15',
      '19:30',
      '19:45',
      '20:00',
      '20:15',
      '20:30',
      '20:45',
      '21:00',
    ]);
    expect(body.slots.every((slot: { startsAt: string }) => slot.startsAt.startsWith('2027-03-03T'))).toBe(true);
    expect(JSON.stringify(body)).not.toMatch(/student|@/i);
  });

  it('answers the next available start, or null when nothing is open', async () => {
    const empty = await api.request(
      `/api/v1/public/instructors/${instructorId}/next-available?serviceId=${serviceId}&durationMinutes=30&locationType=online`,
    );
    expect(empty.status).toBe(200);
    expect(empty.body.nextAvailable).toBeNull();
    await openDay('2027-03-10', [{ start: 18 * 60, end: 20 * 60 }]);
    const stale = await api.request(
      `/api/v1/public/instructors/${instructorId}/next-available?serviceId=${serviceId}&durationMinutes=30&locationType=online`,
    );
    expect(stale.body.nextAvailable).toBeNull(); // cached until the week save invalidates it
    await invalidateAvailability(api.deps, instructorId);
    const next = await api.request(
      `/api/v1/public/instructors/${instructorId}/next-available?serviceId=${serviceId}&durationMinutes=30&locationType=online`,
    );
    expect(next.body.nextAvailable).toEqual({ startsAt: '2027-03-10T23:00:00.000Z' });
  });

  it('shows nothing for a location type, duration or price the offering does not allow', async () => {
    await openDay('2027-03-03', [{ start: 9 * 60, end: 17 * 60 }]);
    const travel = await api.request(slotsPath('durationMinutes=60&locationType=student_location&from=2027-03-03&to=2027-03-03'));
    expect(travel.body.slots).toEqual([]);
    const long = await api.request(slotsPath('durationMinutes=90&locationType=online&from=2027-03-03&to=2027-03-03'));
    expect(long.body.slots).toEqual([]);
  });

  it('answers clear errors for bad input and unknown ids', async () => {
    const missing = await api.request(
      `/api/v1/public/instructors/${newId()}/availability?serviceId=${serviceId}&durationMinutes=60&locationType=online`,
    );
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'not_found', field: 'instructorId' });
    const otherService = await api.request(
      `/api/v1/public/instructors/${instructorId}/availability?serviceId=${newId()}&durationMinutes=60&locationType=online`,
    );
    expect(otherService.body).toMatchObject({ code: 'not_found', field: 'serviceId' });
    const badType = await api.request(slotsPath('durationMinutes=60&locationType=moon'));
    expect(badType.status).toBe(422);
    expect(badType.body.field).toBe('locationType');
    const tooLong = await api.request(slotsPath('durationMinutes=60&locationType=online&from=2027-03-01&to=2027-05-01'));
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.field).toBe('to');
    const inverted = await api.request(slotsPath('durationMinutes=60&locationType=online&from=2027-03-05&to=2027-03-01'));
    expect(inverted.body.field).toBe('to');
  });

  it('serves an instructor profile with the catalog service ids that availability takes', async () => {
    const { status, body } = await api.request(`/api/v1/instructors/${instructorId}`);
    expect(status).toBe(200);
    expect(body.services).toEqual([
      {
        serviceId,
        name: 'Piano',
        category: 'Music',
        hourlyRateCents: 9000,
        durations: [30, 60],
        locationTypes: ['online', 'instructor_location'],
      },
    ]);
    expect((await api.request(`/api/v1/instructors/${newId()}`)).status).toBe(404);
  });
});
