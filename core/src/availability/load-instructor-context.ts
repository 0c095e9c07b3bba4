import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import type { BusyLesson } from '../booking/booking-rules.ts';
import type { Interval } from './intervals.ts';
import { addDays, localDayAndMinute, PLATFORM_ZONE } from './local-time.ts';
import { openIntervalsOfDay } from './open-time.ts';

/** Statuses that hold time (the exclusion constraints use the same list). */
export const TIME_HOLDING_STATUSES = ['pending_payment', 'confirmed', 'completed', 'no_show'] as const;

const HOUR_MS = 3_600_000;

/**
 * What the booking rules need to know about an instructor around [windowStartMs, windowEndMs):
 * the open UTC intervals of their bitmaps (blackout days removed) and their time-holding lessons.
 * A pending hold whose expiry has passed no longer holds time for readers (spec: an expired hold
 * is released by a job and by any reader that finds it expired).
 */
export async function loadInstructorTime(
  db: Kysely<DB> | Transaction<DB>,
  instructorId: string,
  windowStartMs: number,
  windowEndMs: number,
  nowMs: number,
): Promise<{ openIntervals: Interval[]; busy: BusyLesson[] }> {
  // a lesson may start the evening before the window or run past its end: read a day either side
  const firstDay = addDays(localDayAndMinute(windowStartMs, PLATFORM_ZONE).day, -1);
  const lastDay = addDays(localDayAndMinute(windowEndMs, PLATFORM_ZONE).day, 1);
  const [days, blackouts, lessons] = await Promise.all([
    db
      .selectFrom('availabilityDays')
      .where('instructorId', '=', instructorId)
      .where('day', '>=', firstDay)
      .where('day', '<=', lastDay)
      .select(['day', 'bits'])
      .execute(),
    db
      .selectFrom('blackoutDates')
      .where('instructorId', '=', instructorId)
      .where('day', '>=', firstDay)
      .where('day', '<=', lastDay)
      .select('day')
      .execute(),
    db
      .selectFrom('bookings')
      .where('instructorId', '=', instructorId)
      .where('status', 'in', [...TIME_HOLDING_STATUSES])
      .where('startsAt', '<', new Date(windowEndMs + 6 * HOUR_MS))
      .where('endsAt', '>', new Date(windowStartMs - 6 * HOUR_MS))
      .where((eb) => eb.or([eb('status', '!=', 'pending_payment'), eb('holdExpiresAt', '>', new Date(nowMs))]))
      .select(['startsAt', 'endsAt', 'bufferMinutes'])
      .execute(),
  ]);
  const blackedOut = new Set(blackouts.map((row) => row.day));
  const openIntervals = days
    .filter((row) => !blackedOut.has(row.day))
    .flatMap((row) => openIntervalsOfDay(row.day, new Uint8Array(row.bits)));
  const busy = lessons.map((row) => ({ startMs: row.startsAt.getTime(), endMs: row.endsAt.getTime(), bufferMinutes: row.bufferMinutes }));
  return { openIntervals, busy };
}
