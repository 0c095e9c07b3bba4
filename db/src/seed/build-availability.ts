import type { DateTime } from 'luxon';
import { encodeDayBitmap, type MinuteRange } from './bitmap.ts';
import { BLACKOUT_REASONS } from './data/schedules.ts';
import { DAY_MS, HOUR_MS, type Instructor, type SeedRows } from './model.ts';
import type { Random } from './random.ts';

/** Availability is written for the 8 weeks before the seed day and the 8 weeks from it. */
export const PAST_DAYS = 56;
export const FUTURE_DAYS = 56;

/** Open minutes per instructor and local day after closed days and blackouts. */
export type OpenHours = ReadonlyMap<string, readonly MinuteRange[]>;

export function openHoursKey(instructorId: string, day: string): string {
  return `${instructorId}|${day}`;
}

/**
 * Day bitmaps from each live instructor's weekly pattern (a few days closed here and there) and
 * a few blackout dates ahead. Past weeks are kept too, as the application keeps them for days
 * that had lessons.
 */
export function buildAvailability(
  rng: Random,
  instructors: readonly Instructor[],
  today: DateTime,
  anchor: Date,
): { rows: Pick<SeedRows, 'availabilityDays' | 'blackoutDates'>; openHours: OpenHours } {
  const rows: Pick<SeedRows, 'availabilityDays' | 'blackoutDates'> = { availabilityDays: [], blackoutDates: [] };
  const openHours = new Map<string, readonly MinuteRange[]>();

  for (const instructor of instructors) {
    if (!instructor.isLive) continue;
    const openDays: string[] = [];
    for (let offset = -PAST_DAYS; offset < FUTURE_DAYS; offset++) {
      const day = today.plus({ days: offset });
      const ranges = instructor.weeklyHours[day.weekday as 1 | 2 | 3 | 4 | 5 | 6 | 7];
      if (ranges.length === 0) continue;
      if (instructor.demoKey === null && rng.chance(0.04)) continue;
      const dayIso = day.toISODate() as string;
      const dayStartMs = day.toMillis();
      // Edited some days before the day itself (and never after the seed day).
      const updatedAtMs = Math.min(dayStartMs, anchor.getTime()) - rng.int(1, 20) * DAY_MS + rng.int(8, 22) * HOUR_MS;
      rows.availabilityDays.push({
        instructorId: instructor.userId,
        day: dayIso,
        bits: encodeDayBitmap(ranges),
        updatedAt: new Date(updatedAtMs),
      });
      openHours.set(openHoursKey(instructor.userId, dayIso), ranges);
      if (offset >= 2) openDays.push(dayIso);
    }

    if (openDays.length > 0 && rng.chance(0.12)) {
      for (const day of rng.sample(openDays, rng.int(1, 3))) {
        rows.blackoutDates.push({
          instructorId: instructor.userId,
          day,
          reason: rng.pick(BLACKOUT_REASONS),
          createdAt: new Date(anchor.getTime() - rng.int(1, 12) * DAY_MS + rng.int(8, 22) * HOUR_MS),
        });
        openHours.delete(openHoursKey(instructor.userId, day));
      }
    }
  }
  return { rows, openHours };
}
