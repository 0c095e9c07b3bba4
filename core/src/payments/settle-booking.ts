import type { DB, JsonValue } from '@instainstru/db';
import type { Kysely } from 'kysely';
import type { CancellationQuote } from '../booking/cancellation-quote.ts';
import { updateBooking } from '../booking/booking.queries.ts';
import { afterBookingRefunded, afterLessonCompleted, releaseReservedCredits, settleCreditsForPenalty } from '../credits/index.ts';
import { authorizeLocked, releaseAuthorizationLocked } from './authorize.ts';
import { findPendingOperation, findSucceededOperation, updateBookingPayment } from './booking-payments.queries.ts';
import { type CaptureReason, captureLocked } from './capture.ts';
import type { MoneyDeps } from './money-deps.ts';
import { type MoneyLock, withMoneyLock } from './money-lock.ts';
import { type MoneyActor, recordMoneyChange, SYSTEM_ACTOR, toJson } from './operations.ts';
import { captureTimeOf, loadMoneyState, type MoneyState, paymentSnapshot } from './payment-state.ts';
import { refundLocked } from './refund.ts';
import {
  planCancellationSettlement,
  planCompletionSettlement,
  planNoShowRefund,
  planPaymentFailedCancellation,
  type SettlementPlan,
} from './settlement.ts';
import { transferLocked } from './transfer.ts';

/** The cancellation reason of a lesson cancelled at T−12h because its card never authorized. */
export const PAYMENT_FAILED_REASON = 'payment_failed';

/** What one run of the settlement runner did, step by step (job output, tests). */
export interface AdvanceResult {
  bookingId: string;
  steps: string[];
}

/**
 * Moves a booking's money one step closer to where its state says it should end, under the
 * booking's money lock. Every job and sweep of the lifecycle (and the requests that cancel,
 * reschedule late or resolve a no-show, right after their commit) calls this; it reads the state
 * and does what is due, so running it twice, late or after a crash does nothing twice:
 *
 * - a provider call left pending by a crash is finished first (same idempotency key);
 * - an undisputed no-show report past its 24h deadline is confirmed;
 * - a cancelled booking is settled from the quote recorded when it was cancelled (the same
 *   quote the person saw), an expired checkout or a lesson cancelled for a failed payment is
 *   released;
 * - a confirmed no-show is refunded in full;
 * - a lesson past end + 24h with nothing reported is auto-completed (if the instructor did not
 *   mark it), captured, settled and paid out;
 * - a late reschedule (LOCK) not captured yet is captured (nothing is transferred);
 * - an instructor payout still owed is transferred.
 */
export async function advanceBookingPayment(
  db: Kysely<DB>,
  deps: MoneyDeps,
  bookingId: string,
  options: { actor?: MoneyActor } = {},
): Promise<AdvanceResult> {
  return withMoneyLock(db, deps, bookingId, (lock) => advanceLocked(lock, deps, options));
}

export async function advanceLocked(lock: MoneyLock, deps: MoneyDeps, options: { actor?: MoneyActor } = {}): Promise<AdvanceResult> {
  const actor = options.actor ?? SYSTEM_ACTOR;
  const bookingId = lock.bookingId;
  const steps: string[] = [];
  const load = () => lock.transaction((trx) => loadMoneyState(trx, bookingId));
  let state = await load();
  if (!state.payment) return { bookingId, steps: ['no_payment'] };

  const pendingAuthorization = await lock.transaction((trx) => findPendingOperation(trx, bookingId, 'authorize'));
  if (pendingAuthorization) {
    const resumed = await authorizeLocked(lock, deps, { trigger: 'recovery', actor });
    steps.push(`authorize:${resumed.status}`);
    state = await load();
  }

  const now = deps.clock.now();
  let payment = state.payment!;
  if (payment.noShowState === 'reported' && payment.noShowDisputeDeadlineAt && payment.noShowDisputeDeadlineAt <= now) {
    await lock.transaction(async (trx) => {
      await updateBookingPayment(trx, bookingId, { noShowState: 'confirmed', noShowResolvedAt: now }, now);
      await recordMoneyChange(trx, actor, {
        bookingId,
        event: 'no_show_confirmed',
        action: 'payment.no_show_confirm',
        data: { automatic: true, reason: 'not disputed within 24 hours' },
        now,
      });
    });
    steps.push('no_show_confirmed');
    state = await load();
    payment = state.payment!;
  }

  const { booking } = state;
  if (booking.status === 'cancelled' && !payment.settledAt) {
    if (booking.paymentStatus === 'manual_review') steps.push('manual_review');
    else await runPlan(lock, deps, actor, state, cancellationPlanOf(state), 'cancellation', steps);
  } else if (payment.noShowState === 'confirmed' && !payment.settledAt) {
    await runPlan(lock, deps, actor, state, planNoShowRefund(paymentSnapshot(payment)), 'cancellation', steps);
  } else if (payment.noShowState === 'reported' || payment.noShowState === 'disputed') {
    steps.push('frozen_no_show');
  } else if (
    (booking.status === 'confirmed' || booking.status === 'completed') &&
    !payment.settledAt &&
    // (a completed lesson whose card never authorized — a rejected no-show report — is
    // authorized by the capture step first)
    (booking.paymentStatus === 'authorized' ||
      booking.paymentStatus === 'locked' ||
      (booking.status === 'completed' && booking.paymentStatus === 'payment_method_required')) &&
    now.getTime() > captureTimeOf(booking).getTime() &&
    (!payment.nextCaptureAttemptAt || payment.nextCaptureAttemptAt <= now)
  ) {
    if (booking.status === 'confirmed') {
      await autoComplete(lock, deps, actor);
      steps.push('auto_completed');
      state = await load();
    }
    await runPlan(lock, deps, actor, state, planCompletionSettlement(state.booking, paymentSnapshot(state.payment!)), 'lesson', steps);
  } else if (
    booking.status === 'confirmed' &&
    booking.lockedAt &&
    booking.paymentStatus === 'locked' &&
    !payment.capturedAt &&
    (!payment.nextCaptureAttemptAt || payment.nextCaptureAttemptAt <= now)
  ) {
    // LOCK: captured now, nothing transferred until the lesson settles.
    const captured = await captureLocked(lock, deps, { reason: 'lock', actor });
    steps.push(`lock_capture:${captured.status}`);
  }

  state = await load();
  payment = state.payment!;
  if ((payment.settlementInstructorPayoutCents ?? 0) > 0 && !payment.transferredAt && (payment.capturedAt || payment.payoutAdvancedAt)) {
    const transferred = await transferLocked(lock, deps, { actor });
    steps.push(`transfer:${transferred.status}`);
  }
  return { bookingId, steps };
}

/** The plan of a cancelled booking: the quote recorded at cancellation, or a plain release. */
function cancellationPlanOf(state: MoneyState): SettlementPlan {
  const payment = state.payment!;
  // Only a cancellation by a person records a quote; system cancellations (expired checkout,
  // failed payment) take nothing.
  const quote = payment.settlementQuote as unknown as CancellationQuote | null;
  if (quote) {
    return planCancellationSettlement(quote, paymentSnapshot(payment));
  }
  const failed = planPaymentFailedCancellation();
  return state.booking.cancellationReason === PAYMENT_FAILED_REASON ? failed : { ...failed, outcome: 'released' };
}

async function autoComplete(lock: MoneyLock, deps: MoneyDeps, actor: MoneyActor): Promise<void> {
  await lock.transaction(async (trx) => {
    const now = deps.clock.now();
    const { booking } = await loadMoneyState(trx, lock.bookingId);
    if (booking.status !== 'confirmed') return;
    await updateBooking(trx, lock.bookingId, { status: 'completed', completedAt: now, updatedAt: now });
    await recordMoneyChange(trx, actor, {
      bookingId: lock.bookingId,
      event: 'completed',
      action: 'booking.complete',
      data: { automatic: true, reason: 'not marked complete by the instructor by end + 24h' },
      before: { status: 'confirmed' },
      after: { status: 'completed' },
      now,
    });
    await afterLessonCompleted(trx, {
      bookingId: lock.bookingId,
      studentId: booking.studentId,
      instructorId: booking.instructorId,
      lessonPriceCents: booking.lessonPriceCents,
      now,
      jobs: deps.jobs,
    });
  });
}

/** Carries out a plan: capture, release, refund, then the credits and the settlement record, then the payout. */
async function runPlan(
  lock: MoneyLock,
  deps: MoneyDeps,
  actor: MoneyActor,
  state: MoneyState,
  plan: SettlementPlan,
  reason: CaptureReason,
  steps: string[],
): Promise<void> {
  const bookingId = lock.bookingId;
  let payment = state.payment!;
  if (plan.captureCents > 0 && !payment.capturedAt) {
    const captured = await captureLocked(lock, deps, { reason, actor, advancePayoutCents: plan.instructorPayoutCents });
    steps.push(`capture:${captured.status}`);
    if (captured.status !== 'captured' && captured.status !== 'already_captured') return;
  }
  if (plan.releaseAuthorization && payment.paymentIntentId && !payment.capturedAt) {
    const paymentIntentId = payment.paymentIntentId;
    const released = await lock.transaction((trx) => findSucceededOperation(trx, bookingId, 'cancel-authorization', paymentIntentId));
    if (!released) {
      await releaseAuthorizationLocked(lock, deps, { paymentIntentId, reason: plan.outcome, actor });
      steps.push('authorization_released');
    }
  }
  if (plan.cardRefundCents > 0) {
    const refunded = await refundLocked(lock, deps, { amountCents: plan.cardRefundCents, reason: plan.outcome, actor });
    steps.push(`refund:${refunded.status}`);
    if (refunded.status === 'failed') {
      await lock.transaction(async (trx) => {
        const now = deps.clock.now();
        await updateBooking(trx, bookingId, { paymentStatus: 'manual_review', updatedAt: now });
        await updateBookingPayment(trx, bookingId, { manualReviewReason: 'refund_failed' }, now);
      });
      return;
    }
  }

  await lock.transaction(async (trx) => {
    const now = deps.clock.now();
    const current = await loadMoneyState(trx, bookingId);
    payment = current.payment!;
    if (payment.settledAt) return;
    const credit = plan.credit;
    let creditResult: unknown = null;
    if (plan.fullRefund) {
      creditResult = await afterBookingRefunded(trx, { bookingId, now });
    } else if (credit.kind === 'release_all') {
      creditResult = await releaseReservedCredits(trx, { bookingId, now, reason: `Released: ${plan.outcome}`, actor: actor.audit });
    } else if (credit.kind === 'penalty') {
      creditResult = await settleCreditsForPenalty(trx, {
        bookingId,
        studentId: current.booking.studentId,
        targetCents: credit.targetCents,
        now,
        actor: actor.audit,
      });
    }
    const settlement = {
      outcome: plan.outcome,
      studentCreditCents: plan.studentCreditCents,
      instructorPayoutCents: plan.instructorPayoutCents,
      cardRefundCents: payment.refundedCents,
      feeKeptCents: plan.feeKeptCents,
      capturedCents: payment.capturedCents,
    };
    await updateBookingPayment(
      trx,
      bookingId,
      {
        settlementOutcome: plan.outcome,
        settlementStudentCreditCents: plan.studentCreditCents,
        settlementInstructorPayoutCents: plan.instructorPayoutCents,
        settlementCardRefundCents: payment.refundedCents,
        settlementFeeKeptCents: plan.feeKeptCents,
        settlementQuote: JSON.stringify(payment.settlementQuote ?? toJson(plan)),
        settledAt: now,
        nextCaptureAttemptAt: null,
        nextAuthAttemptAt: null,
      },
      now,
    );
    await updateBooking(trx, bookingId, { paymentStatus: 'settled', updatedAt: now });
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: 'payment_settled',
      action: 'payment.settle',
      data: { ...settlement, provider: deps.payments.name, offline: deps.payments.offline, credits: toJson(creditResult) as JsonValue },
      before: { paymentStatus: current.booking.paymentStatus },
      after: { paymentStatus: 'settled', ...settlement },
      now,
    });
  });
  steps.push(`settled:${plan.outcome}`);
}
