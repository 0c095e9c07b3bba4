import type { Database } from '@instainstru/db';
import { newId } from '@instainstru/db';

/** Small row builders for tests: only what a test needs, sensible defaults for the rest. */
export async function createUser(
  database: Database,
  input: { email?: string; firstName?: string; lastName?: string; roles?: string[]; status?: string } = {},
): Promise<string> {
  const id = newId();
  await database.db
    .insertInto('users')
    .values({
      id,
      email: input.email ?? `${id.toLowerCase()}@example.com`,
      firstName: input.firstName ?? 'Test',
      lastName: input.lastName ?? 'User',
      status: input.status ?? 'active',
    })
    .execute();
  for (const role of input.roles ?? ['student']) {
    await database.db.insertInto('userRoles').values({ userId: id, role }).execute();
  }
  return id;
}

export async function createCatalogService(database: Database, input: { name?: string; category?: string } = {}): Promise<string> {
  const categoryName = input.category ?? 'Music';
  const slug = categoryName.toLowerCase().replace(/\W+/g, '-');
  let category = await database.db.selectFrom('serviceCategories').where('slug', '=', slug).select('id').executeTakeFirst();
  if (!category) {
    category = { id: newId() };
    await database.db.insertInto('serviceCategories').values({ id: category.id, slug, name: categoryName }).execute();
  }
  const id = newId();
  const name = input.name ?? 'Piano';
  await database.db
    .insertInto('services')
    .values({ id, categoryId: category.id, slug: `${name.toLowerCase().replace(/\W+/g, '-')}-${id.slice(-6).toLowerCase()}`, name })
    .execute();
  return id;
}

export async function createInstructor(
  database: Database,
  input: { firstName?: string; lastName?: string; serviceId?: string; hourlyRateCents?: number; isLive?: boolean } = {},
): Promise<{ id: string; instructorServiceId: string | undefined }> {
  const id = await createUser(database, {
    firstName: input.firstName ?? 'Ada',
    lastName: input.lastName ?? 'Lovelace',
    roles: ['instructor'],
  });
  await database.db
    .insertInto('instructorProfiles')
    .values({ userId: id, bio: 'Patient and precise.', isLive: input.isLive ?? true })
    .execute();
  let instructorServiceId: string | undefined;
  if (input.serviceId) {
    instructorServiceId = newId();
    await database.db
      .insertInto('instructorServices')
      .values({
        id: instructorServiceId,
        instructorId: id,
        serviceId: input.serviceId,
        hourlyRateCents: input.hourlyRateCents ?? 9000,
        durations: [30, 60],
        locationTypes: ['online', 'instructor_location'],
      })
      .execute();
  }
  return { id, instructorServiceId };
}

/**
 * Gives an existing user (e.g. one signed in with `loginAs(api, 'instructor')`) an instructor
 * profile, optionally offering a catalog service (30/60 min, online and studio).
 */
export async function addInstructorProfile(
  database: Database,
  userId: string,
  input: { serviceId?: string; isLive?: boolean } = {},
): Promise<{ instructorServiceId: string | undefined }> {
  await database.db
    .insertInto('instructorProfiles')
    .values({ userId, bio: 'Patient and precise.', isLive: input.isLive ?? true })
    .execute();
  if (!input.serviceId) return { instructorServiceId: undefined };
  const instructorServiceId = newId();
  await database.db
    .insertInto('instructorServices')
    .values({
      id: instructorServiceId,
      instructorId: userId,
      serviceId: input.serviceId,
      hourlyRateCents: 9000,
      durations: [30, 60],
      locationTypes: ['online', 'instructor_location'],
    })
    .execute();
  return { instructorServiceId };
}
