import { type Interval, covers, normalize } from '../availability/intervals.ts';
import { dayClock, instantOfLocalMinute, localDayAndMinute, addDays, PLATFORM_ZONE } from '../availability/local-time.ts';

/**
 * The one booking rules function (spec: availability-and-booking.md §Booking rules). The public
 * slot listing and the booking validator both call it, so a slot that is shown can be booked and
 * a time that is not shown cannot. Pure: every input, the clock included, is a parameter.
 */

export const LOCATION_TYPES = ['student_location', 'instructor_location', 'online', 'neutral_location'] as const;
export type LocationType = (typeof LOCATION_TYPES)[number];

const MINUTE_MS = 60_000;
export const SLOT_STEP_MINUTES = 15;
export const MIN_DURATION_MINUTES = 30;
export const MAX_DURATION_MINUTES = 240;
export const HORIZON_DAYS = 365;

/** The instructor travels for these; neutral places count as travel (the instructor goes there). */
export function involvesTravel(locationType: LocationType): boolean {
  return locationType === 'student_location' || locationType === 'neutral_location';
}

/** Advance notice: online 60 min, studio 60 min, travel 180 min. */
export function advanceNoticeMinutes(locationType: LocationType): number {
  return involvesTravel(locationType) ? 180 : 60;
}

/** Buffer a lesson needs around it: 15 minutes, 60 when it involves travel. */
export function bufferMinutesFor(locationType: LocationType): number {
  return involvesTravel(locationType) ? 60 : 15;
}

/** Price floors per 60 minutes: in person $80, online $60. */
export function priceFloorCentsPerHour(locationType: LocationType): number {
  return locationType === 'online' ? 6000 : 8000;
}

/** Half away from zero — the platform's one rounding rule for cents. */
export function roundCents(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}

/** Lesson price from the hourly rate, pro-rated by duration. */
export function lessonPriceCents(hourlyRateCents: number, durationMinutes: number): number {
  return roundCents((hourlyRateCents * durationMinutes) / 60);
}

/** An existing booking or live hold of the instructor, with the buffer it needs. */
export interface BusyLesson {
  startMs: number;
  endMs: number;
  bufferMinutes: number;
}

export interface SlotRequest {
  durationMinutes: number;
  locationType: LocationType;
}

export interface InstructorContext {
  /** UTC intervals the bitmaps open, blackout days already removed. */
  openIntervals: readonly Interval[];
  /** The instructor's time-holding bookings and live holds. */
  busy: readonly BusyLesson[];
  /** The student's own time-holding lessons (any instructor); empty for anonymous slot listings. */
  studentBusy?: readonly Interval[];
  offering: { hourlyRateCents: number; durations: readonly number[]; locationTypes: readonly string[] };
  /** For travel and neutral lessons: whether the address lies in the service area (undefined: not known yet). */
  insideServiceArea?: boolean | undefined;
}

export type RuleViolation =
  | 'duration_out_of_range'
  | 'duration_not_offered'
  | 'location_type_not_offered'
  | 'below_price_floor'
  | 'outside_service_area'
  | 'not_on_step'
  | 'too_soon'
  | 'beyond_horizon'
  | 'overnight_protection'
  | 'not_open'
  | 'conflicts_with_booking'
  | 'student_double_booked';

export const RULE_MESSAGES: Record<RuleViolation, string> = {
  duration_out_of_range: `Lessons last between ${MIN_DURATION_MINUTES} and ${MAX_DURATION_MINUTES} minutes.`,
  duration_not_offered: 'This instructor does not offer lessons of that length.',
  location_type_not_offered: 'This instructor does not offer that kind of lesson location.',
  below_price_floor: 'This lesson is priced below the platform minimum and cannot be booked.',
  outside_service_area: "That address is outside the instructor's service area.",
  not_on_step: 'Lessons start on the quarter hour (:00, :15, :30, :45).',
  too_soon: 'That start time is too soon; the instructor needs more notice.',
  beyond_horizon: `Lessons can be booked at most ${HORIZON_DAYS} days ahead.`,
  overnight_protection: 'Early-morning lessons cannot be booked overnight; please choose a later time.',
  not_open: 'The instructor is not available at that time.',
  conflicts_with_booking: 'That time is no longer available with this instructor.',
  student_double_booked: 'You already have a lesson at that time.',
};

/** Checks that do not depend on the start time. */
export function offeringViolation(request: SlotRequest, context: InstructorContext): RuleViolation | null {
  const { durationMinutes, locationType } = request;
  if (!Number.isInteger(durationMinutes) || durationMinutes < MIN_DURATION_MINUTES || durationMinutes > MAX_DURATION_MINUTES)
    return 'duration_out_of_range';
  if (!context.offering.durations.includes(durationMinutes)) return 'duration_not_offered';
  if (!context.offering.locationTypes.includes(locationType)) return 'location_type_not_offered';
  const floor = roundCents((priceFloorCentsPerHour(locationType) * durationMinutes) / 60);
  if (lessonPriceCents(context.offering.hourlyRateCents, durationMinutes) < floor) return 'below_price_floor';
  if (involvesTravel(locationType) && context.insideServiceArea === false) return 'outside_service_area';
  return null;
}

/**
 * Overnight protection: between 20:00 and 08:00 local, lessons starting before 09:00 (online,
 * studio) or 11:00 (travel) the next morning cannot be booked. Returns the UTC instant before
 * which starts are refused, or null outside the night window.
 */
export function overnightCutoffMs(nowMs: number, locationType: LocationType, zone: string = PLATFORM_ZONE): number | null {
  const { day, minute } = localDayAndMinute(nowMs, zone);
  const isNight = minute >= 20 * 60 || minute < 8 * 60;
  if (!isNight) return null;
  const morning = minute >= 20 * 60 ? addDays(day, 1) : day;
  const cutoffMinute = involvesTravel(locationType) ? 11 * 60 : 9 * 60;
  return instantOfLocalMinute(dayClock(morning, zone), cutoffMinute);
}

// Normalizing is O(n log n); the listing asks once per quarter hour, so remember the result per list.
const normalizedLists = new WeakMap<readonly Interval[], Interval[]>();
function normalizedOnce(intervals: readonly Interval[]): Interval[] {
  let normalized = normalizedLists.get(intervals);
  if (!normalized) {
    normalized = normalize(intervals);
    normalizedLists.set(intervals, normalized);
  }
  return normalized;
}

/** Why a lesson starting at `startMs` cannot be booked, or null when it can. */
export function startViolation(startMs: number, nowMs: number, request: SlotRequest, context: InstructorContext): RuleViolation | null {
  const offering = offeringViolation(request, context);
  if (offering) return offering;
  const endMs = startMs + request.durationMinutes * MINUTE_MS;
  if (startMs % (SLOT_STEP_MINUTES * MINUTE_MS) !== 0) return 'not_on_step';
  if (startMs < nowMs + advanceNoticeMinutes(request.locationType) * MINUTE_MS) return 'too_soon';
  if (startMs > nowMs + HORIZON_DAYS * 24 * 60 * MINUTE_MS) return 'beyond_horizon';
  const cutoff = overnightCutoffMs(nowMs, request.locationType);
  if (cutoff !== null && startMs < cutoff) return 'overnight_protection';
  if (!covers(normalizedOnce(context.openIntervals), startMs, endMs)) return 'not_open';
  const ownBuffer = bufferMinutesFor(request.locationType);
  for (const lesson of context.busy) {
    const gapMs = Math.max(ownBuffer, lesson.bufferMinutes) * MINUTE_MS;
    if (startMs < lesson.endMs + gapMs && lesson.startMs < endMs + gapMs) return 'conflicts_with_booking';
  }
  for (const lesson of context.studentBusy ?? []) {
    if (startMs < lesson.endMs && lesson.startMs < endMs) return 'student_double_booked';
  }
  return null;
}

/**
 * Every bookable start in [windowStartMs, windowEndMs) on 15-minute steps, ascending.
 * `limit` stops early (next-available asks for one).
 */
export function bookableStarts(
  windowStartMs: number,
  windowEndMs: number,
  nowMs: number,
  request: SlotRequest,
  context: InstructorContext,
  limit = Number.POSITIVE_INFINITY,
): number[] {
  if (offeringViolation(request, context)) return [];
  const step = SLOT_STEP_MINUTES * MINUTE_MS;
  const open = normalizedOnce(context.openIntervals);
  const prepared: InstructorContext = { ...context, openIntervals: open };
  normalizedLists.set(open, open);
  const starts: number[] = [];
  for (const interval of open) {
    const from = Math.max(interval.startMs, windowStartMs);
    let candidate = Math.ceil(from / step) * step;
    const lastStart = Math.min(interval.endMs - request.durationMinutes * MINUTE_MS, windowEndMs - 1);
    for (; candidate <= lastStart; candidate += step) {
      if (startViolation(candidate, nowMs, request, prepared) === null) {
        starts.push(candidate);
        if (starts.length >= limit) return starts;
      }
    }
  }
  return starts;
}
