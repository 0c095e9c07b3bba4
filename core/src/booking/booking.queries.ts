import { type Bookings, type DB, newId } from '@instainstru/db';
import { type Insertable, type Kysely, type Selectable, sql, type Transaction, type Updateable } from 'kysely';
import { TIME_HOLDING_STATUSES } from '../availability/load-instructor-context.ts';
import type { Interval } from '../availability/intervals.ts';

/** Every SQL statement about bookings: rows in, rows out. */

type Executor = Kysely<DB> | Transaction<DB>;
export type BookingRow = Selectable<Bookings> & { serviceName: string; neighborhood: string | null };

const HOUR_MS = 3_600_000;

/** The instructor (live, active) and their offering of the service, with the tier and studio. */
export async function findOfferingForBooking(db: Executor, instructorId: string, serviceId: string) {
  return db
    .selectFrom('instructorProfiles as p')
    .innerJoin('users as u', 'u.id', 'p.userId')
    .innerJoin('instructorServices as s', 's.instructorId', 'p.userId')
    .where('p.userId', '=', instructorId)
    .where('p.isLive', '=', true)
    .where('u.status', '=', 'active')
    .where('s.serviceId', '=', serviceId)
    .where('s.deletedAt', 'is', null)
    .where('s.isActive', '=', true)
    .select([
      's.id as instructorServiceId',
      's.hourlyRateCents',
      's.durations',
      's.locationTypes',
      'p.tierFeeBps',
      'p.isFounding',
      'p.studioAddress',
      'p.studioLocation',
    ])
    .executeTakeFirst();
}

/**
 * Where a point lies: whether it is inside one of the instructor's service-area regions (a
 * covered borough covers its neighborhoods), and the neighborhood it is in (for public views).
 */
export async function locatePoint(db: Executor, instructorId: string, point: { lat: number; lng: number }) {
  const row = await sql<{ inside: boolean; regionId: string | null; neighborhood: string | null }>`
    select
      exists (
        select 1 from regions r
        join instructor_service_areas a on a.region_id = r.id or a.region_id = r.parent_id
        where a.instructor_id = ${instructorId} and r.boundary @> point(${point.lng}, ${point.lat})
      ) as inside,
      n.id as "regionId", n.name as neighborhood
    from (select 1) one
    left join lateral (
      select id, name from regions
      where boundary @> point(${point.lng}, ${point.lat})
      order by (kind = 'neighborhood') desc, id limit 1
    ) n on true
  `.execute(db);
  const found = row.rows[0];
  return { inside: found?.inside === true, regionId: found?.regionId ?? null, neighborhood: found?.neighborhood ?? null };
}

/** The neighborhood a studio point lies in (studio lessons need no service-area check). */
export async function neighborhoodOf(db: Executor, point: { lat: number; lng: number }): Promise<string | null> {
  const row = await db
    .selectFrom('regions')
    .where(sql<boolean>`boundary @> point(${point.lng}, ${point.lat})`)
    .orderBy(sql`(kind = 'neighborhood')`, 'desc')
    .select('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

/** The student's own time-holding lessons around a window (live holds only), optionally without one booking. */
export async function findStudentBusy(
  db: Executor,
  studentId: string,
  window: { startMs: number; endMs: number; nowMs: number; excludeBookingId?: string },
): Promise<Interval[]> {
  let query = db
    .selectFrom('bookings')
    .where('studentId', '=', studentId)
    .where('status', 'in', [...TIME_HOLDING_STATUSES])
    .where('startsAt', '<', new Date(window.endMs + 6 * HOUR_MS))
    .where('endsAt', '>', new Date(window.startMs - 6 * HOUR_MS))
    .where((eb) => eb.or([eb('status', '!=', 'pending_payment'), eb('holdExpiresAt', '>', new Date(window.nowMs))]))
    .select(['id', 'startsAt', 'endsAt']);
  if (window.excludeBookingId) query = query.where('id', '!=', window.excludeBookingId);
  const rows = await query.execute();
  return rows.map((row) => ({ startMs: row.startsAt.getTime(), endMs: row.endsAt.getTime() }));
}

/**
 * Expired, unreleased holds that would still trip the exclusion constraints for this lesson
 * (instructor side widened by the largest buffer, student side on the lesson itself).
 */
export async function findBlockingExpiredHoldIds(
  db: Executor,
  input: { instructorId: string; studentId: string; startsAt: Date; endsAt: Date; now: Date },
): Promise<string[]> {
  const widenMs = 2 * HOUR_MS;
  const rows = await db
    .selectFrom('bookings')
    .where('status', '=', 'pending_payment')
    .where('holdExpiresAt', '<=', input.now)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('instructorId', '=', input.instructorId),
          eb('startsAt', '<', new Date(input.endsAt.getTime() + widenMs)),
          eb('endsAt', '>', new Date(input.startsAt.getTime() - widenMs)),
        ]),
        eb.and([eb('studentId', '=', input.studentId), eb('startsAt', '<', input.endsAt), eb('endsAt', '>', input.startsAt)]),
      ]),
    )
    .select('id')
    .execute();
  return rows.map((row) => row.id);
}

/** Inserts a booking; the exclusion constraints decide whether its time is free (23P01 otherwise). */
export async function insertBooking(
  trx: Transaction<DB>,
  values: Omit<Insertable<Bookings>, 'locationPoint'> & { locationPoint: { lat: number; lng: number } | null },
): Promise<void> {
  const { locationPoint, ...rest } = values;
  await trx
    .insertInto('bookings')
    .values({ ...rest, locationPoint: locationPoint ? sql<string>`point(${locationPoint.lng}, ${locationPoint.lat})` : null })
    .execute();
}

/** Appends to the booking's timeline. */
export async function insertBookingEvents(
  trx: Transaction<DB>,
  bookingId: string,
  events: Array<{ type: string; data?: Record<string, unknown> }>,
  actor: { type: 'user' | 'service' | 'system'; id: string | null },
  at: Date,
): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('bookingEvents')
    .values(
      events.map((event, index) => ({
        id: newId(),
        bookingId,
        type: event.type,
        actorType: actor.type,
        actorId: actor.id,
        data: JSON.stringify(event.data ?? {}),
        // events written together keep their order on the timeline
        at: new Date(at.getTime() + index),
      })),
    )
    .execute();
}

function viewQuery(db: Executor) {
  return db
    .selectFrom('bookings as b')
    .innerJoin('services as s', 's.id', 'b.serviceId')
    .leftJoin('regions as r', 'r.id', 'b.locationRegionId')
    .selectAll('b')
    .select(['s.name as serviceName', 'r.name as neighborhood']);
}

/** Who may see a booking: its two parties, or anyone with `bookings:read:any`. */
export interface BookingAccess {
  userId: string | null;
  readAny: boolean;
}

/** One booking the caller may see, or undefined (others' bookings look missing). */
export async function selectVisibleBooking(db: Executor, id: string, access: BookingAccess): Promise<BookingRow | undefined> {
  let query = viewQuery(db).where('b.id', '=', id);
  if (!access.readAny) {
    const userId = access.userId ?? '';
    query = query.where((eb) => eb.or([eb('b.studentId', '=', userId), eb('b.instructorId', '=', userId)]));
  }
  return query.executeTakeFirst();
}

/** Locks a booking row for a state change. */
export async function lockBooking(trx: Transaction<DB>, id: string): Promise<Selectable<Bookings> | undefined> {
  return trx.selectFrom('bookings').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Applies a state change to one booking. */
export async function updateBooking(trx: Transaction<DB>, id: string, patch: Updateable<Bookings>): Promise<void> {
  await trx.updateTable('bookings').set(patch).where('id', '=', id).execute();
}

export interface BookingListFilter {
  role: 'student' | 'instructor';
  userId: string;
  when?: 'upcoming' | 'past' | undefined;
  statuses?: readonly string[] | undefined;
  now: Date;
  limit: number;
  after?: { startsAt: string; id: string } | undefined;
}

/**
 * A page of the caller's bookings (limit + 1 rows). Upcoming lessons (not yet ended) come
 * soonest first; past ones and unfiltered lists latest first. Keyset on (starts_at, id).
 */
export async function selectBookingPage(db: Executor, filter: BookingListFilter): Promise<BookingRow[]> {
  const ascending = filter.when === 'upcoming';
  let query = viewQuery(db).where(filter.role === 'student' ? 'b.studentId' : 'b.instructorId', '=', filter.userId);
  if (filter.when === 'upcoming') query = query.where('b.endsAt', '>', filter.now);
  if (filter.when === 'past') query = query.where('b.endsAt', '<=', filter.now);
  if (filter.statuses && filter.statuses.length > 0) query = query.where('b.status', 'in', [...filter.statuses]);
  if (filter.after) {
    const after = filter.after;
    const startsAt = new Date(after.startsAt);
    query = query.where((eb) =>
      eb.or([
        eb('b.startsAt', ascending ? '>' : '<', startsAt),
        eb.and([eb('b.startsAt', '=', startsAt), eb('b.id', ascending ? '>' : '<', after.id)]),
      ]),
    );
  }
  const direction = ascending ? 'asc' : 'desc';
  return query
    .orderBy('b.startsAt', direction)
    .orderBy('b.id', direction)
    .limit(filter.limit + 1)
    .execute();
}

/** The booking's timeline, oldest first. */
export async function selectBookingEvents(db: Executor, bookingId: string) {
  return db
    .selectFrom('bookingEvents')
    .where('bookingId', '=', bookingId)
    .select(['type', 'actorType', 'at', 'data'])
    .orderBy('at')
    .orderBy('id')
    .execute();
}
