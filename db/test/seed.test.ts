import { verify } from '@node-rs/argon2';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, seedDemoData, type SeedSummary } from '../src/seed/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

// 11:00 in New York; the 8 weeks ahead include the spring-forward day (2025-03-09).
const NOW = new Date('2025-03-05T16:00:00Z');
const TIMEOUT_MS = 120_000;
const ZONE = 'America/New_York';
const HELD = ['pending_payment', 'confirmed', 'completed', 'no_show'];

const DEMO_ACCOUNTS = [
  { email: 'admin@example.com', role: 'admin' },
  { email: 'sarah.chen@example.com', role: 'instructor' },
  { email: 'michael.rodriguez@example.com', role: 'instructor' },
  { email: 'john.smith@example.com', role: 'student' },
  { email: 'emma.johnson@example.com', role: 'student' },
];

/** The documented bit order: minute m is open iff bits[m >> 3] & (0x80 >> (m & 7)). */
function isOpenThroughout(bits: Uint8Array, fromMinute: number, toMinute: number): boolean {
  for (let minute = fromMinute; minute < toMinute; minute++) {
    if (((bits[minute >> 3] ?? 0) & (0x80 >> (minute & 7))) === 0) return false;
  }
  return true;
}

async function tableCounts(database: TestDatabase): Promise<Record<string, number>> {
  const { rows } = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = current_schema() order by tablename
  `.execute(database.db);
  const counts: Record<string, number> = {};
  for (const { tablename } of rows) {
    const result = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(tablename)}`.execute(database.db);
    counts[tablename] = result.rows[0]?.n ?? -1;
  }
  return counts;
}

/** One fingerprint of a table's full contents, to compare two databases row for row. */
async function tableDigest(database: TestDatabase, table: string, orderBy: string): Promise<string> {
  const result = await sql<{ digest: string }>`
    select md5(coalesce(string_agg(t::text, E'\\n' order by ${sql.raw(orderBy)}), '')) as digest from ${sql.table(table)} t
  `.execute(database.db);
  return result.rows[0]?.digest ?? '';
}

describe('seedDemoData', () => {
  let database: TestDatabase;
  let summary: SeedSummary;
  let seedMs = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    const started = Date.now();
    summary = await seedDemoData(database.db, { now: NOW });
    seedMs = Date.now() - started;
    console.info(`seeded ${database.engine} in ${seedMs} ms:`, JSON.stringify(summary.counts));
  }, TIMEOUT_MS);

  afterAll(async () => {
    await database?.cleanup();
  });

  it('loads at least the promised amounts of data', async () => {
    expect(summary.created).toBe(true);
    const { db } = database;
    const regions = await db
      .selectFrom('regions')
      .select(['kind', 'borough', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['kind', 'borough'])
      .execute();
    const boroughs = regions.filter((row) => row.kind === 'borough');
    const neighborhoods = regions.filter((row) => row.kind === 'neighborhood');
    expect(boroughs).toHaveLength(5);
    expect(neighborhoods.map((row) => row.borough).sort()).toEqual(['Bronx', 'Brooklyn', 'Manhattan', 'Queens', 'Staten Island']);
    expect(neighborhoods.reduce((sum, row) => sum + Number(row.n), 0)).toBeGreaterThanOrEqual(55);
    const orphans = await db
      .selectFrom('regions')
      .select('name')
      .where('kind', '=', 'neighborhood')
      .where('parentId', 'is', null)
      .execute();
    expect(orphans).toEqual([]);

    const counts = await tableCounts(database);
    expect(counts.service_categories).toBeGreaterThanOrEqual(8);
    expect(counts.services).toBeGreaterThanOrEqual(45);
    expect(counts.instructor_profiles).toBeGreaterThanOrEqual(200);
    expect(counts.bookings).toBeGreaterThanOrEqual(300);
    expect(counts.reviews).toBeGreaterThan(100);
    expect(counts.availability_days).toBeGreaterThan(0);
    expect(counts.blackout_dates).toBeGreaterThan(0);
    for (const [table, inserted] of Object.entries(summary.counts)) expect(counts[table], table).toBe(inserted);

    const roles = await db
      .selectFrom('userRoles')
      .select(['role', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('role')
      .execute();
    const byRole = Object.fromEntries(roles.map((row) => [row.role, Number(row.n)]));
    expect(byRole.instructor).toBeGreaterThanOrEqual(200);
    expect(byRole.student).toBeGreaterThanOrEqual(100);

    const studentsWithoutOneDefault = await sql<{ id: string }>`
      select u.id from users u join user_roles r on r.user_id = u.id and r.role = 'student'
      where (select count(*) from user_addresses a where a.user_id = u.id and a.is_default) <> 1
    `.execute(db);
    expect(studentsWithoutOneDefault.rows).toEqual([]);

    const unverified = await db
      .selectFrom('users')
      .select('email')
      .where((eb) => eb.or([eb('emailVerifiedAt', 'is', null), eb('timezone', '<>', ZONE)]))
      .execute();
    expect(unverified).toEqual([]);
  });

  it('gives instructors 1–3 services, 2–8 service areas and consistent fee tiers', async () => {
    const { db } = database;
    const perInstructor = await sql<{ services: number; areas: number }>`
      select (select count(*)::int from instructor_services s where s.instructor_id = p.user_id) as services,
             (select count(*)::int from instructor_service_areas a where a.instructor_id = p.user_id) as areas
      from instructor_profiles p
    `.execute(db);
    for (const row of perInstructor.rows) {
      expect(row.services).toBeGreaterThanOrEqual(1);
      expect(row.services).toBeLessThanOrEqual(3);
      expect(row.areas).toBeGreaterThanOrEqual(2);
      expect(row.areas).toBeLessThanOrEqual(8);
    }

    const profiles = await db.selectFrom('instructorProfiles').select(['isFounding', 'foundingNumber', 'tierFeeBps', 'isLive']).execute();
    const founding = profiles.filter((profile) => profile.isFounding);
    expect(founding.length).toBeGreaterThanOrEqual(15);
    expect(founding.map((profile) => profile.foundingNumber).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      founding.map((_, index) => index + 1),
    );
    expect(founding.every((profile) => profile.tierFeeBps === 800)).toBe(true);
    expect(profiles.filter((profile) => !profile.isFounding).every((profile) => [1000, 1200, 1500].includes(profile.tierFeeBps))).toBe(
      true,
    );
    expect(profiles.filter((profile) => profile.isLive).length / profiles.length).toBeGreaterThan(0.8);

    const sarah = await db
      .selectFrom('users')
      .innerJoin('instructorProfiles', 'instructorProfiles.userId', 'users.id')
      .select(['foundingNumber', 'stripeAccountId', 'payoutsEnabled'])
      .where('email', '=', 'sarah.chen@example.com')
      .executeTakeFirstOrThrow();
    expect(sarah.foundingNumber).toBe(1);
    expect(sarah.stripeAccountId).toMatch(/^acct_demo/);
    expect(sarah.payoutsEnabled).toBe(true);
  });

  it('has bookings in every status with a matching payment status and a timeline', async () => {
    const { db } = database;
    const rows = await db
      .selectFrom('bookings')
      .select([
        'status',
        'paymentStatus',
        'startsAt',
        'holdExpiresAt',
        'cancelledBy',
        'cancelledAt',
        'cancellationReason',
        'completedAt',
        'noShowReportedAt',
      ])
      .execute();
    expect(new Set(rows.map((row) => row.status))).toEqual(new Set(['pending_payment', 'confirmed', 'completed', 'cancelled', 'no_show']));
    for (const row of rows) {
      const expected: Record<string, string[]> = {
        pending_payment: ['scheduled'],
        completed: ['settled'],
        cancelled: ['settled'],
        no_show: ['manual_review'],
        confirmed: [row.startsAt.getTime() - NOW.getTime() < 24 * 3_600_000 ? 'authorized' : 'scheduled'],
      };
      expect(expected[row.status], row.status).toContain(row.paymentStatus);
      if (row.status === 'pending_payment') expect(row.holdExpiresAt!.getTime()).toBeGreaterThan(NOW.getTime());
      if (row.status === 'cancelled') {
        expect(row.cancelledBy).toMatch(/^(student|instructor|admin|system)$/);
        expect(row.cancelledAt!.getTime()).toBeLessThanOrEqual(NOW.getTime());
        expect(row.cancellationReason).toBeTruthy();
      }
      if (row.status === 'completed') expect(row.completedAt!.getTime()).toBeLessThanOrEqual(NOW.getTime());
      if (row.status === 'no_show') expect(row.noShowReportedAt).not.toBeNull();
    }

    const withoutTimeline = await sql<{ id: string }>`
      select b.id from bookings b where not exists (select 1 from booking_events e where e.booking_id = b.id and e.type = 'created')
    `.execute(db);
    expect(withoutTimeline.rows).toEqual([]);
    const eventsInTheFuture = await db.selectFrom('bookingEvents').select('id').where('at', '>', NOW).execute();
    expect(eventsInTheFuture).toEqual([]);
    const reviewsOfUncompleted = await sql<{ id: string }>`
      select r.id from reviews r join bookings b on b.id = r.booking_id where b.status <> 'completed' or r.rating not between 1 and 5
    `.execute(db);
    expect(reviewsOfUncompleted.rows).toEqual([]);
  });

  it('snapshots prices by the payment policy (half away from zero)', async () => {
    const rows = await database.db
      .selectFrom('bookings')
      .innerJoin('instructorProfiles', 'instructorProfiles.userId', 'bookings.instructorId')
      .innerJoin('instructorServices', 'instructorServices.id', 'bookings.instructorServiceId')
      .select([
        'bookings.hourlyRateCents',
        'bookings.durationMinutes',
        'bookings.lessonPriceCents',
        'bookings.studentFeeCents',
        'bookings.instructorFeeBps',
        'bookings.instructorFeeCents',
        'bookings.instructorPayoutCents',
        'bookings.bufferMinutes',
        'bookings.locationType',
        'bookings.locationRegionId',
        'bookings.policySnapshot',
        'instructorProfiles.tierFeeBps',
        'instructorServices.hourlyRateCents as offeredRateCents',
        'instructorServices.durations',
        'instructorServices.locationTypes',
      ])
      .execute();
    const round = (value: number) => Math.sign(value) * Math.round(Math.abs(value));
    for (const row of rows) {
      expect(row.hourlyRateCents).toBe(row.offeredRateCents);
      expect(row.durations).toContain(row.durationMinutes);
      expect(row.locationTypes).toContain(row.locationType);
      expect(row.lessonPriceCents).toBe(round((row.hourlyRateCents * row.durationMinutes) / 60));
      expect(row.studentFeeCents).toBe(round(row.lessonPriceCents * 0.12));
      expect(row.instructorFeeBps).toBe(row.tierFeeBps);
      expect(row.instructorFeeCents).toBe(round((row.lessonPriceCents * row.instructorFeeBps) / 10_000));
      expect(row.instructorPayoutCents).toBe(row.lessonPriceCents - row.instructorFeeCents);
      const travels = row.locationType === 'student_location' || row.locationType === 'neutral_location';
      expect(row.bufferMinutes).toBe(travels ? 60 : 15);
      expect(row.locationRegionId === null).toBe(row.locationType === 'online');
      expect(row.policySnapshot).toMatchObject({ policyVersion: 'v2.1.1', studentFeeBps: 1200, instructorFeeBps: row.instructorFeeBps });
    }
  });

  it('puts upcoming lessons inside the instructor’s open hours, off blackout days, and travel inside the service area', async () => {
    const { db } = database;
    const upcoming = await db
      .selectFrom('bookings')
      .select(['instructorId', 'startsAt', 'durationMinutes', 'locationType', 'locationRegionId'])
      .where('startsAt', '>', NOW)
      .where('status', 'in', HELD)
      .execute();
    expect(upcoming.length).toBeGreaterThan(100);
    const days = await db.selectFrom('availabilityDays').select(['instructorId', 'day', 'bits']).execute();
    const bitsByDay = new Map(days.map((row) => [`${row.instructorId}|${row.day}`, row.bits]));
    const blackouts = new Set(
      (await db.selectFrom('blackoutDates').select(['instructorId', 'day']).execute()).map((row) => `${row.instructorId}|${row.day}`),
    );
    const areas = new Set(
      (await db.selectFrom('instructorServiceAreas').selectAll().execute()).map((row) => `${row.instructorId}|${row.regionId}`),
    );
    for (const booking of upcoming) {
      const local = DateTime.fromJSDate(booking.startsAt, { zone: ZONE });
      const key = `${booking.instructorId}|${local.toISODate()}`;
      const startMinute = local.hour * 60 + local.minute;
      const bits = bitsByDay.get(key);
      expect(bits, key).toBeDefined();
      expect(bits).toHaveLength(180);
      expect(isOpenThroughout(bits!, startMinute, startMinute + booking.durationMinutes), key).toBe(true);
      expect(blackouts.has(key), key).toBe(false);
      expect(local.minute % 15).toBe(0);
      if (booking.locationType === 'student_location' || booking.locationType === 'neutral_location') {
        expect(areas.has(`${booking.instructorId}|${booking.locationRegionId}`)).toBe(true);
      }
    }
  });

  it('keeps geography consistent: centroids and addresses inside their outlines', async () => {
    const { db } = database;
    const outside = await sql<{ name: string }>`select name from regions where not (boundary @> centroid)`.execute(db);
    expect(outside.rows).toEqual([]);
    const outsideBorough = await sql<{ name: string }>`
      select n.name from regions n join regions b on b.id = n.parent_id where not (b.boundary @> n.centroid)
    `.execute(db);
    expect(outsideBorough.rows).toEqual([]);
    const misplacedAddresses = await sql<{ id: string }>`
      select a.id from user_addresses a join regions r on r.id = a.region_id where not (r.boundary @> a.location)
    `.execute(db);
    expect(misplacedAddresses.rows).toEqual([]);
    const misplacedLessons = await sql<{ id: string }>`
      select b.id from bookings b join regions r on r.id = b.location_region_id where not (r.boundary @> b.location_point)
    `.execute(db);
    expect(misplacedLessons.rows).toEqual([]);
  });

  it('creates the original platform accounts with the demo password', async () => {
    for (const account of DEMO_ACCOUNTS) {
      const user = await database.db
        .selectFrom('users')
        .innerJoin('userRoles', 'userRoles.userId', 'users.id')
        .select(['users.passwordHash', 'users.emailVerifiedAt', 'userRoles.role'])
        .where('users.email', '=', account.email)
        .executeTakeFirstOrThrow();
      expect(user.role, account.email).toBe(account.role);
      expect(user.emailVerifiedAt).not.toBeNull();
      expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(await verify(user.passwordHash!, DEMO_PASSWORD)).toBe(true);
      expect(await verify(user.passwordHash!, 'wrong password')).toBe(false);
    }
    const demoLessons = await sql<{ n: number }>`
      select count(*)::int as n from bookings b
        join users s on s.id = b.student_id join users i on i.id = b.instructor_id
      where s.email in ('john.smith@example.com', 'emma.johnson@example.com')
        and i.email in ('sarah.chen@example.com', 'michael.rodriguez@example.com')
        and b.starts_at > ${NOW}
    `.execute(database.db);
    expect(demoLessons.rows[0]?.n).toBeGreaterThanOrEqual(4);
  });

  it(
    'does nothing when the demo data is already there',
    async () => {
      const before = await tableCounts(database);
      const again = await seedDemoData(database.db, { now: new Date(NOW.getTime() + 3_600_000) });
      expect(again).toEqual({ created: false, counts: {} });
      expect(await tableCounts(database)).toEqual(before);
    },
    TIMEOUT_MS,
  );

  it(
    'produces identical rows in a fresh database seeded with the same now',
    async () => {
      const other = await createTestDatabase();
      try {
        await seedDemoData(other.db, { now: NOW });
        const demoIds = async (target: TestDatabase) =>
          target.db
            .selectFrom('users')
            .select(['email', 'id'])
            .where(
              'email',
              'in',
              DEMO_ACCOUNTS.map((account) => account.email),
            )
            .orderBy('email')
            .execute();
        expect(await demoIds(other)).toEqual(await demoIds(database));
        for (const [table, orderBy] of [
          ['users', 'id'],
          ['regions', 'id'],
          ['instructor_profiles', 'user_id'],
          ['availability_days', 'instructor_id, day'],
          ['bookings', 'id'],
          ['booking_events', 'id'],
          ['reviews', 'id'],
        ] as const) {
          expect(await tableDigest(other, table, orderBy), table).toBe(await tableDigest(database, table, orderBy));
        }
      } finally {
        await other.cleanup();
      }
    },
    TIMEOUT_MS,
  );
});
