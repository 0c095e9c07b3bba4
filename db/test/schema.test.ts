import fs from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSchemaTypes } from '../src/codegen.ts';
import { newId } from '../src/ids.ts';
import { isSchemaCurrent, migrateDownAll, migrateToLatest } from '../src/migrate.ts';
import { createTestDatabase, type TestDatabase, truncateAll } from '../src/testing.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(process.env, { migrate: false });
});
afterAll(async () => {
  await database?.cleanup();
});

describe('migrations', () => {
  it('run up from an empty database, are idempotent, and go down and up again', async () => {
    expect(await isSchemaCurrent(database.db)).toBe(false);
    expect(await migrateToLatest(database.db)).toEqual([
      '0001_initial',
      '0002_identity',
      '0003_platform',
      '0004_jobs',
      '0005_payments',
      '0006_search',
      '0007_credits_referrals',
    ]);
    expect(await migrateToLatest(database.db)).toEqual([]);
    expect(await isSchemaCurrent(database.db)).toBe(true);
    await migrateDownAll(database.db);
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_tables where schemaname = current_schema() and tablename = 'bookings'`.execute(database.db);
    expect(rows[0]?.n).toBe(0);
    expect(await migrateToLatest(database.db)).toEqual([
      '0001_initial',
      '0002_identity',
      '0003_platform',
      '0004_jobs',
      '0005_payments',
      '0006_search',
      '0007_credits_referrals',
    ]);
  });

  it('keep db/src/schema.ts in step with the live schema', async () => {
    const committed = fs.readFileSync(new URL('../src/schema.ts', import.meta.url), 'utf8');
    expect(await generateSchemaTypes(database.db)).toBe(committed);
  });

  it('ship the role and permission catalogue', async () => {
    const roles = await database.db.selectFrom('roles').select('name').orderBy('name').execute();
    expect(roles.map((role) => role.name)).toEqual(['admin', 'guest', 'instructor', 'student']);
    const perms = await database.db
      .selectFrom('permissions')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(perms.n).toBeGreaterThanOrEqual(30);
    const adminPerms = await database.db
      .selectFrom('rolePermissions')
      .where('role', '=', 'admin')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(adminPerms.n).toBe(perms.n);
  });
});

async function insertUser(email: string): Promise<string> {
  const id = newId();
  await database.db.insertInto('users').values({ id, email, firstName: 'Test', lastName: 'User' }).execute();
  return id;
}

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('users', () => {
  beforeEach(async () => truncateAll(database));

  it('treat email as unique regardless of case', async () => {
    await insertUser('Sarah.Chen@Example.com');
    expect(await errorCode(insertUser('sarah.chen@example.com'))).toBe('23505');
    expect(await errorCode(insertUser('SARAH.CHEN@EXAMPLE.COM'))).toBe('23505');
    await insertUser('sarah.chen2@example.com');
  });
});

describe('booking exclusion constraints', () => {
  let instructorId: string;
  let otherInstructorId: string;
  let studentId: string;
  let otherStudentId: string;
  let serviceId: string;
  let instructorServiceId: string;
  let otherInstructorServiceId: string;

  beforeEach(async () => {
    await truncateAll(database);
    instructorId = await insertUser('teacher@example.com');
    otherInstructorId = await insertUser('teacher2@example.com');
    studentId = await insertUser('student@example.com');
    otherStudentId = await insertUser('student2@example.com');
    await database.db
      .insertInto('instructorProfiles')
      .values([{ userId: instructorId }, { userId: otherInstructorId }])
      .execute();
    const categoryId = newId();
    await database.db.insertInto('serviceCategories').values({ id: categoryId, slug: 'music', name: 'Music' }).execute();
    serviceId = newId();
    await database.db.insertInto('services').values({ id: serviceId, categoryId, slug: 'piano', name: 'Piano' }).execute();
    instructorServiceId = newId();
    otherInstructorServiceId = newId();
    await database.db
      .insertInto('instructorServices')
      .values([
        { id: instructorServiceId, instructorId, serviceId, hourlyRateCents: 12000 },
        { id: otherInstructorServiceId, instructorId: otherInstructorId, serviceId, hourlyRateCents: 9000 },
      ])
      .execute();
  });

  function book(input: {
    startsAt: string;
    minutes: number;
    buffer?: number;
    student?: string;
    instructor?: 'main' | 'other';
    status?: string;
  }) {
    const start = new Date(input.startsAt);
    const main = (input.instructor ?? 'main') === 'main';
    return database.db
      .insertInto('bookings')
      .values({
        id: newId(),
        studentId: input.student ?? studentId,
        instructorId: main ? instructorId : otherInstructorId,
        serviceId,
        instructorServiceId: main ? instructorServiceId : otherInstructorServiceId,
        status: input.status ?? 'confirmed',
        startsAt: start,
        endsAt: new Date(start.getTime() + input.minutes * 60_000),
        durationMinutes: input.minutes,
        bufferMinutes: input.buffer ?? 15,
        locationType: 'online',
        hourlyRateCents: 12000,
        lessonPriceCents: (12000 * input.minutes) / 60,
        studentFeeCents: 1440,
        instructorFeeBps: 1200,
        instructorFeeCents: 1440,
        instructorPayoutCents: (12000 * input.minutes) / 60 - 1440,
      })
      .execute();
  }

  it('refuse an overlapping lesson for one instructor with SQLSTATE 23P01', async () => {
    await book({ startsAt: '2027-03-01T15:00:00Z', minutes: 60 });
    expect(await errorCode(book({ startsAt: '2027-03-01T15:30:00Z', minutes: 60, student: otherStudentId }))).toBe('23P01');
    const count = await database.db
      .selectFrom('bookings')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(count.n).toBe(1);
  });

  it('accept adjacent lessons when no buffer is needed', async () => {
    await book({ startsAt: '2027-03-01T15:00:00Z', minutes: 60, buffer: 0 });
    await book({ startsAt: '2027-03-01T16:00:00Z', minutes: 60, buffer: 0, student: otherStudentId });
    await book({ startsAt: '2027-03-01T14:00:00Z', minutes: 60, buffer: 0, student: otherStudentId });
  });

  it('keep the larger of the two buffers between lessons', async () => {
    // 15-minute lesson buffer, then a travel lesson that needs 60: 30 minutes apart is too close
    await book({ startsAt: '2027-03-01T15:00:00Z', minutes: 60, buffer: 15 });
    expect(await errorCode(book({ startsAt: '2027-03-01T16:30:00Z', minutes: 60, buffer: 60, student: otherStudentId }))).toBe('23P01');
    expect(await errorCode(book({ startsAt: '2027-03-01T13:30:00Z', minutes: 60, buffer: 60, student: otherStudentId }))).toBe('23P01');
    await book({ startsAt: '2027-03-01T17:00:00Z', minutes: 60, buffer: 60, student: otherStudentId });
    // a 15-minute lesson may follow a 15-minute lesson after exactly 15 minutes, not 14
    expect(await errorCode(book({ startsAt: '2027-03-01T13:46:00Z', minutes: 60, buffer: 15, student: otherStudentId }))).toBe('23P01');
    await book({ startsAt: '2027-03-01T13:45:00Z', minutes: 60, buffer: 15, student: otherStudentId });
  });

  it('refuse a student two lessons at once, even with different instructors', async () => {
    await book({ startsAt: '2027-03-01T15:00:00Z', minutes: 60 });
    expect(await errorCode(book({ startsAt: '2027-03-01T15:45:00Z', minutes: 60, instructor: 'other' }))).toBe('23P01');
    await book({ startsAt: '2027-03-01T16:00:00Z', minutes: 60, instructor: 'other' });
  });

  it('let a cancelled lesson free its time, and count pending holds as taken', async () => {
    await book({ startsAt: '2027-03-01T15:00:00Z', minutes: 60, status: 'cancelled' });
    await book({ startsAt: '2027-03-01T15:00:00Z', minutes: 60, status: 'pending_payment', student: otherStudentId });
    expect(await errorCode(book({ startsAt: '2027-03-01T15:00:00Z', minutes: 60, status: 'confirmed' }))).toBe('23P01');
  });

  it('reject inverted and mismatched ranges', async () => {
    expect(await errorCode(book({ startsAt: '2027-03-01T15:00:00Z', minutes: 0 }))).toBe('23514');
  });
});
