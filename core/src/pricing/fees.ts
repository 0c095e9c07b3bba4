import { type BookingAmounts, bookingAmounts, STUDENT_FEE_BPS } from '../booking/booking.ts';
import { roundCents } from '../booking/booking-rules.ts';

/**
 * The amounts of one lesson (spec/payments.md §Amounts). The formulas live once, in
 * `bookingAmounts` (booking.ts), with the platform's one rounding helper `roundCents` (half away
 * from zero); this module re-exports them under pricing's name and adds what the card pays.
 *
 *   SF = round(12% × LP)   IF = round(rate × LP)   P = LP − IF   card = (LP − credits) + SF
 */
export { bookingAmounts as lessonAmounts, roundCents, STUDENT_FEE_BPS, type BookingAmounts as LessonAmounts };

/**
 * What the card is authorized for: the lesson price less the credits applied, plus the student
 * fee. Credits never cover the fee, so they are capped at the lesson price.
 */
export function cardAmountCents(
  amounts: Pick<BookingAmounts, 'lessonPriceCents' | 'studentFeeCents'>,
  creditsAppliedCents: number,
): number {
  if (!Number.isInteger(creditsAppliedCents) || creditsAppliedCents < 0)
    throw new Error(`credits must be whole cents ≥ 0, got ${creditsAppliedCents}`);
  const covered = Math.min(creditsAppliedCents, amounts.lessonPriceCents);
  return amounts.lessonPriceCents - covered + amounts.studentFeeCents;
}
