import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import type { AuditContext } from '../audit/record-audit.ts';
import { HOUR_MS } from '../booking/booking.ts';
import { changeBooking } from '../booking/booking-change.ts';
import { updateBooking } from '../booking/booking.queries.ts';
import { afterLessonCompleted } from '../credits/index.ts';
import { AppError } from '../shared/errors.ts';
import { findBookingPayment, updateBookingPayment } from './booking-payments.queries.ts';
import type { MoneyDeps } from './money-deps.ts';
import { withMoneyLock } from './money-lock.ts';
import { actorOf, recordMoneyChange } from './operations.ts';
import { loadMoneyState } from './payment-state.ts';
import { advanceLocked, type AdvanceResult } from './settle-booking.ts';

/** The instructor may dispute a no-show report within this long; undisputed reports are confirmed then. */
export const NO_SHOW_DISPUTE_WINDOW_MS = 24 * HOUR_MS;

/**
 * Freezes a booking's money when a no-show is reported (in the report's transaction): state
 * `reported`, dispute deadline = report + 24h, and the job that confirms the report at the
 * deadline if the instructor did not dispute it. The booking's payment status is
 * `manual_review` from now on; nothing is captured while it is frozen.
 */
export async function freezePaymentForNoShow(
  trx: Transaction<DB>,
  bookingId: string,
  deps: Pick<MoneyDeps, 'jobs'>,
  now: Date,
): Promise<{ disputeDeadlineAt: Date } | null> {
  const payment = await findBookingPayment(trx, bookingId);
  if (!payment) return null;
  const disputeDeadlineAt = new Date(now.getTime() + NO_SHOW_DISPUTE_WINDOW_MS);
  await updateBookingPayment(
    trx,
    bookingId,
    { noShowState: 'reported', noShowDisputeDeadlineAt: disputeDeadlineAt, manualReviewReason: 'no_show_reported' },
    now,
  );
  await deps.jobs.send(trx, 'payments.no-show-deadline', { bookingId }, { startAfter: disputeDeadlineAt });
  return { disputeDeadlineAt };
}

/**
 * The instructor disputes a no-show report, within 24 hours of it: the payment stays frozen in
 * manual review until an admin resolves it.
 */
export async function disputeNoShow(
  db: Kysely<DB>,
  caller: AuditContext,
  bookingId: string,
  input: { reason: string },
  deps: MoneyDeps,
): Promise<{ bookingId: string; disputeDeadlineAt: string }> {
  const actor = actorOf(caller);
  return withMoneyLock(db, deps, bookingId, () =>
    changeBooking(
      db,
      caller.principal,
      bookingId,
      (relation) => relation === 'instructor',
      async (trx, row) => {
        const now = deps.clock.now();
        const payment = await findBookingPayment(trx, bookingId);
        if (row.status !== 'no_show' || !payment || payment.noShowState !== 'reported' || !payment.noShowDisputeDeadlineAt) {
          throw new AppError('conflict', 'There is no open no-show report on this lesson to dispute.', 'id');
        }
        if (now.getTime() > payment.noShowDisputeDeadlineAt.getTime()) {
          throw new AppError('validation_error', 'A no-show report can be disputed within 24 hours of it; this one was confirmed.', 'id');
        }
        await updateBookingPayment(trx, bookingId, { noShowState: 'disputed', manualReviewReason: 'no_show_disputed' }, now);
        await recordMoneyChange(trx, actor, {
          bookingId,
          event: 'no_show_disputed',
          action: 'payment.no_show_dispute',
          data: { reason: input.reason },
          reason: input.reason,
          before: { noShowState: 'reported' },
          after: { noShowState: 'disputed' },
          now,
        });
        return { bookingId, disputeDeadlineAt: payment.noShowDisputeDeadlineAt.toISOString() };
      },
    ),
  );
}

/**
 * An admin decides a no-show report (disputed or not yet confirmed). `confirmed`: the student is
 * refunded in full (card including SF, reserved credits released), the instructor gets nothing.
 * `rejected`: the lesson counts as taught — it is completed and goes down the normal capture
 * path (captured now when end + 24h has passed, by the capture sweep otherwise).
 */
export async function resolveNoShow(
  db: Kysely<DB>,
  caller: AuditContext,
  bookingId: string,
  input: { outcome: 'confirmed' | 'rejected'; reason: string },
  deps: MoneyDeps,
): Promise<{ bookingId: string; outcome: 'confirmed' | 'rejected'; settlement: AdvanceResult }> {
  const actor = actorOf(caller);
  return withMoneyLock(db, deps, bookingId, async (lock) => {
    await lock.transaction(async (trx) => {
      const now = deps.clock.now();
      const { booking, payment } = await loadMoneyState(trx, bookingId);
      if (!payment || (payment.noShowState !== 'reported' && payment.noShowState !== 'disputed')) {
        throw new AppError('conflict', 'This lesson has no no-show report waiting for a decision.', 'bookingId');
      }
      if (input.outcome === 'confirmed') {
        await updateBookingPayment(trx, bookingId, { noShowState: 'confirmed', noShowResolvedAt: now }, now);
      } else {
        // back to where it was before the freeze: captured (LOCK), authorized, or never authorized
        // (then the capture step authorizes first)
        const paymentStatus = payment.capturedAt ? 'locked' : payment.authorizedAt ? 'authorized' : 'payment_method_required';
        await updateBookingPayment(trx, bookingId, { noShowState: 'rejected', noShowResolvedAt: now, manualReviewReason: null }, now);
        await updateBooking(trx, bookingId, {
          status: 'completed',
          completedAt: booking.completedAt ?? now,
          paymentStatus,
          updatedAt: now,
        });
        if (!booking.completedAt) {
          await afterLessonCompleted(trx, {
            bookingId,
            studentId: booking.studentId,
            instructorId: booking.instructorId,
            lessonPriceCents: booking.lessonPriceCents,
            now,
            jobs: deps.jobs,
          });
        }
      }
      await recordMoneyChange(trx, actor, {
        bookingId,
        event: input.outcome === 'confirmed' ? 'no_show_confirmed' : 'no_show_rejected',
        action: 'payment.no_show_resolve',
        data: { outcome: input.outcome, previousState: payment.noShowState },
        reason: input.reason,
        before: { noShowState: payment.noShowState, status: booking.status },
        after: { noShowState: input.outcome, status: input.outcome === 'confirmed' ? booking.status : 'completed' },
        now,
      });
    });
    const settlement = await advanceLocked(lock, deps, { actor });
    return { bookingId, outcome: input.outcome, settlement };
  });
}
