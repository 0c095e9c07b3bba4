import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { addDays, localDayAndMinute, PLATFORM_ZONE } from './local-time.ts';
import { TIME_HOLDING_STATUSES } from './load-instructor-context.ts';

/** How many past days of bitmaps are kept (spec: keep 180 days of past bitmaps, except days that had a booking). */
export const AVAILABILITY_RETENTION_DAYS = 180;

/**
 * Deletes availability days more than 180 local days before `now`, except days on which the
 * instructor had a lesson in a status that holds time (the bitmap is evidence for disputes about
 * that lesson). A lesson that crosses midnight keeps both of its days.
 */
export async function pruneAvailability(
  db: Kysely<DB> | Transaction<DB>,
  now: Date,
  options: { retentionDays?: number } = {},
): Promise<{ cutoffDay: string; deleted: number }> {
  const today = localDayAndMinute(now, PLATFORM_ZONE).day;
  const cutoffDay = addDays(today, -(options.retentionDays ?? AVAILABILITY_RETENTION_DAYS));
  const result = await db
    .deleteFrom('availabilityDays as a')
    .where('a.day', '<', cutoffDay)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('bookings as b')
            .select(sql.lit(1).as('one'))
            .whereRef('b.instructorId', '=', 'a.instructorId')
            .where('b.status', 'in', [...TIME_HOLDING_STATUSES])
            .where(
              sql<boolean>`a.day between (b.starts_at at time zone ${PLATFORM_ZONE})::date and (b.ends_at at time zone ${PLATFORM_ZONE})::date`,
            ),
        ),
      ),
    )
    .executeTakeFirst();
  return { cutoffDay, deleted: Number(result.numDeletedRows) };
}
