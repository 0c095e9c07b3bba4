import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { updateBooking } from '../booking/booking.queries.ts';
import { lockUserAccount, updateBookingPayment } from './booking-payments.queries.ts';
import { authorizeLocked } from './authorize.ts';
import type { MoneyDeps } from './money-deps.ts';
import type { MoneyLock } from './money-lock.ts';
import { callProvider, finishOperation, type MoneyActor, recordMoneyChange, SYSTEM_ACTOR } from './operations.ts';
import { queuePaymentEmail } from './payment-emails.ts';
import { authorizationCovers, nextCaptureRetryAt } from './payment-schedule.ts';
import { loadMoneyState } from './payment-state.ts';
import type { CaptureResult } from './provider.ts';

/** Why money is captured: the lesson happened, a late reschedule LOCKed it, or a cancellation keeps it. */
export type CaptureReason = 'lesson' | 'lock' | 'cancellation' | 'admin_retry';

export type CaptureOutcome =
  | { status: 'captured'; capturedCents: number; chargeId: string | null }
  | { status: 'already_captured' }
  /** Failed; retried at `nextAttemptAt`, or (null) the retries are over and the payment is in manual review. */
  | { status: 'failed'; code: string; message: string; nextAttemptAt: string | null }
  | { status: 'authorization_failed'; code: string; message: string }
  | { status: 'skipped'; reason: string };

/** Why a student's account is locked by this module (unlocked again only for this reason). */
export const CAPTURE_FAILED_LOCK_REASON = 'payment_capture_failed';

/**
 * Captures the booking's card for what it carries ((LP − credits) + SF), for a caller holding the
 * money lock. An authorization that would not last until now + 1h is renewed first (re-reading
 * `capture_before`), so a capture never meets a lapsed hold when it can be avoided. A failure
 * starts (or continues) the retry ladder of +2h, +8h, +24h, +48h; when the last retry fails the
 * payment goes to `manual_review`, the student's account is locked (audited), and — when the
 * lesson took place — the platform advances the instructor's payout (the settlement runner sends
 * the transfer).
 */
export async function captureLocked(
  lock: MoneyLock,
  deps: MoneyDeps,
  options: { reason: CaptureReason; actor?: MoneyActor; advancePayoutCents?: number },
): Promise<CaptureOutcome> {
  const actor = options.actor ?? SYSTEM_ACTOR;
  const bookingId = lock.bookingId;
  let state = await lock.transaction((trx) => loadMoneyState(trx, bookingId));
  if (!state.payment) return { status: 'skipped', reason: 'no_payment' };
  if (state.payment.capturedAt) return { status: 'already_captured' };
  const now = deps.clock.now();
  if (!authorizationCovers({ authorizedAt: state.payment.authorizedAt, expiresAt: state.payment.authorizationExpiresAt }, now)) {
    const authorized = await authorizeLocked(lock, deps, { trigger: 'capture', actor });
    if (authorized.status === 'failed') {
      // No hold on the card to capture from: a failed capture like any other (same retry ladder).
      return lock.transaction((trx) =>
        recordCaptureFailure(trx, deps, lock.bookingId, {
          reason: options.reason,
          actor,
          code: authorized.code,
          message: authorized.message,
          authorizationLost: true,
          idempotencyKey: null,
          advancePayoutCents: options.advancePayoutCents ?? 0,
          amountCents: state.payment?.cardAmountCents ?? 0,
        }),
      );
    }
    state = await lock.transaction((trx) => loadMoneyState(trx, bookingId));
    if (!state.payment?.paymentIntentId || !state.payment.authorizedAt) return { status: 'skipped', reason: 'not_authorized' };
  }
  const payment = state.payment;
  if (!payment.paymentIntentId) return { status: 'skipped', reason: 'not_authorized' };
  const paymentIntentId = payment.paymentIntentId;
  const amountCents = payment.cardAmountCents;

  const outcome = await callProvider<CaptureResult>(lock, deps, {
    purpose: 'capture',
    attempt: 'next',
    amountCents,
    userId: state.booking.studentId,
    request: { paymentIntentId, amountCents, reason: options.reason },
    onClaim: async (trx, operation) => {
      await updateBookingPayment(trx, bookingId, { captureAttempts: operation.attempt }, deps.clock.now());
    },
    stillNeeded: async (trx) => !(await loadMoneyState(trx, bookingId)).payment?.capturedAt,
    call: (key, request) =>
      deps.payments.capture(
        { paymentIntentId: String(request.paymentIntentId ?? paymentIntentId), amountCents: Number(request.amountCents ?? amountCents) },
        key,
      ),
  });
  if (outcome.kind === 'already_done') return { status: 'already_captured' };
  const result: CaptureResult =
    outcome.kind === 'answered'
      ? outcome.value
      : {
          status: 'failed',
          paymentIntentId,
          code: outcome.error.options.code ?? 'provider_rejected',
          message: outcome.error.message,
          authorizationLost: false,
        };

  return lock.transaction(async (trx): Promise<CaptureOutcome> => {
    const at = deps.clock.now();
    const { payment: current } = await loadMoneyState(trx, bookingId);
    if (!current) return { status: 'skipped', reason: 'no_payment' };
    if (result.status === 'captured') {
      const finished = await finishOperation(
        trx,
        outcome.operation,
        { status: 'succeeded', providerObjectId: result.chargeId ?? paymentIntentId, response: result },
        at,
      );
      if (!finished) return { status: 'already_captured' };
      await updateBookingPayment(
        trx,
        bookingId,
        {
          capturedAt: at,
          capturedCents: result.capturedCents,
          chargeId: result.chargeId ?? current.chargeId,
          nextCaptureAttemptAt: null,
          captureFailedSince: null,
        },
        at,
      );
      await recordMoneyChange(trx, actor, {
        bookingId,
        event: 'payment_captured',
        action: 'payment.capture',
        data: {
          provider: deps.payments.name,
          offline: deps.payments.offline,
          reason: options.reason,
          capturedCents: result.capturedCents,
          paymentIntentId,
          chargeId: result.chargeId,
          idempotencyKey: outcome.operation.idempotencyKey,
        },
        now: at,
      });
      return { status: 'captured', capturedCents: result.capturedCents, chargeId: result.chargeId };
    }

    const finished = await finishOperation(
      trx,
      outcome.operation,
      { status: 'failed', providerObjectId: paymentIntentId, errorCode: result.code, errorMessage: result.message, response: result },
      at,
    );
    // another process recorded this failure (and any e-mail) already
    if (!finished)
      return {
        status: 'failed',
        code: result.code,
        message: result.message,
        nextAttemptAt: current.nextCaptureAttemptAt?.toISOString() ?? null,
      };
    return recordCaptureFailure(trx, deps, bookingId, {
      reason: options.reason,
      actor,
      code: result.code,
      message: result.message,
      authorizationLost: result.authorizationLost,
      idempotencyKey: outcome.operation.idempotencyKey,
      advancePayoutCents: options.advancePayoutCents ?? 0,
      amountCents,
    });
  });
}

/**
 * Records a failed capture (or a failed renewal of the authorization before it) in the caller's
 * transaction: the retry ladder, and when it is over, manual review with the account lock.
 */
async function recordCaptureFailure(
  trx: Transaction<DB>,
  deps: MoneyDeps,
  bookingId: string,
  input: {
    reason: CaptureReason;
    actor: MoneyActor;
    code: string;
    message: string;
    authorizationLost: boolean;
    idempotencyKey: string | null;
    advancePayoutCents: number;
    amountCents: number;
  },
): Promise<CaptureOutcome> {
  const at = deps.clock.now();
  const { actor } = input;
  const { booking, payment } = await loadMoneyState(trx, bookingId);
  if (!payment) return { status: 'skipped', reason: 'no_payment' };
  const failedSince = payment.captureFailedSince ?? at;
  const nextAttemptAt = nextCaptureRetryAt(failedSince, at);
  const advance = nextAttemptAt === null && input.advancePayoutCents > 0 && !payment.payoutAdvancedAt;
  await updateBookingPayment(
    trx,
    bookingId,
    {
      captureFailedSince: failedSince,
      nextCaptureAttemptAt: nextAttemptAt,
      lastFailureCode: input.code,
      lastFailureMessage: input.message,
      // a lost authorization is renewed before the next attempt
      ...(input.authorizationLost ? { authorizationExpiresAt: at } : {}),
      ...(nextAttemptAt === null ? { manualReviewReason: 'capture_failed' } : {}),
      ...(advance ? { payoutAdvancedAt: at, settlementInstructorPayoutCents: input.advancePayoutCents } : {}),
    },
    at,
  );
  await recordMoneyChange(trx, actor, {
    bookingId,
    event: 'payment_capture_failed',
    action: 'payment.capture',
    outcome: 'failure',
    data: {
      provider: deps.payments.name,
      offline: deps.payments.offline,
      reason: input.reason,
      code: input.code,
      message: input.message,
      authorizationLost: input.authorizationLost,
      nextAttemptAt: nextAttemptAt?.toISOString() ?? null,
      idempotencyKey: input.idempotencyKey,
    },
    now: at,
  });
  if (nextAttemptAt === null) {
    // The retries are over: manual review, the student's account locked, the instructor paid anyway.
    await updateBooking(trx, bookingId, { paymentStatus: 'manual_review', updatedAt: at });
    const locked = await lockUserAccount(trx, booking.studentId, CAPTURE_FAILED_LOCK_REASON, at);
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: 'payment_manual_review',
      action: 'payment.manual_review',
      data: {
        reason: 'capture_failed',
        failedSince: failedSince.toISOString(),
        studentAccountLocked: locked !== undefined,
        payoutAdvancedCents: advance ? input.advancePayoutCents : 0,
      },
      before: { paymentStatus: booking.paymentStatus },
      after: { paymentStatus: 'manual_review' },
      now: at,
    });
    if (locked) {
      await recordMoneyChange(trx, actor, {
        bookingId,
        event: 'student_account_locked',
        action: 'user.lock',
        data: { userId: booking.studentId, reason: CAPTURE_FAILED_LOCK_REASON },
        resource: { type: 'user', id: booking.studentId },
        before: { status: locked.before },
        after: { status: 'locked' },
        now: at,
      });
      await queuePaymentEmail(trx, 'payment_capture_failed', booking, { amountCents: input.amountCents }, at);
    }
  }
  return { status: 'failed', code: input.code, message: input.message, nextAttemptAt: nextAttemptAt?.toISOString() ?? null };
}
