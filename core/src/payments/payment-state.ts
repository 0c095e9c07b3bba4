import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { AppError } from '../shared/errors.ts';
import {
  type BookingPaymentRow,
  findBookingPayment,
  findMoneyBooking,
  findPaymentMethodById,
  type MoneyBooking,
} from './booking-payments.queries.ts';
import type { MoneyDeps } from './money-deps.ts';
import { captureDueAt } from './payment-schedule.ts';
import type { PaymentSnapshot } from './settlement.ts';

/** A booking and its money state, read together (under the action's row lock). */
export interface MoneyState {
  booking: MoneyBooking;
  payment: BookingPaymentRow | undefined;
}

export async function loadMoneyState(db: Kysely<DB> | Transaction<DB>, bookingId: string): Promise<MoneyState> {
  const booking = await findMoneyBooking(db, bookingId);
  if (!booking) throw new AppError('not_found', 'Booking was not found.', 'bookingId');
  return { booking, payment: await findBookingPayment(db, bookingId) };
}

/** The numbers settlement plans are measured on. */
export function paymentSnapshot(payment: BookingPaymentRow): PaymentSnapshot {
  return { cardAmountCents: payment.cardAmountCents, capturedCents: payment.capturedCents, refundedCents: payment.refundedCents };
}

/** When this booking's payment is captured (end + 24h). */
export function captureTimeOf(booking: Pick<MoneyBooking, 'endsAt'>): Date {
  return captureDueAt(booking.endsAt);
}

/** A money action may only use the provider that made the payment. */
export function assertSameProvider(payment: BookingPaymentRow, deps: MoneyDeps): void {
  if (payment.provider !== deps.payments.name) {
    throw new AppError(
      'conflict',
      `This payment was made with the ${payment.provider} provider, but this process is configured for ${deps.payments.name}.`,
      'bookingId',
    );
  }
}

/** The provider's id of the saved card the payment uses. */
export async function providerPaymentMethodOf(db: Kysely<DB> | Transaction<DB>, payment: BookingPaymentRow): Promise<string | null> {
  if (!payment.paymentMethodId) return null;
  const method = await findPaymentMethodById(db, payment.paymentMethodId);
  if (!method || method.detachedAt) return null;
  return method.providerPaymentMethodId;
}
