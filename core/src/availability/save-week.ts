import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import { bitmapsEqual } from './bitmap.ts';
import {
  type AvailabilityWeek,
  bitsOf,
  ifMatchAccepts,
  lockInstructorAvailability,
  readStoredDays,
  readWeek,
  weekEtag,
} from './get-week.ts';
import { localDayAndMinute, PLATFORM_ZONE } from './local-time.ts';
import { assertWeekStart, bitmapFromTimeRanges, type DayRanges, type TimeRange, timeRangesFromBitmap, weekDays } from './week.ts';

/** Whose availability is edited, and who is acting (for the audit record). */
export interface AvailabilityActor {
  instructorId: string;
  audit: AuditContext;
}

export interface AvailabilityDeps {
  clock: Clock;
}

/** A week after a write, with what the write did. */
export interface WeekWriteResult extends AvailabilityWeek {
  /** Days whose bitmap this write changed (the only rows written). */
  changedDays: string[];
  /** Days before today that a week-wide operation left as they were. */
  skippedPastDays: string[];
}

/** What one write wants: new bitmaps by day, and how to treat past days and the ETag. */
export interface DaysWrite {
  desired: Map<string, Uint8Array>;
  /** `refuse`: a past day that would change is a 422 on `fieldOf(day)`; `skip`: past days are left alone. */
  pastDays: 'refuse' | 'skip';
  fieldOf: (day: string) => string;
  /** When given, the week's current ETag must match `ifMatch` or the write is a 409 and nothing is written. */
  precondition?: { weekStart: string; ifMatch: string };
  audit: { action: string; metadata: Record<string, unknown> };
}

/** Today's local day at the platform. */
export function localToday(clock: Clock): string {
  return localDayAndMinute(clock.now(), PLATFORM_ZONE).day;
}

/** Throws a 422 on If-Match unless the header is present and names an entity tag. */
export function requireIfMatch(ifMatch: string | undefined): string {
  if (!ifMatch?.trim()) {
    throw new AppError(
      'validation_error',
      'Send If-Match with the ETag of the week you loaded, so two editors cannot overwrite each other.',
      'If-Match',
    );
  }
  if (ifMatch.trim() === '*')
    throw new AppError('validation_error', 'If-Match must be the ETag of the week you loaded, not *.', 'If-Match');
  return ifMatch;
}

/**
 * The one way availability rows change: inside the caller's transaction, lock the instructor,
 * read the affected days FOR UPDATE, check the ETag against what is really stored now, then write
 * only the days whose bitmap differs and audit them (ranges before/after, not bytes).
 */
export async function writeDays(
  trx: Transaction<DB>,
  actor: AvailabilityActor,
  write: DaysWrite,
  today: string,
): Promise<{ changedDays: string[]; skippedPastDays: string[] }> {
  await lockInstructorAvailability(trx, actor.instructorId);
  const days = [...write.desired.keys(), ...(write.precondition ? weekDays(write.precondition.weekStart) : [])].sort();
  const firstDay = days[0];
  const lastDay = days[days.length - 1];
  if (firstDay === undefined || lastDay === undefined) return { changedDays: [], skippedPastDays: [] };
  const stored = await readStoredDays(trx, actor.instructorId, firstDay, lastDay, { forUpdate: true });

  let etagBefore: string | null = null;
  if (write.precondition) {
    etagBefore = weekEtag(weekDays(write.precondition.weekStart).map((day) => bitsOf(stored, day)));
    if (!ifMatchAccepts(write.precondition.ifMatch, etagBefore)) {
      throw new AppError('stale_version', 'This week changed since you loaded it. Reload it and make your changes again.', 'If-Match');
    }
  }

  const changedDays: string[] = [];
  const skippedPastDays: string[] = [];
  const before: Record<string, TimeRange[]> = {};
  const after: Record<string, TimeRange[]> = {};
  for (const [day, bits] of [...write.desired].sort(([a], [b]) => a.localeCompare(b))) {
    const current = bitsOf(stored, day);
    if (bitmapsEqual(current, bits)) continue;
    if (day < today) {
      if (write.pastDays === 'skip') {
        skippedPastDays.push(day);
        continue;
      }
      throw new AppError('validation_error', `${day} is in the past; past days cannot be edited.`, write.fieldOf(day));
    }
    changedDays.push(day);
    before[day] = timeRangesFromBitmap(current);
    after[day] = timeRangesFromBitmap(bits);
  }

  if (changedDays.length > 0) {
    await trx
      .insertInto('availabilityDays')
      .values(changedDays.map((day) => ({ instructorId: actor.instructorId, day, bits: Buffer.from(write.desired.get(day) ?? []) })))
      .onConflict((conflict) =>
        conflict.columns(['instructorId', 'day']).doUpdateSet((eb) => ({ bits: eb.ref('excluded.bits'), updatedAt: sql<Date>`now()` })),
      )
      .execute();
  }
  await recordAudit(trx, actor.audit, {
    action: write.audit.action,
    resourceType: 'instructor_availability',
    resourceId: actor.instructorId,
    before,
    after,
    metadata: { ...write.audit.metadata, changedDays, skippedPastDays, ...(etagBefore ? { etagBefore } : {}) },
  });
  return { changedDays, skippedPastDays };
}

/** Runs a week-wide write in its own transaction and answers the week as it now stands. */
export async function writeWeek(
  db: Kysely<DB>,
  actor: AvailabilityActor,
  weekStart: string,
  write: DaysWrite,
  deps: AvailabilityDeps,
): Promise<WeekWriteResult> {
  const today = localToday(deps.clock);
  return db.transaction().execute(async (trx) => {
    const outcome = await writeDays(trx, actor, write, today);
    return { ...(await readWeek(trx, actor.instructorId, weekStart)), ...outcome };
  });
}

/** Throws a 422 on `field` when every day of the week is already past. */
export function assertWeekNotOver(weekStart: string, today: string, field: string): void {
  const sunday = weekDays(weekStart)[6] ?? weekStart;
  if (sunday < today) throw new AppError('validation_error', `The week of ${weekStart} is over; past days cannot be edited.`, field);
}

export interface SaveWeekInput {
  weekStart: string;
  /** The `If-Match` header: the ETag of the week the editor loaded. Required. */
  ifMatch: string | undefined;
  /** The days to replace (each inside the week, at most once); days left out stay as they are. */
  days: DayRanges[];
}

/**
 * Saves an edited week. Only days whose bitmap changes are written; a stale `If-Match` is a 409
 * and nothing is written (checked inside the transaction, under the instructor's lock, so two
 * saves from the same version cannot both win). Changing a past day is a 422.
 */
export async function saveWeek(
  db: Kysely<DB>,
  actor: AvailabilityActor,
  input: SaveWeekInput,
  deps: AvailabilityDeps,
): Promise<WeekWriteResult> {
  assertWeekStart(input.weekStart, 'weekStart');
  const ifMatch = requireIfMatch(input.ifMatch);
  const inWeek = new Set(weekDays(input.weekStart));
  const desired = new Map<string, Uint8Array>();
  const fieldByDay = new Map<string, string>();
  input.days.forEach((entry, index) => {
    if (!inWeek.has(entry.day)) {
      throw new AppError(
        'validation_error',
        `days.${index}.day: ${entry.day} is not in the week of ${input.weekStart}.`,
        `days.${index}.day`,
      );
    }
    if (desired.has(entry.day))
      throw new AppError('validation_error', `days.${index}.day: ${entry.day} is listed twice.`, `days.${index}.day`);
    desired.set(entry.day, bitmapFromTimeRanges(entry.ranges, `days.${index}.ranges`));
    fieldByDay.set(entry.day, `days.${index}`);
  });
  return writeWeek(
    db,
    actor,
    input.weekStart,
    {
      desired,
      pastDays: 'refuse',
      fieldOf: (day) => fieldByDay.get(day) ?? 'days',
      precondition: { weekStart: input.weekStart, ifMatch },
      audit: { action: 'availability.week.save', metadata: { weekStart: input.weekStart } },
    },
    deps,
  );
}
