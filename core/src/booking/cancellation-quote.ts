import { roundCents } from './booking-rules.ts';
import { type PolicyWindow, policyWindow } from './booking.ts';

/** What the quote needs from a booking: its snapshot, never today's prices or rates. */
export interface CancellationSnapshot {
  status: string;
  startsAt: Date;
  lessonPriceCents: number;
  studentFeeCents: number;
  instructorPayoutCents: number;
  /** Set when a late reschedule locked (captured) the booking. */
  lockedAt: Date | null;
}

/**
 * Who cancels: the student, the instructor, or the platform (an admin waiving the penalty, a
 * confirmed instructor no-show, a dispute the student won) — the last two refund in full.
 */
export type CancellationActor = 'student' | 'instructor' | 'platform';

export type CancellationOutcome =
  'not_cancellable' | 'released' | 'full_refund' | 'late_credit' | 'very_late_split' | 'locked_credit' | 'locked_split';

export interface CancellationQuote {
  outcome: CancellationOutcome;
  window: PolicyWindow;
  /** Net amount the student's card ends up paying. */
  cardChargedCents: number;
  /** Amount returned to the card after a capture. */
  cardRefundCents: number;
  studentCreditCents: number;
  instructorPayoutCents: number;
  /** Student booking-protection fee the platform keeps. */
  feeKeptCents: number;
  wording: string;
}

const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/**
 * The cancellation table of spec/payments.md as one pure function of (snapshot, now, actor).
 * The quote screen and the cancellation itself both call it, so what was shown is what happens.
 * A hold that was never paid (`pending_payment`) costs nothing whoever cancels.
 */
export function cancellationQuote(snapshot: CancellationSnapshot, now: Date, actor: CancellationActor): CancellationQuote {
  const window = policyWindow(snapshot.startsAt.getTime(), now.getTime());
  const lp = snapshot.lessonPriceCents;
  const sf = snapshot.studentFeeCents;
  const captured = snapshot.lockedAt !== null;
  const base = { window, cardChargedCents: 0, cardRefundCents: 0, studentCreditCents: 0, instructorPayoutCents: 0, feeKeptCents: 0 };

  if (snapshot.status !== 'pending_payment' && snapshot.status !== 'confirmed') {
    return {
      ...base,
      outcome: 'not_cancellable',
      wording: `This lesson is ${snapshot.status.replace('_', ' ')} and can no longer be cancelled.`,
    };
  }
  if (actor !== 'student') {
    return {
      ...base,
      outcome: 'full_refund',
      cardRefundCents: captured ? lp + sf : 0,
      wording: captured
        ? `The student is refunded ${dollars(lp + sf)} to their card, including the booking fee. The instructor is not paid.`
        : 'The payment authorization is released in full, including the booking fee. The instructor is not paid.',
    };
  }
  if (snapshot.status === 'pending_payment' && !captured) {
    return { ...base, outcome: 'released', wording: 'Nothing was charged for this booking; cancelling it is free.' };
  }
  if (captured) {
    // Locked bookings refund as credit only, measured against the new start (payments.md §Reschedule).
    if (window !== 'lt_12h') {
      return {
        ...base,
        outcome: 'locked_credit',
        cardChargedCents: lp + sf,
        studentCreditCents: lp,
        feeKeptCents: sf,
        wording: `This lesson was rescheduled late, so the ${dollars(lp)} lesson price comes back as credit; the ${dollars(sf)} booking fee is not refunded.`,
      };
    }
    return split(
      'locked_split',
      window,
      lp,
      sf,
      snapshot.instructorPayoutCents,
      'This lesson was rescheduled late and starts in less than 12 hours',
    );
  }
  if (window === 'ge_24h') {
    return { ...base, outcome: 'released', wording: 'Cancelling 24 hours or more before the lesson is free: your card is not charged.' };
  }
  if (window === 'h12_to_24') {
    return {
      ...base,
      outcome: 'late_credit',
      cardChargedCents: lp + sf,
      studentCreditCents: lp,
      feeKeptCents: sf,
      wording: `The lesson starts in less than 24 hours: your card is charged ${dollars(lp + sf)} and the ${dollars(lp)} lesson price comes back as credit. The ${dollars(sf)} booking fee is not refunded.`,
    };
  }
  return split('very_late_split', window, lp, sf, snapshot.instructorPayoutCents, 'The lesson starts in less than 12 hours');
}

function split(
  outcome: 'very_late_split' | 'locked_split',
  window: PolicyWindow,
  lp: number,
  sf: number,
  payout: number,
  why: string,
): CancellationQuote {
  const credit = roundCents(lp / 2);
  const instructor = roundCents(payout / 2);
  return {
    outcome,
    window,
    cardChargedCents: lp + sf,
    cardRefundCents: 0,
    studentCreditCents: credit,
    instructorPayoutCents: instructor,
    feeKeptCents: sf,
    wording: `${why}: ${dollars(credit)} (half the lesson price) comes back as credit, the instructor receives ${dollars(instructor)}, and the ${dollars(sf)} booking fee is not refunded.`,
  };
}
