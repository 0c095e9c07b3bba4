import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { AppError } from '../shared/errors.ts';
import { bitsOf, readStoredDays, readWeek } from './get-week.ts';
import {
  assertWeekNotOver,
  type AvailabilityActor,
  type AvailabilityDeps,
  localToday,
  type WeekWriteResult,
  writeDays,
} from './save-week.ts';
import { assertWeekStart, weekDays } from './week.ts';

export interface CopyWeekInput {
  fromWeekStart: string;
  toWeekStart: string;
  /** Optional ETag of the target week: when given and stale, 409 and nothing is written. */
  ifMatch?: string | undefined;
}

/**
 * Makes the target week's seven days equal to the source week's, day by day (Monday to Monday…).
 * Past days of the target week are left as they are and reported; only changed days are written.
 */
export async function copyWeek(
  db: Kysely<DB>,
  actor: AvailabilityActor,
  input: CopyWeekInput,
  deps: AvailabilityDeps,
): Promise<WeekWriteResult> {
  assertWeekStart(input.fromWeekStart, 'weekStart');
  assertWeekStart(input.toWeekStart, 'toWeekStart');
  if (input.fromWeekStart === input.toWeekStart) throw new AppError('validation_error', 'Copy a week to a different week.', 'toWeekStart');
  const today = localToday(deps.clock);
  assertWeekNotOver(input.toWeekStart, today, 'toWeekStart');
  const sourceDays = weekDays(input.fromWeekStart);
  const targetDays = weekDays(input.toWeekStart);
  return db.transaction().execute(async (trx) => {
    const source = await readStoredDays(
      trx,
      actor.instructorId,
      sourceDays[0] ?? input.fromWeekStart,
      sourceDays[6] ?? input.fromWeekStart,
    );
    const desired = new Map(targetDays.map((day, index) => [day, bitsOf(source, sourceDays[index] ?? '')]));
    const outcome = await writeDays(
      trx,
      actor,
      {
        desired,
        pastDays: 'skip',
        fieldOf: () => 'toWeekStart',
        ...(input.ifMatch ? { precondition: { weekStart: input.toWeekStart, ifMatch: input.ifMatch } } : {}),
        audit: { action: 'availability.week.copy', metadata: { fromWeekStart: input.fromWeekStart, weekStart: input.toWeekStart } },
      },
      today,
    );
    return { ...(await readWeek(trx, actor.instructorId, input.toWeekStart)), ...outcome };
  });
}
