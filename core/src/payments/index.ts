/**
 * Payments: the lifecycle of a booking's money (spec/payments.md) — checkout, authorization at
 * checkout or T−24h, retries, capture at end + 24h, transfers, LOCK, cancellation settlement,
 * no-show, admin refunds — every action under the booking's money lock, every provider call
 * recorded under its idempotency key. Providers live in ./providers, read-only views in ./views.
 */
export {
  withMoneyLock,
  lockBookingRowNowait,
  MONEY_LOCK_RETRY_AFTER_SECONDS,
  MONEY_LOCK_TTL_MS,
  type MoneyLock,
  type MoneyLockDeps,
} from './money-lock.ts';
export { type MoneyDeps, type ProviderLabel, providerLabel } from './money-deps.ts';
export { applyProviderPaymentUpdate, type ProviderUpdateResult } from './apply-provider-update.ts';
export { checkoutBooking, type CheckoutInput, type CheckoutResult } from './checkout.ts';
export { authorizeBookingPayment, type AuthorizationOutcome, type AuthorizationTrigger } from './authorize.ts';
export { advanceBookingPayment, type AdvanceResult, PAYMENT_FAILED_REASON } from './settle-booking.ts';
export { runAuthorizationJob, runAuthorizationRetrySweep, runAuthorizationSweep, runCaptureSweep, type SweepResult } from './lifecycle.ts';
export { disputeNoShow, freezePaymentForNoShow, NO_SHOW_DISPUTE_WINDOW_MS, resolveNoShow } from './no-show.ts';
export {
  previewRefund,
  refundBookingPayment,
  resolveManualReview,
  type ManualReviewAction,
  type RefundPreview,
  type RefundRequest,
} from './admin-actions.ts';
export { getBookingPaymentSummary, type BookingPaymentSummary } from './payment-summary.ts';
export {
  planCancellationSettlement,
  planCompletionSettlement,
  planNoShowRefund,
  planPaymentFailedCancellation,
  type SettlementPlan,
  type SettlementOutcome,
} from './settlement.ts';
export * from './payment-schedule.ts';
export { idempotencyKey, type PaymentPurpose } from './idempotency-keys.ts';
export { PaymentProviderError, type PaymentProvider, type PaymentIntentState } from './provider.ts';
