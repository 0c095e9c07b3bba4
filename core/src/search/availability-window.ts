import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import type { Interval } from '../availability/intervals.ts';
import { TIME_HOLDING_STATUSES } from '../availability/load-instructor-context.ts';
import { addDays, type DayClock, dayClock, daysBetween, instantOfLocalMinute, PLATFORM_ZONE } from '../availability/local-time.ts';
import { openIntervalsOfDay } from '../availability/open-time.ts';
import { bookableStarts, type BusyLesson, type LocationType } from '../booking/booking-rules.ts';
import type { TimeWindow } from './parsed-query.ts';

const HOUR_MS = 3_600_000;

// A day's wall-clock ↔ UTC mapping never changes, and computing it (time-zone arithmetic) costs
// far more than reading a bitmap: a search touches the same few weeks for every instructor.
const dayClocks = new Map<string, DayClock>();
export function cachedDayClock(day: string): DayClock {
  let clock = dayClocks.get(day);
  if (!clock) {
    if (dayClocks.size >= 4_000) dayClocks.clear();
    clock = dayClock(day, PLATFORM_ZONE);
    dayClocks.set(day, clock);
  }
  return clock;
}

export interface InstructorTime {
  openIntervals: Interval[];
  busy: BusyLesson[];
}

/**
 * The same facts `loadInstructorTime` reads for one instructor (open bitmap intervals without
 * blackout days, time-holding lessons and live holds), for many instructors in three statements.
 */
export async function loadInstructorsTime(
  db: Kysely<DB>,
  instructorIds: readonly string[],
  fromDay: string,
  toDay: string,
  nowMs: number,
): Promise<Map<string, InstructorTime>> {
  const result = new Map<string, InstructorTime>(instructorIds.map((id) => [id, { openIntervals: [], busy: [] }]));
  if (instructorIds.length === 0 || toDay < fromDay) return result;
  const ids = [...instructorIds];
  const windowStartMs = cachedDayClock(fromDay).midnightMs;
  const windowEndMs = cachedDayClock(toDay).nextMidnightMs;
  // a lesson may start the evening before the window or run past its end: read a day either side
  const firstDay = addDays(fromDay, -1);
  const lastDay = addDays(toDay, 1);
  const [days, blackouts, lessons] = await Promise.all([
    db
      .selectFrom('availabilityDays')
      .where('instructorId', 'in', ids)
      .where('day', '>=', firstDay)
      .where('day', '<=', lastDay)
      .select(['instructorId', 'day', 'bits'])
      .execute(),
    db
      .selectFrom('blackoutDates')
      .where('instructorId', 'in', ids)
      .where('day', '>=', firstDay)
      .where('day', '<=', lastDay)
      .select(['instructorId', 'day'])
      .execute(),
    db
      .selectFrom('bookings')
      .where('instructorId', 'in', ids)
      .where('status', 'in', [...TIME_HOLDING_STATUSES])
      .where('startsAt', '<', new Date(windowEndMs + 6 * HOUR_MS))
      .where('endsAt', '>', new Date(windowStartMs - 6 * HOUR_MS))
      .where((eb) => eb.or([eb('status', '!=', 'pending_payment'), eb('holdExpiresAt', '>', new Date(nowMs))]))
      .select(['instructorId', 'startsAt', 'endsAt', 'bufferMinutes'])
      .execute(),
  ]);
  const blackedOut = new Set(blackouts.map((row) => `${row.instructorId}|${row.day}`));
  for (const row of days) {
    if (blackedOut.has(`${row.instructorId}|${row.day}`)) continue;
    result
      .get(row.instructorId)
      ?.openIntervals.push(...openIntervalsOfDay(row.day, new Uint8Array(row.bits), PLATFORM_ZONE, cachedDayClock(row.day)));
  }
  for (const row of lessons) {
    result
      .get(row.instructorId)
      ?.busy.push({ startMs: row.startsAt.getTime(), endMs: row.endsAt.getTime(), bufferMinutes: row.bufferMinutes });
  }
  return result;
}

/**
 * UTC windows for local days and an optional local time-of-day window (start times must fall
 * inside it). A window edge in a skipped DST hour moves to the first minute that exists.
 */
export function utcWindows(days: readonly string[], timeWindow: TimeWindow | null): Interval[] {
  const windows: Interval[] = [];
  for (const day of days) {
    const clock = cachedDayClock(day);
    if (!timeWindow) {
      windows.push({ startMs: clock.midnightMs, endMs: clock.nextMidnightMs });
      continue;
    }
    const instant = (minute: number) => {
      if (minute >= 1440) return clock.nextMidnightMs;
      for (let probe = minute; probe < 1440; probe += 1) {
        const at = instantOfLocalMinute(clock, probe);
        if (at !== null) return at;
      }
      return clock.nextMidnightMs;
    };
    const startMs = instant(timeWindow.startMinute);
    const endMs = instant(timeWindow.endMinute);
    if (endMs > startMs) windows.push({ startMs, endMs });
  }
  return windows;
}

/** Local days from `from` to `to` inclusive, never before `today` nor after `lastDay`. */
export function clampDays(from: string, to: string, today: string, lastDay: string): string[] {
  const start = from < today ? today : from;
  const end = to > lastDay ? lastDay : to;
  return start > end ? [] : daysBetween(start, end);
}

/**
 * The first start the booking rules allow for this offering inside any of the windows, trying
 * each usable location type at the offering's shortest duration; null when nothing is open.
 */
export function firstBookableStart(
  windows: readonly Interval[],
  nowMs: number,
  time: InstructorTime,
  offering: { hourlyRateCents: number; durations: readonly number[]; locationTypes: readonly string[] },
  locationTypes: readonly LocationType[],
): number | null {
  if (windows.length === 0 || locationTypes.length === 0 || offering.durations.length === 0) return null;
  const durationMinutes = Math.min(...offering.durations);
  const context = { openIntervals: time.openIntervals, busy: time.busy, offering };
  let best: number | null = null;
  for (const locationType of locationTypes) {
    for (const window of windows) {
      if (best !== null && window.startMs >= best) break;
      const [start] = bookableStarts(window.startMs, window.endMs, nowMs, { durationMinutes, locationType }, context, 1);
      if (start !== undefined) {
        if (best === null || start < best) best = start;
        break;
      }
    }
  }
  return best;
}
