import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { updateBooking } from '../booking/booking.queries.ts';
import { findPendingOperation, findUsablePaymentMethod, updateBookingPayment } from './booking-payments.queries.ts';
import type { MoneyDeps } from './money-deps.ts';
import { type MoneyLock, withMoneyLock } from './money-lock.ts';
import { callProvider, finishOperation, type MoneyActor, recordMoneyChange, SYSTEM_ACTOR } from './operations.ts';
import { authorizationCovers, nextAuthorizationRetryAt } from './payment-schedule.ts';
import { queuePaymentEmail } from './payment-emails.ts';
import { assertSameProvider, captureTimeOf, loadMoneyState, providerPaymentMethodOf } from './payment-state.ts';
import type { AuthorizeResult } from './provider.ts';

/** Why an authorization is attempted (recorded on the operation and the timeline). */
export type AuthorizationTrigger = 'checkout' | 'scheduled' | 'retry' | 'reauthorize' | 'capture' | 'card_updated' | 'recovery';

export type AuthorizationOutcome =
  | { status: 'authorized'; paymentIntentId: string; authorizationExpiresAt: string | null }
  | { status: 'failed'; code: string; message: string; requiresAction: boolean }
  | { status: 'skipped'; reason: string };

/**
 * Authorizes a booking's card now (manual-capture PaymentIntent, saved card, off-session), under
 * the booking's money lock. See `authorizeLocked`.
 */
export async function authorizeBookingPayment(
  db: Kysely<DB>,
  deps: MoneyDeps,
  bookingId: string,
  options: { trigger: AuthorizationTrigger; actor?: MoneyActor },
): Promise<AuthorizationOutcome> {
  return withMoneyLock(db, deps, bookingId, (lock) => authorizeLocked(lock, deps, options));
}

/**
 * The authorization step of the lifecycle, for a caller that holds the money lock.
 *
 * - A call left pending by a crash is resumed first, under its own key, whatever the booking's
 *   state now (the provider may have authorized; the answer must be recorded and, if the lesson
 *   is gone, the hold on the card released).
 * - Otherwise it authorizes only a live booking whose current authorization would not cover the
 *   capture at end + 24h (never made, lapsed, or `capture_before` too early after a reschedule).
 * - Success: payment `authorized` (or stays `locked`), a pending checkout becomes `confirmed`,
 *   and a superseded authorization is released. Failure: `payment_method_required`; for a
 *   confirmed lesson the retry ladder starts (+1h, +4h, +8h, then every 8h) and the first failure
 *   of an episode sends one e-mail.
 */
export async function authorizeLocked(
  lock: MoneyLock,
  deps: MoneyDeps,
  options: { trigger: AuthorizationTrigger; actor?: MoneyActor },
): Promise<AuthorizationOutcome> {
  const actor = options.actor ?? SYSTEM_ACTOR;
  const bookingId = lock.bookingId;
  const prepared = await lock.transaction(async (trx) => {
    const { booking, payment } = await loadMoneyState(trx, bookingId);
    if (!payment) return { skip: 'no_payment' as const };
    assertSameProvider(payment, deps);
    const resuming = await findPendingOperation(trx, bookingId, 'authorize');
    if (!resuming) {
      if (payment.settledAt || payment.capturedAt) return { skip: 'settled_or_captured' as const };
      // A capture may need an authorization first whatever the lesson's status (a cancellation
      // penalty, a lesson completed on a lapsed hold); otherwise only live bookings are authorized.
      if (options.trigger !== 'capture' && booking.status !== 'pending_payment' && booking.status !== 'confirmed') {
        return { skip: `booking_${booking.status}` };
      }
      if (
        payment.paymentIntentId &&
        authorizationCovers(
          { authorizedAt: payment.authorizedAt, expiresAt: payment.authorizationExpiresAt },
          options.trigger === 'capture' ? deps.clock.now() : captureTimeOf(booking),
        )
      ) {
        return { skip: 'already_authorized' as const };
      }
    }
    const paymentMethodId = await providerPaymentMethodOf(trx, payment);
    const fallback = paymentMethodId
      ? undefined
      : await findUsablePaymentMethod(trx, { userId: booking.studentId, provider: payment.provider });
    return {
      skip: null,
      amountCents: payment.cardAmountCents,
      customerId: payment.customerId ?? '',
      paymentMethodId: paymentMethodId ?? fallback?.providerPaymentMethodId ?? null,
    };
  });
  if (prepared.skip !== null) return { status: 'skipped', reason: prepared.skip };

  const outcome = await callProvider<AuthorizeResult>(lock, deps, {
    purpose: 'authorize',
    attempt: 'next',
    amountCents: prepared.amountCents,
    userId: null,
    request: { amountCents: prepared.amountCents, customerId: prepared.customerId, providerPaymentMethodId: prepared.paymentMethodId },
    onClaim: async (trx, operation) => {
      await updateBookingPayment(trx, bookingId, { authAttempts: operation.attempt }, deps.clock.now());
    },
    call: async (key, request) => {
      // a resumed call repeats the first one exactly (same card, amount and customer)
      const providerPaymentMethodId = (request.providerPaymentMethodId as string | null | undefined) ?? prepared.paymentMethodId;
      if (!providerPaymentMethodId) {
        return {
          status: 'failed',
          paymentIntentId: null,
          code: 'payment_method_missing',
          message: 'The saved card was removed; add a card to pay for this lesson.',
          requiresAction: false,
        };
      }
      return deps.payments.authorize(
        {
          amountCents: Number(request.amountCents ?? prepared.amountCents),
          customerId: String(request.customerId ?? prepared.customerId),
          paymentMethodId: providerPaymentMethodId,
          description: `InstaInstru lesson ${bookingId}`,
          metadata: { bookingId, purpose: 'lesson' },
          transferGroup: `booking:${bookingId}`,
        },
        key,
      );
    },
  });
  if (outcome.kind === 'already_done') return { status: 'skipped', reason: 'already_done' };
  const result: AuthorizeResult =
    outcome.kind === 'answered'
      ? outcome.value
      : {
          status: 'failed',
          paymentIntentId: null,
          code: outcome.error.options.code ?? 'provider_rejected',
          message: outcome.error.message,
          requiresAction: false,
        };

  const recorded = await lock.transaction(async (trx) => {
    const now = deps.clock.now();
    const { booking, payment } = await loadMoneyState(trx, bookingId);
    if (!payment) return { outcome: { status: 'skipped', reason: 'no_payment' } as AuthorizationOutcome, release: [] as string[] };
    if (result.status !== 'failed') {
      const finished = await finishOperation(
        trx,
        outcome.operation,
        { status: 'succeeded', providerObjectId: result.paymentIntentId, response: result },
        now,
      );
      const authorized: AuthorizationOutcome = {
        status: 'authorized',
        paymentIntentId: result.paymentIntentId,
        authorizationExpiresAt: result.captureBefore ? result.captureBefore.toISOString() : null,
      };
      // another process that resumed the same call recorded it (and released what it supersedes)
      if (!finished) return { outcome: authorized, release: [] as string[] };
      const superseded = payment.paymentIntentId && payment.paymentIntentId !== result.paymentIntentId && !payment.capturedAt;
      const live = booking.status === 'pending_payment' || booking.status === 'confirmed';
      await updateBookingPayment(
        trx,
        bookingId,
        {
          paymentIntentId: result.paymentIntentId,
          chargeId: result.chargeId,
          authorizedAt: now,
          authorizationExpiresAt: result.captureBefore,
          nextAuthAttemptAt: null,
          lastFailureCode: null,
          lastFailureMessage: null,
          failureNotifiedAt: null,
          finalWarningSentAt: null,
        },
        now,
      );
      if (live) {
        const confirming = booking.status === 'pending_payment';
        await updateBooking(trx, bookingId, {
          paymentStatus: booking.lockedAt ? 'locked' : 'authorized',
          ...(confirming ? { status: 'confirmed', confirmedAt: now, holdExpiresAt: null } : {}),
          updatedAt: now,
        });
        if (confirming) {
          await recordMoneyChange(trx, actor, {
            bookingId,
            event: 'confirmed',
            action: 'booking.confirm',
            data: { reason: 'payment_authorized' },
            before: { status: booking.status },
            after: { status: 'confirmed' },
            now,
          });
        }
      }
      await recordMoneyChange(trx, actor, {
        bookingId,
        event: 'payment_authorized',
        action: 'payment.authorize',
        data: {
          provider: deps.payments.name,
          offline: deps.payments.offline,
          trigger: options.trigger,
          amountCents: result.amountCents,
          paymentIntentId: result.paymentIntentId,
          chargeId: result.chargeId,
          captureBefore: result.captureBefore ? result.captureBefore.toISOString() : null,
          idempotencyKey: outcome.operation.idempotencyKey,
        },
        before: { paymentStatus: booking.paymentStatus },
        now,
      });
      // A superseded authorization (renewed before capture) and one made for a lesson that is
      // gone meanwhile are released at once.
      const gone = !live && options.trigger !== 'capture';
      const release = [
        ...(superseded && payment.paymentIntentId ? [payment.paymentIntentId] : []),
        ...(gone ? [result.paymentIntentId] : []),
      ];
      return {
        outcome: {
          status: 'authorized',
          paymentIntentId: result.paymentIntentId,
          authorizationExpiresAt: result.captureBefore ? result.captureBefore.toISOString() : null,
        } as AuthorizationOutcome,
        release,
      };
    }

    const finished = await finishOperation(
      trx,
      outcome.operation,
      {
        status: 'failed',
        providerObjectId: result.paymentIntentId,
        errorCode: result.code,
        errorMessage: result.message,
        response: result,
      },
      now,
    );
    const failed: AuthorizationOutcome = {
      status: 'failed',
      code: result.code,
      message: result.message,
      requiresAction: result.requiresAction,
    };
    if (!finished) return { outcome: failed, release: [] as string[] };
    const confirmed = booking.status === 'confirmed';
    const firstFailureAt = payment.failureNotifiedAt ?? now;
    const notify = confirmed && !payment.failureNotifiedAt;
    await updateBookingPayment(
      trx,
      bookingId,
      {
        lastFailureCode: result.code,
        lastFailureMessage: result.message,
        // the ladder only runs for confirmed lessons; a checkout is retried by the student
        nextAuthAttemptAt: confirmed ? nextAuthorizationRetryAt(firstFailureAt, now) : null,
        ...(confirmed ? { failureNotifiedAt: firstFailureAt } : {}),
      },
      now,
    );
    if (booking.status === 'pending_payment' || booking.status === 'confirmed') {
      await updateBooking(trx, bookingId, { paymentStatus: 'payment_method_required', updatedAt: now });
    }
    if (notify) {
      await queuePaymentEmail(
        trx,
        'payment_authorization_failed',
        booking,
        {
          amountCents: payment.cardAmountCents,
          reason: result.message,
          retryAt: nextAuthorizationRetryAt(firstFailureAt, now).toISOString(),
        },
        now,
      );
    }
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: 'payment_authorization_failed',
      action: 'payment.authorize',
      outcome: 'failure',
      data: {
        provider: deps.payments.name,
        offline: deps.payments.offline,
        trigger: options.trigger,
        code: result.code,
        message: result.message,
        requiresAction: result.requiresAction,
        paymentIntentId: result.paymentIntentId,
        idempotencyKey: outcome.operation.idempotencyKey,
        emailed: notify,
      },
      before: { paymentStatus: booking.paymentStatus },
      after: { paymentStatus: 'payment_method_required' },
      now,
    });
    return {
      outcome: {
        status: 'failed',
        code: result.code,
        message: result.message,
        requiresAction: result.requiresAction,
      } as AuthorizationOutcome,
      release: [] as string[],
    };
  });
  for (const paymentIntentId of recorded.release) {
    await releaseAuthorizationLocked(lock, deps, { paymentIntentId, reason: 'superseded_or_cancelled', actor });
  }
  return recorded.outcome;
}

/** Releases an uncaptured authorization (cancel the PaymentIntent), recorded like every provider call. */
export async function releaseAuthorizationLocked(
  lock: MoneyLock,
  deps: MoneyDeps,
  input: { paymentIntentId: string; reason: string; actor?: MoneyActor },
): Promise<void> {
  const actor = input.actor ?? SYSTEM_ACTOR;
  const bookingId = lock.bookingId;
  const outcome = await callProvider(lock, deps, {
    purpose: 'cancel-authorization',
    attempt: 'next',
    amountCents: null,
    userId: null,
    request: { paymentIntentId: input.paymentIntentId, reason: input.reason },
    call: (key, request) =>
      deps.payments.cancelAuthorization(
        { paymentIntentId: String(request.paymentIntentId ?? input.paymentIntentId), reason: 'requested_by_customer' },
        key,
      ),
  });
  if (outcome.kind === 'already_done') return;
  await lock.transaction(async (trx) => {
    const now = deps.clock.now();
    let finished: boolean;
    if (outcome.kind === 'rejected') {
      finished = await finishOperation(
        trx,
        outcome.operation,
        {
          status: 'failed',
          errorCode: outcome.error.options.code ?? 'provider_rejected',
          errorMessage: outcome.error.message,
          response: null,
        },
        now,
      );
    } else {
      finished = await finishOperation(
        trx,
        outcome.operation,
        { status: 'succeeded', providerObjectId: input.paymentIntentId, response: outcome.value },
        now,
      );
    }
    if (!finished) return;
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: 'payment_authorization_released',
      action: 'payment.cancel_authorization',
      outcome: outcome.kind === 'rejected' ? 'failure' : 'success',
      data: {
        provider: deps.payments.name,
        offline: deps.payments.offline,
        paymentIntentId: input.paymentIntentId,
        reason: input.reason,
        idempotencyKey: outcome.operation.idempotencyKey,
        ...(outcome.kind === 'rejected' ? { error: outcome.error.message } : {}),
      },
      now,
    });
  });
}
