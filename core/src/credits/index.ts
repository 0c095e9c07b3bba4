/**
 * Credits (payments.md §Credits): a ledger with lots and per-booking reservations. The payments
 * lifecycle calls reserve at checkout, release/settle at cancellation, afterLessonCompleted at
 * completion and afterBookingRefunded on a full refund — all inside its own transaction.
 */
export { reserveCredits, type ReserveCreditsInput } from './reserve-credits.ts';
export { consumeReservedCredits } from './consume-reserved-credits.ts';
export { releaseReservedCredits, type ReleaseResult } from './release-reserved-credits.ts';
export { settleCreditsForPenalty, type PenaltySettlement } from './settle-credits-for-penalty.ts';
export { issueCredit, type IssueCreditInput } from './issue-credit.ts';
export { getCreditBalance, sumLedger, type CreditBalance } from './get-credit-balance.ts';
export { afterLessonCompleted } from './after-lesson-completed.ts';
export { afterBookingRefunded, type RefundCreditsOutcome } from './after-booking-refunded.ts';
export { expireCredits } from './expire-credits.ts';
export { adjustCredits, type CreditAdjustment } from './adjust-credits.ts';
export { findCreditHistory, type CreditHistoryItem } from './find-credit-history.ts';
export { awardLoyalty, revokeLoyaltyForBooking, type LoyaltyOutcome, type LoyaltyRevocation } from './loyalty.ts';
export { CREDIT_CONFIG, creditExpiryFrom, loyaltyAwardCents } from './credit-config.ts';
export { CREDIT_SOURCES, type CreditSource, type LedgerKind } from './credit-ledger.ts';
