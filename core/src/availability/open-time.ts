import { rangesFromBitmap } from './bitmap.ts';
import { type Interval, normalize } from './intervals.ts';
import { type DayClock, dayClock, PLATFORM_ZONE } from './local-time.ts';

const MINUTE_MS = 60_000;

/**
 * The UTC intervals a day's bitmap opens. On the spring-forward day the skipped wall-clock
 * minutes are never open; on the fall-back day each repeated wall-clock minute maps to its first
 * occurrence, so the second pass through that hour is closed.
 */
export function openIntervalsOfDay(
  day: string,
  bits: Uint8Array,
  zone: string = PLATFORM_ZONE,
  clock: DayClock = dayClock(day, zone),
): Interval[] {
  const transition = clock.transitionMinute;
  const gap = clock.offsetAfter - clock.offsetBefore;
  const intervals: Interval[] = [];
  const before = (minute: number) => clock.midnightMs + minute * MINUTE_MS;
  const after = (minute: number) => clock.midnightMs + (minute - gap) * MINUTE_MS;
  for (const { start, end } of rangesFromBitmap(bits)) {
    if (transition === null) {
      intervals.push({ startMs: before(start), endMs: before(end) });
      continue;
    }
    if (start < transition) intervals.push({ startMs: before(start), endMs: before(Math.min(end, transition)) });
    const firstAfter = gap > 0 ? transition + gap : transition;
    if (end > firstAfter) intervals.push({ startMs: after(Math.max(start, firstAfter)), endMs: after(end) });
  }
  // the two sides of a spring-forward gap are contiguous in UTC: merge them
  return normalize(intervals);
}
