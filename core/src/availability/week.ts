import { DateTime } from 'luxon';
import { AppError } from '../shared/errors.ts';
import { bitmapFromRanges, emptyBitmap, formatMinute, MINUTES_PER_DAY, type MinuteRange, rangesFromBitmap } from './bitmap.ts';
import { addDays } from './local-time.ts';

/**
 * How the editing API speaks about availability: wall-clock ranges per local day, by whole weeks
 * starting on Monday. Pure and browser-safe; the bitmap is the storage form (bitmap.ts).
 */

/** A wall-clock range of one local day, `'HH:MM'`, end exclusive; `end` may be `'24:00'`. */
export interface TimeRange {
  start: string;
  end: string;
}

/** One local day ('YYYY-MM-DD') and its open ranges, sorted and merged. */
export interface DayRanges {
  day: string;
  ranges: TimeRange[];
}

/** Weekday keys in week order (weeks start on Monday). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The open ranges of each weekday, all seven named (an empty list closes that weekday). */
export type WeeklyPattern = Record<Weekday, TimeRange[]>;

const CLOCK_TIME = /^(\d{2}):(\d{2})$/;

/** Minute of the day of `'HH:MM'` (00:00–24:00), or null when it is not such a time. */
export function minuteOfClockTime(time: string): number | null {
  const match = CLOCK_TIME.exec(time);
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes !== 0)) return null;
  return hours * 60 + minutes;
}

/**
 * The bitmap of a day's ranges. Overlapping or touching ranges merge. Throws a 422 naming the
 * offending range (`${field}.${index}.start|end`) when a time is malformed or start ≥ end.
 */
export function bitmapFromTimeRanges(ranges: readonly TimeRange[], field: string): Uint8Array {
  const minuteRanges: MinuteRange[] = ranges.map((range, index) => {
    const start = minuteOfClockTime(range.start);
    if (start === null || start >= MINUTES_PER_DAY) {
      throw new AppError('validation_error', `${field}.${index}.start: use a time like 09:00 (00:00–23:59).`, `${field}.${index}.start`);
    }
    const end = minuteOfClockTime(range.end);
    if (end === null)
      throw new AppError('validation_error', `${field}.${index}.end: use a time like 17:30 (up to 24:00).`, `${field}.${index}.end`);
    if (end <= start)
      throw new AppError('validation_error', `${field}.${index}.end: a range must end after it starts.`, `${field}.${index}.end`);
    return { start, end };
  });
  return minuteRanges.length === 0 ? emptyBitmap() : bitmapFromRanges(minuteRanges);
}

/** A bitmap's open minutes as sorted, merged wall-clock ranges. */
export function timeRangesFromBitmap(bits: Uint8Array): TimeRange[] {
  return rangesFromBitmap(bits).map((range) => ({ start: formatMinute(range.start), end: formatMinute(range.end) }));
}

/** True for a real calendar date written 'YYYY-MM-DD'. */
export function isLocalDay(day: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && DateTime.fromISO(day, { zone: 'UTC' }).isValid;
}

/** Throws a 422 on `field` unless `day` is a real date. */
export function assertLocalDay(day: string, field: string): void {
  if (!isLocalDay(day)) throw new AppError('validation_error', `${field}: use a real date like 2027-03-15.`, field);
}

/** Throws a 422 on `field` unless `day` is a real date and a Monday (weeks start on Monday). */
export function assertWeekStart(day: string, field: string): void {
  assertLocalDay(day, field);
  if (DateTime.fromISO(day, { zone: 'UTC' }).weekday !== 1) {
    throw new AppError('validation_error', `${field}: a week starts on a Monday; ${day} is a ${weekdayOf(day)}.`, field);
  }
}

/** The seven local days of the week starting on `weekStart` (a Monday). */
export function weekDays(weekStart: string): string[] {
  return WEEKDAYS.map((_, index) => addDays(weekStart, index));
}

/** Which weekday a local day is. */
export function weekdayOf(day: string): Weekday {
  const weekday = WEEKDAYS[DateTime.fromISO(day, { zone: 'UTC' }).weekday - 1];
  if (!weekday) throw new RangeError(`Invalid day "${day}"`);
  return weekday;
}

/** Validates a weekly pattern once and gives each weekday's bitmap (422s name `${field}.<weekday>.<i>`). */
export function bitmapsOfPattern(pattern: WeeklyPattern, field: string): Record<Weekday, Uint8Array> {
  return Object.fromEntries(WEEKDAYS.map((weekday) => [weekday, bitmapFromTimeRanges(pattern[weekday], `${field}.${weekday}`)])) as Record<
    Weekday,
    Uint8Array
  >;
}
