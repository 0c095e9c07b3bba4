/** Reconciliation of our payment records with the provider's (the payments.reconcile-stripe job). */
export {
  comparePayment,
  listPaymentMismatches,
  MISMATCH_KINDS,
  type MismatchKind,
  type PaymentMismatch,
  reconcilePayments,
  type ReconcileDeps,
  type ReconcileSummary,
  resolvePaymentMismatch,
  UNPROCESSED_EVENT_GRACE_MS,
} from './reconcile-payments.ts';
