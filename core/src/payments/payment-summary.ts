import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { findBookingPayment } from './booking-payments.queries.ts';
import type { ProviderLabel } from './money-deps.ts';

/** A booking's money as its student and the checkout screen see it (amounts in cents, instants ISO). */
export interface BookingPaymentSummary extends ProviderLabel {
  bookingId: string;
  cardAmountCents: number;
  creditsAppliedCents: number;
  card: { brand: string; last4: string } | null;
  authorizeAt: string;
  authorizedAt: string | null;
  authorizationExpiresAt: string | null;
  authAttempts: number;
  nextAuthAttemptAt: string | null;
  lastFailure: { code: string; message: string | null } | null;
  capturedCents: number;
  capturedAt: string | null;
  refundedCents: number;
  settlementOutcome: string | null;
  settledAt: string | null;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** The payment of one booking, or null before checkout. The caller has checked access. */
export async function getBookingPaymentSummary(db: Kysely<DB>, bookingId: string): Promise<BookingPaymentSummary | null> {
  const payment = await findBookingPayment(db, bookingId);
  if (!payment) return null;
  const card = payment.paymentMethodId
    ? await db.selectFrom('paymentMethods').select(['brand', 'last4']).where('id', '=', payment.paymentMethodId).executeTakeFirst()
    : undefined;
  const provider = payment.provider === 'stripe' ? 'stripe' : 'offline';
  return {
    provider,
    offline: provider === 'offline',
    bookingId,
    cardAmountCents: payment.cardAmountCents,
    creditsAppliedCents: payment.creditsAppliedCents,
    card: card ? { brand: card.brand, last4: card.last4 } : null,
    authorizeAt: payment.authorizeAt.toISOString(),
    authorizedAt: iso(payment.authorizedAt),
    authorizationExpiresAt: iso(payment.authorizationExpiresAt),
    authAttempts: payment.authAttempts,
    nextAuthAttemptAt: iso(payment.nextAuthAttemptAt),
    lastFailure: payment.lastFailureCode ? { code: payment.lastFailureCode, message: payment.lastFailureMessage } : null,
    capturedCents: payment.capturedCents,
    capturedAt: iso(payment.capturedAt),
    refundedCents: payment.refundedCents,
    settlementOutcome: payment.settlementOutcome,
    settledAt: iso(payment.settledAt),
  };
}
