import { DateTime } from 'luxon';

/** The platform's zone: every "day" is a local calendar day here (spec: availability-and-booking). */
export const PLATFORM_ZONE = 'America/New_York';

const MINUTE_MS = 60_000;

/**
 * How the wall clock of one local day maps to UTC. `offsetBefore` applies before the transition
 * (if any), `offsetAfter` from it on; `transitionMinute` is the wall-clock minute at which the
 * clocks change (2:00 AM = 120 in New York), or null on ordinary days.
 */
export interface DayClock {
  day: string;
  zone: string;
  /** UTC milliseconds of local midnight. */
  midnightMs: number;
  /** UTC milliseconds of the next local midnight (23, 24 or 25 hours later). */
  nextMidnightMs: number;
  offsetBefore: number;
  offsetAfter: number;
  transitionMinute: number | null;
}

function offsetAt(ms: number, zone: string): number {
  return DateTime.fromMillis(ms, { zone }).offset;
}

function midnightOf(day: string, zone: string): number {
  const start = DateTime.fromISO(day, { zone }).startOf('day');
  if (!start.isValid) throw new RangeError(`Invalid day "${day}"`);
  return start.toMillis();
}

/** Computes the wall-clock ↔ UTC mapping of a local day, DST transitions included. */
export function dayClock(day: string, zone: string = PLATFORM_ZONE): DayClock {
  const midnightMs = midnightOf(day, zone);
  const nextDay = DateTime.fromISO(day, { zone }).plus({ days: 1 }).toISODate();
  if (!nextDay) throw new RangeError(`Invalid day "${day}"`);
  const nextMidnightMs = midnightOf(nextDay, zone);
  const offsetBefore = offsetAt(midnightMs, zone);
  const offsetAfter = offsetAt(nextMidnightMs - MINUTE_MS, zone);
  let transitionMinute: number | null = null;
  if (offsetBefore !== offsetAfter) {
    // Binary search for the first UTC minute with the new offset.
    let low = midnightMs;
    let high = nextMidnightMs - MINUTE_MS;
    while (high - low > MINUTE_MS) {
      const middle = low + Math.floor((high - low) / MINUTE_MS / 2) * MINUTE_MS;
      if (offsetAt(middle, zone) === offsetBefore) low = middle;
      else high = middle;
    }
    transitionMinute = (high - midnightMs) / MINUTE_MS;
  }
  return { day, zone, midnightMs, nextMidnightMs, offsetBefore, offsetAfter, transitionMinute };
}

/**
 * The UTC instant (ms) of a local wall-clock minute, or null when that minute does not exist
 * (the skipped hour of spring-forward). A minute that occurs twice (the repeated hour of
 * fall-back) maps to its first occurrence (spec: availability-and-booking §bitmap).
 */
export function instantOfLocalMinute(clock: DayClock, minute: number): number | null {
  if (clock.transitionMinute === null || minute < clock.transitionMinute) {
    return clock.midnightMs + minute * MINUTE_MS;
  }
  const gap = clock.offsetAfter - clock.offsetBefore;
  if (gap > 0 && minute < clock.transitionMinute + gap) return null;
  return clock.midnightMs + (minute - gap) * MINUTE_MS;
}

/** The local day ('YYYY-MM-DD') and wall-clock minute of a UTC instant. */
export function localDayAndMinute(instant: Date | number, zone: string = PLATFORM_ZONE): { day: string; minute: number } {
  const local = DateTime.fromMillis(typeof instant === 'number' ? instant : instant.getTime(), { zone });
  return { day: local.toISODate() ?? '', minute: local.hour * 60 + local.minute };
}

/** Adds whole days to a local day string. */
export function addDays(day: string, days: number): string {
  const next = DateTime.fromISO(day, { zone: 'UTC' }).plus({ days }).toISODate();
  if (!next) throw new RangeError(`Invalid day "${day}"`);
  return next;
}

/** Monday of the ISO week containing `day`. */
export function weekStart(day: string): string {
  const date = DateTime.fromISO(day, { zone: 'UTC' });
  if (!date.isValid) throw new RangeError(`Invalid day "${day}"`);
  return date.minus({ days: date.weekday - 1 }).toISODate() ?? day;
}

/** Local days from `from` to `to` inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}
