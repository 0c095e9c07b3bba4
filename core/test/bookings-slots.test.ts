import { seedDemoData } from '@instainstru/db/seed';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, localDayAndMinute } from '../src/availability/local-time.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { actingUser, BOOKING_TEST_ENV, postBooking } from './support/bookings.ts';

// The listing and the validator call the same rules function; this proves it end to end on
// realistic data: every listed slot books, and quarter hours the listing leaves out are refused.
const NOW = '2027-03-02T15:00:00Z';
const clock = fixedClock(NOW);
const QUARTER_MS = 15 * 60_000;
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ clock, env: BOOKING_TEST_ENV });
  await seedDemoData(api.database.db, { now: new Date(NOW) });
}, 120_000);
afterAll(async () => {
  await api?.close();
});

/** A small deterministic PRNG so a failure reproduces. */
function rng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Case {
  instructorId: string;
  serviceId: string;
  durationMinutes: number;
  locationType: string;
  address?: { line1: string; postalCode: string; lat: number; lng: number };
  startsAt: string;
}

describe('every listed slot can be booked and no other quarter hour can', () => {
  it('checks ≥ 500 listed slots and ≥ 500 unlisted quarter hours across seeded instructors', async () => {
    const random = rng(20_270_302);
    const offerings = await api.database.db
      .selectFrom('instructorServices as s')
      .innerJoin('instructorProfiles as p', 'p.userId', 's.instructorId')
      .where('p.isLive', '=', true)
      .where('s.deletedAt', 'is', null)
      .where('s.isActive', '=', true)
      .select(['s.instructorId', 's.serviceId', 's.durations', 's.locationTypes'])
      .orderBy('s.instructorId')
      .orderBy('s.id')
      .execute();
    // one offering per instructor: samples of one instructor are spaced so they never interact
    const seen = new Set<string>();
    const perInstructor = offerings.filter((offering) => !seen.has(offering.instructorId) && seen.add(offering.instructorId)).slice(0, 110);
    // a point inside one of the instructor's service-area regions, for travel lessons
    const { rows: areaPoints } = await sql<{ instructorId: string; lat: number; lng: number }>`
      select distinct on (a.instructor_id) a.instructor_id, r.centroid[1] as lat, r.centroid[0] as lng
      from instructor_service_areas a join regions r on r.id = a.region_id
      where r.boundary @> r.centroid order by a.instructor_id, r.id`.execute(api.database.db);
    const pointOf = new Map(areaPoints.map((row) => [row.instructorId, row]));

    const today = localDayAndMinute(clock.now().getTime()).day;
    const from = addDays(today, 1);
    const to = addDays(today, 7);
    const listed: Case[] = [];
    const unlisted: Case[] = [];
    let variant = 0;
    for (const offering of perInstructor) {
      variant += 1;
      const locationType = offering.locationTypes[variant % offering.locationTypes.length]!;
      const durationMinutes = offering.durations[variant % offering.durations.length]!;
      const travel = locationType === 'student_location' || locationType === 'neutral_location';
      const point = pointOf.get(offering.instructorId);
      if (travel && !point) continue;
      const base = {
        instructorId: offering.instructorId,
        serviceId: offering.serviceId,
        durationMinutes,
        locationType,
        ...(travel && point
          ? { address: { line1: '1 Test Pl', postalCode: '10001', lat: Number(point.lat), lng: Number(point.lng) } }
          : {}),
      };
      const page = await api.request(
        `/api/v1/public/instructors/${offering.instructorId}/availability?serviceId=${offering.serviceId}&durationMinutes=${durationMinutes}&locationType=${locationType}&from=${from}&to=${to}`,
      );
      expect(page.status).toBe(200);
      const starts: string[] = page.body.slots.map((slot: { startsAt: string }) => slot.startsAt);
      const open = new Set(starts.map((startsAt) => Date.parse(startsAt)));
      // 4 h lesson + 1 h buffer either side < 6 h: one booking never changes another sample's answer
      let lastPicked = Number.NEGATIVE_INFINITY;
      for (const startsAt of starts) {
        const ms = Date.parse(startsAt);
        if (ms - lastPicked >= 6 * 3_600_000 && random() < 0.5) {
          listed.push({ ...base, startsAt });
          lastPicked = ms;
        }
      }
      // unlisted quarter hours: every neighbour of a listed run, plus random ones across the week
      const windowStart = Date.parse(`${from}T05:00:00Z`);
      const windowEnd = Date.parse(`${to}T23:00:00Z`);
      for (let ms = windowStart; ms < windowEnd; ms += QUARTER_MS) {
        if (open.has(ms)) continue;
        const bordersListed = open.has(ms - QUARTER_MS) || open.has(ms + QUARTER_MS);
        if ((bordersListed && random() < 0.7) || random() < 0.01) unlisted.push({ ...base, startsAt: new Date(ms).toISOString() });
      }
    }
    expect(listed.length).toBeGreaterThanOrEqual(500);
    expect(unlisted.length).toBeGreaterThanOrEqual(500);

    const student = await actingUser(api);
    const failures: string[] = [];
    // unlisted first (bookings only ever take time away, but this keeps the reasons clean)
    for (const { startsAt, ...rest } of unlisted) {
      const refused = await postBooking(api, student.headers, { ...rest, startsAt });
      if (refused.status !== 409 && refused.status !== 422)
        failures.push(`unlisted ${rest.instructorId} ${rest.locationType} ${rest.durationMinutes}m ${startsAt}: ${refused.status}`);
    }
    // each listed slot by its own student, so a student's own lessons never get in the way
    for (const { startsAt, ...rest } of listed) {
      const booker = await actingUser(api);
      const booked = await postBooking(api, booker.headers, { ...rest, startsAt });
      if (booked.status !== 201)
        failures.push(
          `listed ${rest.instructorId} ${rest.locationType} ${rest.durationMinutes}m ${startsAt}: ${booked.status} ${booked.body.detail}`,
        );
    }
    expect(failures.slice(0, 10)).toEqual([]);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from bookings where student_id = ${student.userId}`.execute(
      api.database.db,
    );
    expect(rows[0]?.n).toBe(0);
    const made = await sql<{ n: number }>`select count(*)::int as n from bookings where created_at = ${new Date(NOW)}`.execute(
      api.database.db,
    );
    expect(made.rows[0]?.n).toBe(listed.length);
  }, 180_000);
});
