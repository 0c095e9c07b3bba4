import type { CancellationOutcome, CancellationQuote } from '../booking/cancellation-quote.ts';

/**
 * How a booking's money ends, as a plan the settlement runner carries out step by step (pure, no
 * I/O). Cancellations are planned from the SAME quote the student or instructor was shown
 * (booking/cancellation-quote.ts); lesson completion and no-show refunds add their own rows.
 *
 * Credits never cover the student fee: the card carries (LP − credits) + SF. When a penalty
 * returns credit, the target is measured on LP alone and C's `settleCreditsForPenalty` first
 * gives back the reserved credits (up to the target) and issues the rest as new credit.
 */

export type SettlementOutcome = Exclude<CancellationOutcome, 'not_cancellable'> | 'completed' | 'no_show_refund' | 'payment_failed';

/** What happens to the student's reserved credits. */
export type CreditAction =
  | { kind: 'release_all' }
  | { kind: 'penalty'; targetCents: number }
  /** Consumed when the lesson completes (C's afterLessonCompleted). */
  | { kind: 'consume' };

export interface SettlementPlan {
  outcome: SettlementOutcome;
  /** The card must end up captured for this much (0: nothing is taken). */
  captureCents: number;
  /** An uncaptured authorization is released. */
  releaseAuthorization: boolean;
  /** Captured money that goes back to the card. */
  cardRefundCents: number;
  credit: CreditAction;
  /** The student's credit from this settlement (the quote's figure). */
  studentCreditCents: number;
  /** Paid to the instructor by transfer. */
  instructorPayoutCents: number;
  /** The student fee the platform keeps. */
  feeKeptCents: number;
  /** A refund in full: C's afterBookingRefunded revokes what the booking earned. */
  fullRefund: boolean;
}

/** The money state the plan is measured against. */
export interface PaymentSnapshot {
  /** What the card carries: (LP − credits applied) + SF. */
  cardAmountCents: number;
  capturedCents: number;
  refundedCents: number;
}

/** The full refund of the table's last row (instructor cancels, confirmed no-show, dispute won). */
function fullRefund(outcome: 'full_refund' | 'no_show_refund', payment: PaymentSnapshot): SettlementPlan {
  const refundable = payment.capturedCents - payment.refundedCents;
  return {
    outcome,
    captureCents: 0,
    releaseAuthorization: payment.capturedCents === 0,
    cardRefundCents: Math.max(0, refundable),
    credit: { kind: 'release_all' },
    studentCreditCents: 0,
    instructorPayoutCents: 0,
    feeKeptCents: 0,
    fullRefund: true,
  };
}

/**
 * The settlement of a cancellation, from its quote: one case per row of the cancellation table.
 * The card is captured for what it carries whenever the quote charges it (the credit part of LP
 * comes back through the penalty's credit release, so the student pays exactly SF plus the
 * lesson share the quote keeps).
 */
export function planCancellationSettlement(quote: CancellationQuote, payment: PaymentSnapshot): SettlementPlan {
  switch (quote.outcome) {
    case 'not_cancellable':
      throw new Error('a booking that cannot be cancelled has no cancellation settlement');
    case 'released':
      return {
        outcome: 'released',
        captureCents: 0,
        releaseAuthorization: true,
        cardRefundCents: 0,
        credit: { kind: 'release_all' },
        studentCreditCents: 0,
        instructorPayoutCents: 0,
        feeKeptCents: 0,
        fullRefund: false,
      };
    case 'full_refund':
      return fullRefund('full_refund', payment);
    case 'late_credit':
    case 'very_late_split':
    case 'locked_credit':
    case 'locked_split':
      return {
        outcome: quote.outcome,
        captureCents: payment.cardAmountCents,
        releaseAuthorization: false,
        cardRefundCents: 0,
        credit: { kind: 'penalty', targetCents: quote.studentCreditCents },
        studentCreditCents: quote.studentCreditCents,
        instructorPayoutCents: quote.instructorPayoutCents,
        feeKeptCents: quote.feeKeptCents,
        fullRefund: false,
      };
  }
}

/** A lesson that happened: the card is captured in full, the instructor gets P, SF is kept. */
export function planCompletionSettlement(
  booking: { instructorPayoutCents: number; studentFeeCents: number },
  payment: PaymentSnapshot,
): SettlementPlan {
  return {
    outcome: 'completed',
    captureCents: payment.cardAmountCents,
    releaseAuthorization: false,
    cardRefundCents: 0,
    credit: { kind: 'consume' },
    studentCreditCents: 0,
    instructorPayoutCents: booking.instructorPayoutCents,
    feeKeptCents: booking.studentFeeCents,
    fullRefund: false,
  };
}

/** A confirmed instructor no-show (or a dispute the student won): everything goes back. */
export function planNoShowRefund(payment: PaymentSnapshot): SettlementPlan {
  return fullRefund('no_show_refund', payment);
}

/** An authorization that never succeeded by T−12h: cancelled without penalty, nothing taken. */
export function planPaymentFailedCancellation(): SettlementPlan {
  return {
    outcome: 'payment_failed',
    captureCents: 0,
    releaseAuthorization: true,
    cardRefundCents: 0,
    credit: { kind: 'release_all' },
    studentCreditCents: 0,
    instructorPayoutCents: 0,
    feeKeptCents: 0,
    fullRefund: false,
  };
}
