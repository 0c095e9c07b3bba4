import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { loadInstructorTime } from '../availability/load-instructor-context.ts';
import { recordRescheduleForPayment, settleAfterChange } from '../payments/booking-money.ts';
import type { MoneyDeps } from '../payments/money-deps.ts';
import { withMoneyLock } from '../payments/money-lock.ts';
import { actorOf } from '../payments/operations.ts';
import { AppError } from '../shared/errors.ts';
import { type LocationType, startViolation } from './booking-rules.ts';
import { type BookingCaller, eventActor } from './booking-deps.ts';
import { changeBooking, staffMay } from './booking-change.ts';
import { lockBookingParties } from './booking-locks.ts';
import { policyWindow } from './booking.ts';
import { findBlockingExpiredHoldIds, findStudentBusy, insertBookingEvents, updateBooking } from './booking.queries.ts';
import { violationError } from './create-booking.ts';
import { releaseExpiredHolds } from './release-expired-holds.ts';

const MINUTE_MS = 60_000;

/**
 * Moves a booking to another start with the same instructor, under the window rules of
 * spec/payments.md §Reschedule (t measured to the current start): t ≥ 24 h any number of times;
 * 12 h ≤ t < 24 h once, by the student only, and it LOCKs the booking; t < 12 h refused. The new
 * time passes the same rules function as a new booking (this booking's own time excluded), and
 * the UPDATE relies on the exclusion constraints like an insert does. The money moves with it
 * (payments/booking-money.ts): the T−24h authorization follows the new start, and a LOCK captures
 * the payment right after the commit (nothing is transferred until the lesson settles).
 */
export async function rescheduleBooking(
  db: Kysely<DB>,
  caller: BookingCaller,
  id: string,
  input: { startsAt: Date },
  deps: MoneyDeps,
): Promise<{ bookingId: string; instructorId: string; locked: boolean }> {
  // A reschedule moves money (the authorization job, or the LOCK capture): one money action at a time.
  return withMoneyLock(db, deps, id, async (lock) => {
    const moved = await moveUnderLock(db, caller, id, input, deps);
    if (moved.settleNow) await settleAfterChange(lock, deps, actorOf(caller));
    return { bookingId: moved.bookingId, instructorId: moved.instructorId, locked: moved.locked };
  });
}

async function moveUnderLock(
  db: Kysely<DB>,
  caller: BookingCaller,
  id: string,
  input: { startsAt: Date },
  deps: MoneyDeps,
): Promise<{ bookingId: string; instructorId: string; locked: boolean; settleNow: boolean }> {
  const { principal } = caller;
  return changeBooking(
    db,
    principal,
    id,
    (relation) => relation === 'student' || (relation === 'staff' && staffMay(principal, 'bookings:manage:any')),
    async (trx, row, relation) => {
      const now = deps.clock.now();
      const nowMs = now.getTime();
      if (row.status !== 'pending_payment' && row.status !== 'confirmed') {
        throw new AppError('conflict', `This lesson is ${row.status.replace('_', ' ')} and can no longer be rescheduled.`, 'id');
      }
      const window = policyWindow(row.startsAt.getTime(), nowMs);
      if (window === 'lt_12h') {
        throw new AppError(
          'validation_error',
          'Lessons starting in less than 12 hours cannot be rescheduled. You can cancel instead (see the cancellation quote).',
          'startsAt',
        );
      }
      const late = window === 'h12_to_24';
      if (late && relation !== 'student') {
        throw new AppError('validation_error', 'Within 24 hours of the lesson only the student can reschedule.', 'startsAt');
      }
      if (late && row.lateRescheduleUsed) {
        throw new AppError(
          'validation_error',
          'This lesson was already rescheduled once within 24 hours of its start; it cannot be moved again. You can cancel instead.',
          'startsAt',
        );
      }
      const startMs = input.startsAt.getTime();
      if (startMs === row.startsAt.getTime()) throw new AppError('validation_error', 'The lesson already starts at that time.', 'startsAt');
      const endMs = startMs + row.durationMinutes * MINUTE_MS;

      await lockBookingParties(trx, row.instructorId, row.studentId);
      const blocking = await findBlockingExpiredHoldIds(trx, {
        instructorId: row.instructorId,
        studentId: row.studentId,
        startsAt: input.startsAt,
        endsAt: new Date(endMs),
        now,
      });
      if (blocking.length > 0) await releaseExpiredHolds(trx, now, { bookingIds: blocking.filter((other) => other !== id) });
      const time = await loadInstructorTime(trx, row.instructorId, startMs, endMs, nowMs);
      const ownStartMs = row.startsAt.getTime();
      const ownEndMs = row.endsAt.getTime();
      let ownSkipped = false;
      const busy = time.busy.filter((lesson) => {
        if (!ownSkipped && lesson.startMs === ownStartMs && lesson.endMs === ownEndMs && lesson.bufferMinutes === row.bufferMinutes) {
          ownSkipped = true;
          return false;
        }
        return true;
      });
      const studentBusy = await findStudentBusy(trx, row.studentId, { startMs, endMs, nowMs, excludeBookingId: id });
      // The deal stays as booked: the booking's own duration, location type and snapshotted rate.
      const locationType = row.locationType as LocationType;
      const violation = startViolation(
        startMs,
        nowMs,
        { durationMinutes: row.durationMinutes, locationType },
        {
          openIntervals: time.openIntervals,
          busy,
          studentBusy,
          offering: { hourlyRateCents: row.hourlyRateCents, durations: [row.durationMinutes], locationTypes: [locationType] },
        },
      );
      if (violation) throw violationError(violation);

      await updateBooking(trx, id, {
        startsAt: input.startsAt,
        endsAt: new Date(endMs),
        originalStartsAt: row.originalStartsAt ?? row.startsAt,
        rescheduleCount: row.rescheduleCount + 1,
        updatedAt: now,
        ...(late ? { lateRescheduleUsed: true, lockedAt: now, paymentStatus: 'locked' } : {}),
      });
      const change = { from: row.startsAt.toISOString(), to: input.startsAt.toISOString(), window, locked: late };
      await insertBookingEvents(
        trx,
        id,
        [{ type: 'rescheduled', data: change }, ...(late ? [{ type: 'locked', data: { reason: 'late_reschedule' } }] : [])],
        eventActor(principal),
        now,
      );
      await recordAudit(trx, caller, {
        action: 'booking.reschedule',
        resourceType: 'booking',
        resourceId: id,
        before: { startsAt: row.startsAt.toISOString(), paymentStatus: row.paymentStatus, lateRescheduleUsed: row.lateRescheduleUsed },
        after: {
          startsAt: input.startsAt.toISOString(),
          paymentStatus: late ? 'locked' : row.paymentStatus,
          lateRescheduleUsed: late || row.lateRescheduleUsed,
        },
        metadata: { window },
      });
      // The money follows: the authorization job moves (t ≥ 24h), or LOCK captures now (12–24h).
      const payment = await recordRescheduleForPayment(trx, id, { newStartsAt: input.startsAt, locked: late }, deps, now);
      return { bookingId: id, instructorId: row.instructorId, locked: late, settleNow: payment.settleNow };
    },
  );
}
