import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { AppError } from '../shared/errors.ts';
import { addDays, daysBetween } from './local-time.ts';
import { findPreset } from './presets.ts';
import {
  assertWeekNotOver,
  type AvailabilityActor,
  type AvailabilityDeps,
  localToday,
  type WeekWriteResult,
  writeDays,
  writeWeek,
} from './save-week.ts';
import { assertLocalDay, assertWeekStart, bitmapsOfPattern, weekDays, weekdayOf, type WeeklyPattern } from './week.ts';

/** The longest range one pattern application may cover. */
export const MAX_PATTERN_DAYS = 365;

export interface ApplyPatternInput {
  /** First local day, today or later. */
  from: string;
  /** Last local day, inclusive; at most 365 days from `from`. */
  to: string;
  pattern: WeeklyPattern;
}

/**
 * Makes every day from `from` to `to` equal to its weekday in the pattern (an empty weekday closes
 * that day). Only changed days are written, in one transaction with one audit record. Blackout days
 * keep their blackout.
 */
export async function applyPattern(
  db: Kysely<DB>,
  actor: AvailabilityActor,
  input: ApplyPatternInput,
  deps: AvailabilityDeps,
): Promise<{ from: string; to: string; changedDays: string[] }> {
  assertLocalDay(input.from, 'from');
  assertLocalDay(input.to, 'to');
  const today = localToday(deps.clock);
  if (input.from < today) throw new AppError('validation_error', `from: ${input.from} is in the past; past days cannot be edited.`, 'from');
  if (input.to < input.from) throw new AppError('validation_error', 'to: must be on or after `from`.', 'to');
  if (addDays(input.from, MAX_PATTERN_DAYS - 1) < input.to) {
    throw new AppError('validation_error', `to: apply a pattern to at most ${MAX_PATTERN_DAYS} days at a time.`, 'to');
  }
  const bitmaps = bitmapsOfPattern(input.pattern, 'pattern');
  const desired = new Map(daysBetween(input.from, input.to).map((day) => [day, bitmaps[weekdayOf(day)]]));
  const { changedDays } = await db.transaction().execute((trx) =>
    writeDays(
      trx,
      actor,
      {
        desired,
        pastDays: 'refuse',
        fieldOf: () => 'from',
        audit: { action: 'availability.pattern.apply', metadata: { from: input.from, to: input.to, pattern: input.pattern } },
      },
      today,
    ),
  );
  return { from: input.from, to: input.to, changedDays };
}

export interface ApplyPresetInput {
  weekStart: string;
  preset: string;
  /** Optional ETag of the week: when given and stale, 409 and nothing is written. */
  ifMatch?: string | undefined;
}

/** Replaces the week with a preset schedule (days the preset leaves out are closed; past days are left as they are). */
export async function applyPreset(
  db: Kysely<DB>,
  actor: AvailabilityActor,
  input: ApplyPresetInput,
  deps: AvailabilityDeps,
): Promise<WeekWriteResult> {
  assertWeekStart(input.weekStart, 'weekStart');
  const preset = findPreset(input.preset);
  if (!preset) throw new AppError('validation_error', `preset: unknown preset "${input.preset}".`, 'preset');
  assertWeekNotOver(input.weekStart, localToday(deps.clock), 'weekStart');
  const bitmaps = bitmapsOfPattern(preset.pattern, 'preset');
  return writeWeek(
    db,
    actor,
    input.weekStart,
    {
      desired: new Map(weekDays(input.weekStart).map((day) => [day, bitmaps[weekdayOf(day)]])),
      pastDays: 'skip',
      fieldOf: () => 'weekStart',
      ...(input.ifMatch ? { precondition: { weekStart: input.weekStart, ifMatch: input.ifMatch } } : {}),
      audit: { action: 'availability.preset.apply', metadata: { weekStart: input.weekStart, preset: preset.id } },
    },
    deps,
  );
}
