/** Fee rates of payment policy v2.1.1 as the seed snapshots them onto bookings. */
export const POLICY_VERSION = 'v2.1.1';
export const STUDENT_FEE_BPS = 1200;
export const FOUNDING_FEE_BPS = 800;

/** numerator / denominator rounded half away from zero, in integers (no float surprises). */
export function divideRounded(numerator: number, denominator: number): number {
  if (!Number.isInteger(numerator) || !Number.isInteger(denominator) || denominator <= 0) {
    throw new Error(`divideRounded needs integers and a positive denominator, got ${numerator}/${denominator}`);
  }
  const magnitude = Math.floor((2 * Math.abs(numerator) + denominator) / (2 * denominator));
  return numerator < 0 ? -magnitude : magnitude;
}

export interface PriceSnapshot {
  hourlyRateCents: number;
  lessonPriceCents: number;
  studentFeeCents: number;
  instructorFeeBps: number;
  instructorFeeCents: number;
  instructorPayoutCents: number;
}

/** LP pro-rated from the hourly rate, SF = 12% of LP, IF = tier rate × LP, payout = LP − IF. */
export function priceBooking(hourlyRateCents: number, durationMinutes: number, instructorFeeBps: number): PriceSnapshot {
  const lessonPriceCents = divideRounded(hourlyRateCents * durationMinutes, 60);
  const instructorFeeCents = divideRounded(lessonPriceCents * instructorFeeBps, 10_000);
  return {
    hourlyRateCents,
    lessonPriceCents,
    studentFeeCents: divideRounded(lessonPriceCents * STUDENT_FEE_BPS, 10_000),
    instructorFeeBps,
    instructorFeeCents,
    instructorPayoutCents: lessonPriceCents - instructorFeeCents,
  };
}
