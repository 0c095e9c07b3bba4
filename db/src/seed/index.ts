import { type Algorithm, hash } from '@node-rs/argon2';
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import { DateTime } from 'luxon';
import type { DB } from '../schema.ts';
import { buildAvailability } from './build-availability.ts';
import { buildBookings } from './build-bookings.ts';
import { buildCatalog } from './build-catalog.ts';
import { buildPeople } from './build-people.ts';
import { buildRegions } from './build-regions.ts';
import { DEMO_ADMIN, DEMO_PASSWORD } from './data/demo-accounts.ts';
import { createSeedIdFactory } from './ids.ts';
import { DAY_MS, type SeedRows, ZONE } from './model.ts';
import { createRandom, mulberry32 } from './random.ts';

export { DEMO_PASSWORD } from './data/demo-accounts.ts';

// Fixed seeds: the same demo data on every run. Three streams, so that what depends on the day
// (availability, bookings) cannot shift the ids or the people, which do not.
const ID_SEED = 0x1157a1;
const PEOPLE_SEED = 20_240_101;
const SCHEDULE_SEED = 8_675_309;
const SALT_SEED = 0x5a17;

// `Algorithm` is a const enum that @node-rs/argon2 does not export at run time.
const ARGON2ID = 2 as Algorithm;

const BATCH_SIZE = 500;

export interface SeedSummary {
  /** False when the demo data was already there (nothing was changed). */
  created: boolean;
  /** Rows inserted per table. */
  counts: Record<string, number>;
}

/**
 * Loads the demo data: NYC regions, the service catalog, ~200 instructors with availability,
 * ~120 students, bookings in every status with their timelines, reviews, and the original
 * platform's accounts (admin@example.com, sarah.chen@, michael.rodriguez@, john.smith@,
 * emma.johnson@example.com — password `Test1234`).
 *
 * Idempotent: when admin@example.com exists it returns `{ created: false }` and changes nothing.
 * Everything is inserted in one transaction. Deterministic: two empty databases seeded with the
 * same `now` get identical rows; ids and people do not depend on `now` at all.
 */
export async function seedDemoData(db: Kysely<DB>, options: { now?: Date } = {}): Promise<SeedSummary> {
  const now = options.now ?? new Date();
  // PGlite has a single connection: inside the transaction only `trx` may be used.
  return db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('users')
      .select('id')
      .where(sql<string>`lower(email)`, '=', DEMO_ADMIN.email)
      .executeTakeFirst();
    if (existing) return { created: false, counts: {} };

    const rows = buildDemoData({ now, passwordHash: await hashDemoPassword() });
    return { created: true, counts: await insertSeedRows(trx, rows) };
  });
}

/**
 * The demo password hashed once with Argon2id at OWASP's parameters and shared by every demo
 * user. The salt is fixed so the seed is reproducible — acceptable for demo accounts only, never
 * for real ones (the application hashes real passwords with a random salt).
 */
export async function hashDemoPassword(): Promise<string> {
  const nextSaltByte = mulberry32(SALT_SEED);
  const salt = Uint8Array.from({ length: 16 }, () => Math.floor(nextSaltByte() * 256));
  return hash(DEMO_PASSWORD, { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1, salt });
}

/** Every demo row, built in memory (pure: same input, same rows). */
export function buildDemoData(input: { now: Date; passwordHash: string }): SeedRows {
  const nextId = createSeedIdFactory(ID_SEED);
  const today = DateTime.fromJSDate(input.now, { zone: ZONE }).startOf('day');
  const anchor = today.toJSDate();
  const catalogCreatedAt = new Date(anchor.getTime() - 1000 * DAY_MS);

  const regions = buildRegions(nextId, catalogCreatedAt);
  const catalog = buildCatalog(nextId, catalogCreatedAt);
  const people = buildPeople(createRandom(PEOPLE_SEED), nextId, {
    neighborhoods: regions.neighborhoods,
    services: catalog.services,
    passwordHash: input.passwordHash,
    anchor,
  });

  const scheduleRng = createRandom(SCHEDULE_SEED);
  const availability = buildAvailability(scheduleRng, people.instructors, today, anchor);
  const bookings = buildBookings(scheduleRng, nextId, {
    now: input.now,
    today,
    openHours: availability.openHours,
    instructors: people.instructors,
    students: people.students,
    adminId: people.adminId,
  });

  const instructorProfiles = people.rows.instructorProfiles.map((profile) => ({
    ...profile,
    lastLessonAt: bookings.lastLessonAt.get(profile.userId) ?? null,
  }));

  return {
    regions: regions.rows,
    serviceCategories: catalog.categoryRows,
    services: catalog.serviceRows,
    ...people.rows,
    instructorProfiles,
    ...availability.rows,
    ...bookings.rows,
  };
}

/** Inserts in foreign-key order, in batches; returns rows per table (snake_case names). */
async function insertSeedRows(trx: Transaction<DB>, rows: SeedRows): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const insert = async <T extends keyof SeedRows & keyof DB>(table: T, tableRows: readonly Insertable<DB[T]>[]) => {
    for (let start = 0; start < tableRows.length; start += BATCH_SIZE) {
      await trx
        .insertInto(table)
        .values(tableRows.slice(start, start + BATCH_SIZE) as never)
        .execute();
    }
    counts[table.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)] = tableRows.length;
  };
  await insert('regions', rows.regions);
  await insert('serviceCategories', rows.serviceCategories);
  await insert('services', rows.services);
  await insert('users', rows.users);
  await insert('userRoles', rows.userRoles);
  await insert('instructorProfiles', rows.instructorProfiles);
  await insert('instructorServices', rows.instructorServices);
  await insert('instructorServiceAreas', rows.instructorServiceAreas);
  await insert('userAddresses', rows.userAddresses);
  await insert('availabilityDays', rows.availabilityDays);
  await insert('blackoutDates', rows.blackoutDates);
  await insert('bookings', rows.bookings);
  await insert('bookingEvents', rows.bookingEvents);
  await insert('reviews', rows.reviews);
  return counts;
}
