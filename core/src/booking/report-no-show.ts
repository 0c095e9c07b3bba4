import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import type { MoneyDeps } from '../payments/money-deps.ts';
import { withMoneyLock } from '../payments/money-lock.ts';
import { freezePaymentForNoShow } from '../payments/no-show.ts';
import { AppError } from '../shared/errors.ts';
import { type BookingCaller, eventActor } from './booking-deps.ts';
import { changeBooking, staffMay } from './booking-change.ts';
import { HOUR_MS } from './booking.ts';
import { insertBookingEvents, updateBooking } from './booking.queries.ts';

/**
 * The student (or staff with bookings:manage:any) reports that the instructor did not show up,
 * from lesson start to lesson end + 24 h (payments.md §Cancellation). Payment freezes at once
 * (`manual_review`, no-show state `reported`); the instructor may dispute within 24 hours
 * (payments/no-show.ts), and an undisputed report is confirmed — and refunded in full — by a job
 * at that deadline. Taken under the money lock, so it can never cross a capture.
 */
export async function reportNoShow(
  db: Kysely<DB>,
  caller: BookingCaller,
  id: string,
  input: { reason?: string | undefined },
  deps: MoneyDeps,
): Promise<{ bookingId: string; instructorId: string }> {
  const { principal } = caller;
  return withMoneyLock(db, deps, id, () =>
    changeBooking(
      db,
      principal,
      id,
      (relation) => relation === 'student' || (relation === 'staff' && staffMay(principal, 'bookings:manage:any')),
      async (trx, row) => {
        const now = deps.clock.now();
        if (row.status !== 'confirmed' && row.status !== 'completed') {
          throw new AppError(
            'conflict',
            `A no-show can only be reported for a confirmed or completed lesson; this one is ${row.status.replace('_', ' ')}.`,
            'id',
          );
        }
        if (now < row.startsAt) throw new AppError('validation_error', 'A no-show can be reported once the lesson has started.', 'id');
        if (now.getTime() > row.endsAt.getTime() + 24 * HOUR_MS) {
          throw new AppError('validation_error', 'A no-show must be reported within 24 hours of the end of the lesson.', 'id');
        }
        await updateBooking(trx, id, { status: 'no_show', noShowReportedAt: now, paymentStatus: 'manual_review', updatedAt: now });
        const frozen = await freezePaymentForNoShow(trx, id, deps, now);
        await insertBookingEvents(
          trx,
          id,
          [
            {
              type: 'no_show_reported',
              data: {
                reason: input.reason ?? null,
                previousStatus: row.status,
                disputeDeadlineAt: frozen ? frozen.disputeDeadlineAt.toISOString() : null,
              },
            },
          ],
          eventActor(principal),
          now,
        );
        await recordAudit(trx, caller, {
          action: 'booking.no_show_report',
          resourceType: 'booking',
          resourceId: id,
          before: { status: row.status, paymentStatus: row.paymentStatus },
          after: { status: 'no_show', paymentStatus: 'manual_review' },
          reason: input.reason ?? null,
        });
        return { bookingId: id, instructorId: row.instructorId };
      },
    ),
  );
}
