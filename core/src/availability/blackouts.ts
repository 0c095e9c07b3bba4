import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { AppError } from '../shared/errors.ts';
import { type Blackout, lockInstructorAvailability } from './get-week.ts';
import { addDays } from './local-time.ts';
import { type AvailabilityActor, type AvailabilityDeps, localToday } from './save-week.ts';
import { assertLocalDay } from './week.ts';

/** The widest window one blackout listing covers. */
export const MAX_BLACKOUT_LIST_DAYS = 731;

/** An instructor's blackout days from `from` (default today) to `to` (default a year later), inclusive. */
export async function findBlackouts(
  db: Kysely<DB>,
  instructorId: string,
  range: { from?: string | undefined; to?: string | undefined },
  deps: AvailabilityDeps,
): Promise<{ from: string; to: string; items: Blackout[] }> {
  const from = range.from ?? localToday(deps.clock);
  assertLocalDay(from, 'from');
  const to = range.to ?? addDays(from, 365);
  assertLocalDay(to, 'to');
  if (to < from) throw new AppError('validation_error', 'to: must be on or after `from`.', 'to');
  if (addDays(from, MAX_BLACKOUT_LIST_DAYS - 1) < to)
    throw new AppError('validation_error', `to: list at most ${MAX_BLACKOUT_LIST_DAYS} days at a time.`, 'to');
  const items = await db
    .selectFrom('blackoutDates')
    .where('instructorId', '=', instructorId)
    .where('day', '>=', from)
    .where('day', '<=', to)
    .select(['day', 'reason'])
    .orderBy('day')
    .execute();
  return { from, to, items };
}

/** Closes a day (today or later) whatever its ranges say. 409 when it is already a blackout. */
export async function addBlackout(
  db: Kysely<DB>,
  actor: AvailabilityActor,
  input: { day: string; reason?: string | null | undefined },
  deps: AvailabilityDeps,
): Promise<Blackout> {
  assertLocalDay(input.day, 'day');
  if (input.day < localToday(deps.clock))
    throw new AppError('validation_error', `${input.day} is in the past; past days cannot be edited.`, 'day');
  const reason = input.reason?.trim() || null;
  return db.transaction().execute(async (trx) => {
    await lockInstructorAvailability(trx, actor.instructorId);
    const inserted = await trx
      .insertInto('blackoutDates')
      .values({ instructorId: actor.instructorId, day: input.day, reason })
      .onConflict((conflict) => conflict.columns(['instructorId', 'day']).doNothing())
      .returning(['day', 'reason'])
      .executeTakeFirst();
    if (!inserted) throw new AppError('already_exists', `${input.day} is already a blackout day.`, 'day');
    await recordAudit(trx, actor.audit, {
      action: 'availability.blackout.add',
      resourceType: 'instructor_availability',
      resourceId: actor.instructorId,
      after: inserted,
      metadata: { day: input.day },
    });
    return inserted;
  });
}

/** Reopens a blackout day (today or later) to its ranges. 404 when it is not a blackout. */
export async function removeBlackout(db: Kysely<DB>, actor: AvailabilityActor, day: string, deps: AvailabilityDeps): Promise<void> {
  assertLocalDay(day, 'day');
  if (day < localToday(deps.clock)) throw new AppError('validation_error', `${day} is in the past; past days cannot be edited.`, 'day');
  await db.transaction().execute(async (trx) => {
    await lockInstructorAvailability(trx, actor.instructorId);
    const removed = await trx
      .deleteFrom('blackoutDates')
      .where('instructorId', '=', actor.instructorId)
      .where('day', '=', day)
      .returning(['day', 'reason'])
      .executeTakeFirst();
    if (!removed) throw new AppError('not_found', `${day} is not a blackout day.`, 'day');
    await recordAudit(trx, actor.audit, {
      action: 'availability.blackout.remove',
      resourceType: 'instructor_availability',
      resourceId: actor.instructorId,
      before: removed,
      metadata: { day },
    });
  });
}
