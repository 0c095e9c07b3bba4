import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import type { AuditContext } from '../audit/record-audit.ts';
import { updateBooking } from '../booking/booking.queries.ts';
import { afterBookingRefunded, creditExpiryFrom, issueCredit } from '../credits/index.ts';
import { AppError } from '../shared/errors.ts';
import { releaseAuthorizationLocked } from './authorize.ts';
import { type BookingPaymentRow, findSucceededOperation, unlockUserAccount, updateBookingPayment } from './booking-payments.queries.ts';
import { CAPTURE_FAILED_LOCK_REASON, captureLocked } from './capture.ts';
import { type MoneyDeps, type ProviderLabel, providerLabel } from './money-deps.ts';
import { withMoneyLock } from './money-lock.ts';
import { actorOf, recordMoneyChange } from './operations.ts';
import { loadMoneyState, type MoneyState } from './payment-state.ts';
import { refundLocked } from './refund.ts';
import { advanceLocked } from './settle-booking.ts';

/**
 * Admin money actions on one booking (issue 6 item 9): a refund with a preview of exactly what
 * it will do, and the resolution of payments in manual review. Every action runs under the
 * booking's money lock and is audited with the admin's reason.
 */

export interface RefundRequest {
  /** Default: everything captured and not yet refunded. */
  amountCents?: number | undefined;
  /** Give the amount back as platform credit instead of to the card. */
  toCredit?: boolean | undefined;
  reason: string;
}

export interface RefundPreview extends ProviderLabel {
  bookingId: string;
  capturedCents: number;
  alreadyRefundedCents: number;
  /** Back to the card by this refund. */
  cardRefundCents: number;
  /** Issued as credit (1-year expiry) instead, with `toCredit`. */
  creditCents: number;
  /** Of the amount, the part that is the student fee (refunds take the lesson part first). */
  feeRefundedCents: number;
  /**
   * What happens to the instructor: a payout already transferred is never clawed back by an admin
   * refund (the platform absorbs it); a payout still owed is cancelled when everything is refunded.
   */
  instructor: { action: 'none' | 'payout_cancelled'; amountCents: number };
  /** The refund returns everything the card paid: C's afterBookingRefunded runs too. */
  fullRefund: boolean;
  wording: string;
}

const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

function previewOf(state: MoneyState, request: Omit<RefundRequest, 'reason'>, label: ProviderLabel): RefundPreview {
  const payment = requirePayment(state);
  const refundable = payment.capturedCents - payment.refundedCents;
  if (!payment.capturedAt || refundable <= 0) {
    throw new AppError(
      'conflict',
      payment.capturedAt
        ? 'Everything charged for this lesson was already refunded.'
        : 'Nothing has been charged for this lesson yet; cancel it instead.',
      'bookingId',
    );
  }
  const amount = request.amountCents ?? refundable;
  if (!Number.isInteger(amount) || amount <= 0 || amount > refundable) {
    throw new AppError('validation_error', `Refund between $0.01 and ${dollars(refundable)} (what is left to refund).`, 'amountCents');
  }
  const lessonPartCaptured = Math.max(0, payment.capturedCents - state.booking.studentFeeCents);
  const alreadyFromLesson = Math.min(payment.refundedCents, lessonPartCaptured);
  const feeRefundedCents = Math.max(0, amount - (lessonPartCaptured - alreadyFromLesson));
  const fullRefund = !request.toCredit && payment.refundedCents + amount === payment.capturedCents;
  const owed = (payment.settlementInstructorPayoutCents ?? 0) - payment.transferredCents;
  const instructor =
    fullRefund && !payment.transferredAt && owed > 0
      ? { action: 'payout_cancelled' as const, amountCents: owed }
      : { action: 'none' as const, amountCents: 0 };
  const cardRefundCents = request.toCredit ? 0 : amount;
  const creditCents = request.toCredit ? amount : 0;
  const parts = [
    cardRefundCents > 0 ? `${dollars(cardRefundCents)} back to the card` : `${dollars(creditCents)} as credit valid for one year`,
    feeRefundedCents > 0 ? `including ${dollars(feeRefundedCents)} of the booking fee` : 'the booking fee is kept',
    instructor.action === 'payout_cancelled'
      ? `the instructor's owed payout of ${dollars(instructor.amountCents)} is cancelled`
      : 'the instructor keeps their payout',
  ];
  return {
    ...label,
    bookingId: state.booking.id,
    capturedCents: payment.capturedCents,
    alreadyRefundedCents: payment.refundedCents,
    cardRefundCents,
    creditCents,
    feeRefundedCents,
    instructor,
    fullRefund,
    wording: `${parts.join('; ')}.`,
  };
}

function requirePayment(state: MoneyState): BookingPaymentRow {
  if (!state.payment) throw new AppError('conflict', 'This booking has no payment.', 'bookingId');
  return state.payment;
}

/** What `refundBookingPayment` would do, without doing it. */
export async function previewRefund(
  db: Kysely<DB>,
  bookingId: string,
  request: Omit<RefundRequest, 'reason'>,
  deps: Pick<MoneyDeps, 'payments'>,
): Promise<RefundPreview> {
  const state = await loadMoneyState(db, bookingId);
  return previewOf(state, request, providerLabel(deps.payments));
}

/**
 * Refunds (part of) a captured payment to the card, or as credit, exactly as the preview says.
 * Audited with the admin's reason; the route adds HTTP idempotency on top of the provider key.
 */
export async function refundBookingPayment(
  db: Kysely<DB>,
  caller: AuditContext,
  bookingId: string,
  request: RefundRequest,
  deps: MoneyDeps,
): Promise<RefundPreview & { refundId: string | null }> {
  const actor = actorOf(caller);
  return withMoneyLock(db, deps, bookingId, async (lock) => {
    const preview = previewOf(await lock.transaction((trx) => loadMoneyState(trx, bookingId)), request, providerLabel(deps.payments));
    let refundId: string | null = null;
    if (preview.cardRefundCents > 0) {
      const refunded = await refundLocked(lock, deps, { amountCents: preview.cardRefundCents, reason: request.reason, actor });
      if (refunded.status !== 'refunded') {
        throw new AppError('unavailable', `The refund did not go through (${refunded.reason}); try again.`, null, 30);
      }
      refundId = refunded.refundId;
    }
    await lock.transaction(async (trx) => {
      const now = deps.clock.now();
      const { booking, payment } = await loadMoneyState(trx, bookingId);
      if (preview.creditCents > 0) {
        await issueCredit(trx, {
          userId: booking.studentId,
          amountCents: preview.creditCents,
          source: 'admin',
          bookingId,
          expiresAt: creditExpiryFrom(now),
          reason: request.reason,
          actor: caller,
          now,
        });
      }
      if (preview.fullRefund) await afterBookingRefunded(trx, { bookingId, now });
      await updateBookingPayment(
        trx,
        bookingId,
        {
          settlementCardRefundCents: payment!.refundedCents,
          ...(preview.creditCents > 0
            ? { settlementStudentCreditCents: (payment!.settlementStudentCreditCents ?? 0) + preview.creditCents }
            : {}),
          ...(preview.instructor.action === 'payout_cancelled' ? { settlementInstructorPayoutCents: payment!.transferredCents } : {}),
        },
        now,
      );
      await recordMoneyChange(trx, actor, {
        bookingId,
        event: preview.creditCents > 0 ? 'admin_refund_credit' : 'admin_refund',
        action: 'payment.admin_refund',
        data: { ...preview, refundId },
        reason: request.reason,
        now,
      });
    });
    return { ...preview, refundId };
  });
}

export type ManualReviewAction = 'retry_capture' | 'mark_settled' | 'refund';

/**
 * Resolves a payment in manual review: `retry_capture` (capture again now; on success the
 * settlement and payout continue and a capture-failure account lock is lifted), `mark_settled`
 * (sorted out outside the platform), or `refund` (everything back: a captured payment to the
 * card, an uncaptured authorization released, reserved credits released).
 */
export async function resolveManualReview(
  db: Kysely<DB>,
  caller: AuditContext,
  bookingId: string,
  input: { action: ManualReviewAction; reason: string },
  deps: MoneyDeps,
): Promise<{ bookingId: string; action: ManualReviewAction; result: string; paymentStatus: string }> {
  const actor = actorOf(caller);
  return withMoneyLock(db, deps, bookingId, async (lock) => {
    const state = await lock.transaction((trx) => loadMoneyState(trx, bookingId));
    const payment = requirePayment(state);
    if (state.booking.paymentStatus !== 'manual_review') {
      throw new AppError(
        'conflict',
        `This payment is ${state.booking.paymentStatus.replace(/_/g, ' ')}, not in manual review.`,
        'bookingId',
      );
    }
    if (payment.noShowState === 'reported' || payment.noShowState === 'disputed') {
      throw new AppError('conflict', 'A no-show report is open on this lesson: resolve it with resolve-no-show.', 'bookingId');
    }
    const audit = (result: string, extra: Record<string, unknown> = {}) =>
      lock.transaction(async (trx) => {
        const now = deps.clock.now();
        const after = await loadMoneyState(trx, bookingId);
        await recordMoneyChange(trx, actor, {
          bookingId,
          event: 'manual_review_resolved',
          action: 'payment.manual_review_resolve',
          data: { action: input.action, result, ...extra },
          reason: input.reason,
          before: { paymentStatus: 'manual_review', manualReviewReason: payment.manualReviewReason },
          after: { paymentStatus: after.booking.paymentStatus },
          now,
        });
        return after.booking.paymentStatus;
      });
    const unlockStudent = () =>
      lock.transaction(async (trx) => {
        const now = deps.clock.now();
        if (await unlockUserAccount(trx, state.booking.studentId, CAPTURE_FAILED_LOCK_REASON, now)) {
          await recordMoneyChange(trx, actor, {
            bookingId,
            event: 'student_account_unlocked',
            action: 'user.unlock',
            data: { userId: state.booking.studentId },
            resource: { type: 'user', id: state.booking.studentId },
            reason: input.reason,
            now,
          });
        }
      });

    if (input.action === 'retry_capture') {
      await lock.transaction((trx) => updateBookingPayment(trx, bookingId, { nextCaptureAttemptAt: null }, deps.clock.now()));
      const captured = await captureLocked(lock, deps, { reason: 'admin_retry', actor });
      if (captured.status !== 'captured' && captured.status !== 'already_captured') {
        const detail = captured.status === 'failed' || captured.status === 'authorization_failed' ? captured.message : captured.reason;
        return {
          bookingId,
          action: input.action,
          result: `capture_failed: ${detail}`,
          paymentStatus: await audit('capture_failed', { detail }),
        };
      }
      await lock.transaction(async (trx) => {
        const now = deps.clock.now();
        await updateBookingPayment(trx, bookingId, { manualReviewReason: null, captureFailedSince: null }, now);
        await updateBooking(trx, bookingId, { paymentStatus: state.booking.lockedAt ? 'locked' : 'authorized', updatedAt: now });
      });
      await unlockStudent();
      const advanced = await advanceLocked(lock, deps, { actor });
      return {
        bookingId,
        action: input.action,
        result: `captured${advanced.steps.length ? `: ${advanced.steps.join(', ')}` : ''}`,
        paymentStatus: await audit('captured'),
      };
    }

    if (input.action === 'refund') {
      if (payment.capturedAt && payment.capturedCents > payment.refundedCents) {
        const refunded = await refundLocked(lock, deps, {
          amountCents: payment.capturedCents - payment.refundedCents,
          reason: input.reason,
          actor,
        });
        if (refunded.status !== 'refunded') throw new AppError('unavailable', 'The refund did not go through; try again.', null, 30);
      } else if (payment.paymentIntentId && !payment.capturedAt) {
        const paymentIntentId = payment.paymentIntentId;
        const released = await lock.transaction((trx) => findSucceededOperation(trx, bookingId, 'cancel-authorization', paymentIntentId));
        if (!released) await releaseAuthorizationLocked(lock, deps, { paymentIntentId, reason: 'admin_refund', actor });
      }
    }
    await lock.transaction(async (trx) => {
      const now = deps.clock.now();
      const current = requirePayment(await loadMoneyState(trx, bookingId));
      if (input.action === 'refund') await afterBookingRefunded(trx, { bookingId, now });
      await updateBookingPayment(
        trx,
        bookingId,
        {
          settlementOutcome: input.action === 'refund' ? 'admin_refund' : (current.settlementOutcome ?? 'manually_settled'),
          settlementCardRefundCents: current.refundedCents,
          ...(input.action === 'refund' && !current.transferredAt ? { settlementInstructorPayoutCents: 0 } : {}),
          settledAt: current.settledAt ?? now,
          manualReviewReason: null,
          nextCaptureAttemptAt: null,
        },
        now,
      );
      await updateBooking(trx, bookingId, { paymentStatus: 'settled', updatedAt: now });
    });
    await unlockStudent();
    return {
      bookingId,
      action: input.action,
      result: input.action === 'refund' ? 'refunded' : 'settled',
      paymentStatus: await audit(input.action),
    };
  });
}
