import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { displayName, displayRating, type PublicInstructor } from './instructor.ts';

export interface FindInstructorsInput {
  limit: number;
  cursor?: string | undefined;
  serviceId?: string | undefined;
  regionId?: string | undefined;
  /** Only these instructors (detail pages). */
  ids?: readonly string[] | undefined;
}

const InstructorCursor = z.object({ id: z.string() });

/**
 * Live instructors, newest profile last (ULID order), with their active services, the
 * neighborhoods they cover, and their rating. Keyset-paginated on the id.
 */
export async function findInstructors(db: Kysely<DB>, input: FindInstructorsInput): Promise<Page<PublicInstructor>> {
  const after = decodeCursor(input.cursor, InstructorCursor);
  let query = db
    .selectFrom('instructorProfiles as p')
    .innerJoin('users as u', 'u.id', 'p.userId')
    .where('p.isLive', '=', true)
    .where('u.status', '=', 'active')
    .select([
      'p.userId as id',
      'u.firstName',
      'u.lastName',
      'p.bio',
      'p.photoUrl',
      'p.yearsExperience',
      'p.isFounding',
      'p.verificationStatus',
      'p.backgroundCheckStatus',
    ])
    .select((eb) => [
      eb
        .selectFrom('reviews as r')
        .whereRef('r.instructorId', '=', 'p.userId')
        .where('r.isHidden', '=', false)
        .select(sql<number | null>`avg(r.rating)::float8`.as('avg'))
        .as('ratingAverage'),
      eb
        .selectFrom('reviews as r')
        .whereRef('r.instructorId', '=', 'p.userId')
        .where('r.isHidden', '=', false)
        .select(sql<number>`count(*)::int`.as('n'))
        .as('reviewCount'),
    ])
    .orderBy('p.userId')
    .limit(input.limit + 1);
  if (after) query = query.where('p.userId', '>', after.id);
  if (input.ids) query = input.ids.length ? query.where('p.userId', 'in', [...input.ids]) : query.where(sql<boolean>`false`);
  if (input.serviceId) {
    const serviceId = input.serviceId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('instructorServices as s')
          .whereRef('s.instructorId', '=', 'p.userId')
          .where('s.serviceId', '=', serviceId)
          .where('s.deletedAt', 'is', null)
          .where('s.isActive', '=', true)
          .select('s.id'),
      ),
    );
  }
  if (input.regionId) {
    const regionId = input.regionId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('instructorServiceAreas as a')
          .innerJoin('regions as r', 'r.id', 'a.regionId')
          .whereRef('a.instructorId', '=', 'p.userId')
          .where((w) => w.or([w('r.id', '=', regionId), w('r.parentId', '=', regionId)]))
          .select('a.regionId'),
      ),
    );
  }
  const rows = await query.execute();
  const ids = rows.slice(0, input.limit).map((row) => row.id);
  const [services, areas] = ids.length
    ? await Promise.all([
        db
          .selectFrom('instructorServices as s')
          .innerJoin('services as sv', 'sv.id', 's.serviceId')
          .innerJoin('serviceCategories as c', 'c.id', 'sv.categoryId')
          .where('s.instructorId', 'in', ids)
          .where('s.deletedAt', 'is', null)
          .where('s.isActive', '=', true)
          .select(['s.instructorId', 's.serviceId', 'sv.name', 'c.name as category', 's.hourlyRateCents', 's.durations', 's.locationTypes'])
          .orderBy('s.instructorId')
          .orderBy('sv.name')
          .execute(),
        db
          .selectFrom('instructorServiceAreas as a')
          .innerJoin('regions as r', 'r.id', 'a.regionId')
          .where('a.instructorId', 'in', ids)
          .select(['a.instructorId', 'r.name'])
          .orderBy('r.name')
          .execute(),
      ])
    : [[], []];

  return toPage(
    rows,
    input.limit,
    (row): PublicInstructor => ({
      id: row.id,
      name: displayName(row.firstName, row.lastName),
      bio: row.bio,
      photoUrl: row.photoUrl,
      yearsExperience: row.yearsExperience,
      isFounding: row.isFounding,
      isVerified: row.verificationStatus === 'verified',
      backgroundChecked: row.backgroundCheckStatus === 'passed',
      rating: displayRating(row.ratingAverage ?? null, row.reviewCount ?? 0),
      reviewCount: row.reviewCount ?? 0,
      services: services
        .filter((service) => service.instructorId === row.id)
        .map(({ serviceId, name, category, hourlyRateCents, durations, locationTypes }) => ({
          serviceId,
          name,
          category,
          hourlyRateCents,
          durations,
          locationTypes,
        })),
      neighborhoods: areas.filter((area) => area.instructorId === row.id).map((area) => area.name),
    }),
    (row) => ({ id: row.id }),
  );
}
