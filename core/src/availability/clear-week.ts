import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { emptyBitmap } from './bitmap.ts';
import {
  assertWeekNotOver,
  type AvailabilityActor,
  type AvailabilityDeps,
  localToday,
  type WeekWriteResult,
  writeWeek,
} from './save-week.ts';
import { assertWeekStart, weekDays } from './week.ts';

export interface ClearWeekInput {
  weekStart: string;
  /** Optional ETag of the week: when given and stale, 409 and nothing is written. */
  ifMatch?: string | undefined;
}

/** Closes every day of the week from today on (past days are left as they are and reported). */
export async function clearWeek(
  db: Kysely<DB>,
  actor: AvailabilityActor,
  input: ClearWeekInput,
  deps: AvailabilityDeps,
): Promise<WeekWriteResult> {
  assertWeekStart(input.weekStart, 'weekStart');
  assertWeekNotOver(input.weekStart, localToday(deps.clock), 'weekStart');
  return writeWeek(
    db,
    actor,
    input.weekStart,
    {
      desired: new Map(weekDays(input.weekStart).map((day) => [day, emptyBitmap()])),
      pastDays: 'skip',
      fieldOf: () => 'weekStart',
      ...(input.ifMatch ? { precondition: { weekStart: input.weekStart, ifMatch: input.ifMatch } } : {}),
      audit: { action: 'availability.week.clear', metadata: { weekStart: input.weekStart } },
    },
    deps,
  );
}
