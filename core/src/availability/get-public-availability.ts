import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { bookableStarts, type LocationType } from '../booking/booking-rules.ts';
import type { Cache } from '../shared/cache.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import { addDays, dayClock, localDayAndMinute, PLATFORM_ZONE } from './local-time.ts';
import { loadInstructorTime } from './load-instructor-context.ts';

/** How finely public slots are shown: every quarter hour, or only half/whole hours (less revealing). */
export type AvailabilityDetail = 'quarter_hour' | 'half_hour' | 'hour';

export interface PublicAvailabilityQuery {
  instructorId: string;
  serviceId: string;
  durationMinutes: number;
  locationType: LocationType;
  /** Local days, inclusive. */
  fromDay?: string | undefined;
  toDay?: string | undefined;
}

export interface PublicAvailability {
  instructorId: string;
  serviceId: string;
  durationMinutes: number;
  locationType: LocationType;
  timezone: string;
  from: string;
  to: string;
  slots: Array<{ startsAt: string }>;
}

export interface PublicAvailabilityDeps {
  clock: Clock;
  cache: Cache;
  /** How far ahead the public listing reaches (the booking horizon itself is 365 days). */
  horizonDays: number;
  detail: AvailabilityDetail;
  cacheTtlSeconds: number;
}

export const MAX_RANGE_DAYS = 31;
const STEP_FOR_DETAIL: Record<AvailabilityDetail, number> = { quarter_hour: 15, half_hour: 30, hour: 60 };

/** The cache namespace a week save or booking change bumps for this instructor. */
export function availabilityCacheNamespace(instructorId: string): string {
  return `availability:${instructorId}`;
}

async function loadOffering(db: Kysely<DB>, instructorId: string, serviceId: string) {
  const instructor = await db
    .selectFrom('instructorProfiles as p')
    .innerJoin('users as u', 'u.id', 'p.userId')
    .where('p.userId', '=', instructorId)
    .where('p.isLive', '=', true)
    .where('u.status', '=', 'active')
    .select('p.userId')
    .executeTakeFirst();
  if (!instructor) throw new AppError('not_found', 'Instructor was not found.', 'instructorId');
  const offering = await db
    .selectFrom('instructorServices')
    .where('instructorId', '=', instructorId)
    .where('serviceId', '=', serviceId)
    .where('deletedAt', 'is', null)
    .where('isActive', '=', true)
    .select(['hourlyRateCents', 'durations', 'locationTypes'])
    .executeTakeFirst();
  if (!offering) throw new AppError('not_found', 'This instructor does not offer that service.', 'serviceId');
  return offering;
}

/**
 * Bookable start times of one instructor's service, from the same rules function the booking
 * validator uses. No student data: only start instants. Cached per instructor version.
 */
export async function getPublicAvailability(
  db: Kysely<DB>,
  query: PublicAvailabilityQuery,
  deps: PublicAvailabilityDeps,
): Promise<PublicAvailability> {
  const nowMs = deps.clock.now().getTime();
  const today = localDayAndMinute(nowMs, PLATFORM_ZONE).day;
  const fromDay = query.fromDay ?? today;
  const toDay = query.toDay ?? addDays(fromDay, 6);
  if (toDay < fromDay) throw new AppError('validation_error', '`to` must be on or after `from`.', 'to');
  if (addDays(fromDay, MAX_RANGE_DAYS - 1) < toDay)
    throw new AppError('validation_error', `Ask for at most ${MAX_RANGE_DAYS} days at a time.`, 'to');
  const lastVisibleDay = addDays(today, deps.horizonDays);
  const offering = await loadOffering(db, query.instructorId, query.serviceId);

  const base = {
    instructorId: query.instructorId,
    serviceId: query.serviceId,
    durationMinutes: query.durationMinutes,
    locationType: query.locationType,
    timezone: PLATFORM_ZONE,
    from: fromDay,
    to: toDay,
  };
  if (fromDay > lastVisibleDay || toDay < today) return { ...base, slots: [] };

  const version = await deps.cache.version(availabilityCacheNamespace(query.instructorId));
  const cacheKey = `availability:${query.instructorId}:v${version}:${query.serviceId}:${query.durationMinutes}:${query.locationType}:${fromDay}:${toDay}:${deps.detail}:${deps.horizonDays}`;
  const cached = await deps.cache.get<PublicAvailability['slots']>(cacheKey);
  if (cached) return { ...base, slots: cached };

  const windowStartMs = dayClock(fromDay < today ? today : fromDay).midnightMs;
  const windowEndMs = dayClock(toDay > lastVisibleDay ? lastVisibleDay : toDay).nextMidnightMs;
  const time = await loadInstructorTime(db, query.instructorId, windowStartMs, windowEndMs, nowMs);
  const starts = bookableStarts(windowStartMs, windowEndMs, nowMs, query, { ...time, offering });
  const stepMs = STEP_FOR_DETAIL[deps.detail] * 60_000;
  const slots = starts.filter((ms) => ms % stepMs === 0).map((ms) => ({ startsAt: new Date(ms).toISOString() }));
  await deps.cache.set(cacheKey, slots, deps.cacheTtlSeconds);
  return { ...base, slots };
}

/** The first bookable start within the public horizon, or null. */
export async function getNextAvailable(
  db: Kysely<DB>,
  query: Omit<PublicAvailabilityQuery, 'fromDay' | 'toDay'>,
  deps: PublicAvailabilityDeps,
): Promise<{ startsAt: string } | null> {
  const today = localDayAndMinute(deps.clock.now().getTime(), PLATFORM_ZONE).day;
  // walk the horizon a month at a time so a cached page answers most requests
  for (let fromDay = today; fromDay <= addDays(today, deps.horizonDays); fromDay = addDays(fromDay, MAX_RANGE_DAYS)) {
    const page = await getPublicAvailability(db, { ...query, fromDay, toDay: addDays(fromDay, MAX_RANGE_DAYS - 1) }, deps);
    if (page.slots[0]) return page.slots[0];
  }
  return null;
}
