import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { insertBookingEvents, updateBooking } from '../booking/booking.queries.ts';
import { type BookingPaymentRow, updateBookingPayment } from './booking-payments.queries.ts';
import type { Clock } from '../shared/clock.ts';
import type { PaymentIntentState } from './provider.ts';

export interface ProviderUpdateResult {
  /** The booking the PaymentIntent belongs to, when we know it. */
  bookingId: string | null;
  /** What was corrected in our records (empty: they already agreed). */
  changes: string[];
}

/**
 * Reconciles a booking's payment record with the provider's current view of its PaymentIntent
 * (re-read by the webhook handler or the reconciliation job; events may arrive late, twice or
 * out of order). It only records facts the provider reports that we missed — an authorization,
 * a capture, a lapsed authorization, refunds — and NEVER moves money: no provider call, no
 * settlement, no credit. Idempotent: a second call with the same state changes nothing.
 *
 * The booking is found by the PaymentIntent id, or by the `bookingId` metadata we set when
 * authorizing (an authorization whose answer we never recorded because of a crash).
 */
export async function applyProviderPaymentUpdate(
  db: Kysely<DB>,
  deps: { clock: Clock },
  state: PaymentIntentState,
): Promise<ProviderUpdateResult> {
  return db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    let payment: BookingPaymentRow | undefined = await trx
      .selectFrom('bookingPayments')
      .selectAll()
      .where('paymentIntentId', '=', state.paymentIntentId)
      .executeTakeFirst();
    const metadataBookingId = state.metadata.bookingId;
    if (!payment && metadataBookingId && state.metadata.purpose === 'lesson') {
      payment = await trx.selectFrom('bookingPayments').selectAll().where('bookingId', '=', metadataBookingId).executeTakeFirst();
    }
    if (!payment) return { bookingId: metadataBookingId ?? null, changes: [] };
    const bookingId = payment.bookingId;
    // The same row lock money actions take (waiting, not NOWAIT: this is a short bookkeeping write).
    const booking = await trx
      .selectFrom('bookings')
      .select(['id', 'status', 'paymentStatus'])
      .where('id', '=', bookingId)
      .forUpdate()
      .executeTakeFirst();
    if (!booking) return { bookingId, changes: [] };
    payment = await trx.selectFrom('bookingPayments').selectAll().where('bookingId', '=', bookingId).executeTakeFirstOrThrow();

    const changes: string[] = [];
    const isOurs = payment.paymentIntentId === state.paymentIntentId;
    if (state.status === 'requires_capture' && !payment.capturedAt) {
      if (!payment.paymentIntentId || (!payment.authorizedAt && !isOurs)) {
        // An authorization we never recorded (a crash after the call): record it, as the resumed call would.
        await updateBookingPayment(
          trx,
          bookingId,
          {
            paymentIntentId: state.paymentIntentId,
            chargeId: state.chargeId,
            authorizedAt: now,
            authorizationExpiresAt: state.captureBefore,
          },
          now,
        );
        changes.push('authorization_recorded');
        if (booking.paymentStatus === 'scheduled' || booking.paymentStatus === 'payment_method_required') {
          if (booking.status === 'confirmed') {
            await updateBooking(trx, bookingId, { paymentStatus: 'authorized', updatedAt: now });
            changes.push('payment_status_authorized');
          }
        }
      } else if (isOurs && state.captureBefore && payment.authorizationExpiresAt?.getTime() !== state.captureBefore.getTime()) {
        await updateBookingPayment(trx, bookingId, { authorizationExpiresAt: state.captureBefore }, now);
        changes.push('capture_before_updated');
      }
    }
    if (isOurs && state.status === 'succeeded' && !payment.capturedAt && state.amountReceivedCents > 0) {
      await updateBookingPayment(
        trx,
        bookingId,
        { capturedAt: now, capturedCents: state.amountReceivedCents, chargeId: state.chargeId ?? payment.chargeId },
        now,
      );
      changes.push('capture_recorded');
    }
    if (
      isOurs &&
      state.status === 'canceled' &&
      !payment.capturedAt &&
      (payment.authorizationExpiresAt === null || payment.authorizationExpiresAt > now)
    ) {
      // The hold on the card is gone (released, or lapsed at the provider): the next capture renews it first.
      await updateBookingPayment(trx, bookingId, { authorizationExpiresAt: now }, now);
      changes.push('authorization_lapsed');
    }
    if (isOurs && state.amountRefundedCents > payment.refundedCents) {
      await updateBookingPayment(trx, bookingId, { refundedCents: state.amountRefundedCents }, now);
      changes.push('refunds_recorded');
    }
    if (changes.length > 0) {
      const data = { paymentIntentId: state.paymentIntentId, providerStatus: state.status, changes };
      await insertBookingEvents(trx, bookingId, [{ type: 'payment_reconciled', data }], { type: 'system', id: null }, now);
      await recordAudit(trx, SYSTEM_CONTEXT, {
        action: 'payment.reconcile',
        resourceType: 'booking',
        resourceId: bookingId,
        before: { paymentIntentId: payment.paymentIntentId, capturedAt: payment.capturedAt, refundedCents: payment.refundedCents },
        after: data,
        metadata: data,
      });
    }
    return { bookingId, changes };
  });
}
