import { type DB, newId } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { requireUser } from '../auth/principal.ts';
import { loadInstructorTime } from '../availability/load-instructor-context.ts';
import { FOUNDING_FEE_BPS, instructorFeeBpsFor } from '../pricing/index.ts';
import { AppError } from '../shared/errors.ts';
import {
  bufferMinutesFor,
  involvesTravel,
  type LocationType,
  lessonPriceCents,
  RULE_MESSAGES,
  type RuleViolation,
  startViolation,
} from './booking-rules.ts';
import { type BookingCaller, type BookingDeps, eventActor } from './booking-deps.ts';
import { lockBookingParties } from './booking-locks.ts';
import { bookingAmounts, type BookingView, HOLD_MINUTES, policySnapshot, POLICY_VERSION, toBookingView } from './booking.ts';
import {
  findBlockingExpiredHoldIds,
  findOfferingForBooking,
  findStudentBusy,
  insertBooking,
  insertBookingEvents,
  locatePoint,
  neighborhoodOf,
  selectVisibleBooking,
} from './booking.queries.ts';
import { releaseExpiredHolds } from './release-expired-holds.ts';

const MINUTE_MS = 60_000;
/** Founding instructors pay 8% for life, whatever their tier column says (payments.md §Amounts). */
export { FOUNDING_FEE_BPS };

export interface LessonAddress {
  line1: string;
  line2?: string | undefined;
  postalCode: string;
  lat: number;
  lng: number;
}

export interface NewBooking {
  instructorId: string;
  serviceId: string;
  startsAt: Date;
  durationMinutes: number;
  locationType: LocationType;
  /** Required for student_location and neutral_location; refused otherwise. */
  address?: LessonAddress | undefined;
  notes?: string | undefined;
}

const FIELD_OF: Partial<Record<RuleViolation, string>> = {
  duration_out_of_range: 'durationMinutes',
  duration_not_offered: 'durationMinutes',
  location_type_not_offered: 'locationType',
  below_price_floor: 'serviceId',
  outside_service_area: 'address',
};

/** A rules-function verdict as the error a person sees: conflicts are 409, everything else 422. */
export function violationError(violation: RuleViolation): AppError {
  if (violation === 'conflicts_with_booking') return new AppError('slot_unavailable', RULE_MESSAGES[violation], 'startsAt');
  if (violation === 'student_double_booked') return new AppError('student_double_booked', RULE_MESSAGES[violation], 'startsAt');
  return new AppError('validation_error', RULE_MESSAGES[violation], FIELD_OF[violation] ?? 'startsAt');
}

function formatAddress(address: LessonAddress): string {
  return [address.line1, address.line2, `New York, NY ${address.postalCode}`].filter(Boolean).join(', ');
}

/**
 * Books a lesson for the signed-in student. In one transaction: release expired holds in the
 * way, re-check the time with the same rules function the slot listing uses, insert the booking
 * (the exclusion constraints decide; 23P01 becomes 409), write its timeline, enqueue the
 * hold-expiry job and the audit record. The booking holds its time for 15 minutes as
 * `pending_payment`; checkout (payments/checkout.ts) confirms it.
 */
export async function createBooking(db: Kysely<DB>, caller: BookingCaller, input: NewBooking, deps: BookingDeps): Promise<BookingView> {
  const studentId = requireUser(caller.principal).userId;
  const startMs = input.startsAt.getTime();
  const endMs = startMs + input.durationMinutes * MINUTE_MS;
  const travel = involvesTravel(input.locationType);
  if (travel && !input.address)
    throw new AppError('validation_error', 'Give the lesson address for a lesson at your place or a neutral location.', 'address');
  if (!travel && input.address)
    throw new AppError('validation_error', 'An address is only taken for lessons at your place or a neutral location.', 'address');
  if (input.instructorId === studentId) throw new AppError('validation_error', 'You cannot book a lesson with yourself.', 'instructorId');

  const id = await db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const nowMs = now.getTime();
    await lockBookingParties(trx, input.instructorId, studentId);
    const offering = await findOfferingForBooking(trx, input.instructorId, input.serviceId);
    if (!offering) throw new AppError('not_found', 'This instructor does not offer that service.', 'serviceId');

    let location: { point: { lat: number; lng: number } | null; text: string | null; regionId: string | null; inside?: boolean } = {
      point: null,
      text: null,
      regionId: null,
    };
    if (input.address) {
      const point = { lat: input.address.lat, lng: input.address.lng };
      const found = await locatePoint(trx, input.instructorId, point);
      location = { point, text: formatAddress(input.address), regionId: found.regionId, inside: found.inside };
    } else if (input.locationType === 'instructor_location' && offering.studioLocation) {
      const point = { lat: offering.studioLocation.y, lng: offering.studioLocation.x };
      location = { point, text: offering.studioAddress, regionId: await neighborhoodOf(trx, point) };
    }

    const blocking = await findBlockingExpiredHoldIds(trx, {
      instructorId: input.instructorId,
      studentId,
      startsAt: input.startsAt,
      endsAt: new Date(endMs),
      now,
    });
    if (blocking.length > 0) await releaseExpiredHolds(trx, now, { bookingIds: blocking });

    const time = await loadInstructorTime(trx, input.instructorId, startMs, endMs, nowMs);
    const studentBusy = await findStudentBusy(trx, studentId, { startMs, endMs, nowMs });
    const violation = startViolation(startMs, nowMs, input, {
      ...time,
      studentBusy,
      offering: { hourlyRateCents: offering.hourlyRateCents, durations: offering.durations, locationTypes: offering.locationTypes },
      insideServiceArea: travel ? location.inside : undefined,
    });
    if (violation) throw violationError(violation);

    // The tier is evaluated (and persisted) now, so the snapshot never carries a stale rate.
    const { feeBps } = await instructorFeeBpsFor(trx, input.instructorId, now);
    const amounts = bookingAmounts(lessonPriceCents(offering.hourlyRateCents, input.durationMinutes), feeBps);
    const bookingId = newId();
    const holdExpiresAt = new Date(nowMs + HOLD_MINUTES * MINUTE_MS);
    await insertBooking(trx, {
      id: bookingId,
      studentId,
      instructorId: input.instructorId,
      serviceId: input.serviceId,
      instructorServiceId: offering.instructorServiceId,
      status: 'pending_payment',
      startsAt: input.startsAt,
      endsAt: new Date(endMs),
      durationMinutes: input.durationMinutes,
      bufferMinutes: bufferMinutesFor(input.locationType),
      locationType: input.locationType,
      locationAddress: location.text,
      locationPoint: location.point,
      locationRegionId: location.regionId,
      holdExpiresAt,
      studentNote: input.notes ?? null,
      hourlyRateCents: offering.hourlyRateCents,
      ...amounts,
      policyVersion: POLICY_VERSION,
      policySnapshot: JSON.stringify(policySnapshot(feeBps, offering.isFounding)),
      createdAt: now,
      updatedAt: now,
    });
    const actor = eventActor(caller.principal);
    await insertBookingEvents(
      trx,
      bookingId,
      [
        {
          type: 'created',
          data: {
            startsAt: input.startsAt.toISOString(),
            durationMinutes: input.durationMinutes,
            locationType: input.locationType,
            ...amounts,
          },
        },
        { type: 'held', data: { holdExpiresAt: holdExpiresAt.toISOString() } },
      ],
      actor,
      now,
    );
    await deps.jobs.send(trx, 'booking.hold-expiry', { bookingId }, { startAfter: holdExpiresAt, singletonKey: bookingId });
    await recordAudit(trx, caller, {
      action: 'booking.create',
      resourceType: 'booking',
      resourceId: bookingId,
      after: {
        instructorId: input.instructorId,
        serviceId: input.serviceId,
        startsAt: input.startsAt.toISOString(),
        durationMinutes: input.durationMinutes,
        locationType: input.locationType,
        status: 'pending_payment',
        ...amounts,
      },
    });
    return bookingId;
  });
  const row = await selectVisibleBooking(db, id, { userId: studentId, readAny: false });
  if (!row) throw new AppError('internal_error', 'The booking was made but could not be read back.');
  return toBookingView(row, studentId);
}
