/**
 * The credit rules of spec/payments.md §Credits in one place. Amounts in cents, durations in
 * calendar units (UTC), so a rule reads the way the policy says it.
 */
export const CREDIT_CONFIG = Object.freeze({
  /** "A credit expires after 1 year." */
  expiryYears: 1,
  /** What the balance endpoint calls "expiring soon". */
  expiringSoonDays: 30,
  /** A credit handed back after a refund keeps its expiry, but never less than this much time. */
  reissueMinimumDays: 30,
  /**
   * Loyalty: "on the 5th of every 11 completed lessons $10 credit, on the 11th $20". Lesson n
   * (1-based, per student) earns `fifth` when n mod 11 = 5 and `eleventh` when n mod 11 = 0:
   * lessons 5, 11, 16, 22, 27, 33…
   */
  loyalty: Object.freeze({ cycle: 11, fifthPosition: 5, fifthCents: 1000, eleventhCents: 2000 }),
  /** Largest single admin adjustment, either way ($10,000). */
  maxAdjustmentCents: 1_000_000,
  currency: 'usd' as const,
});

/** The same instant `years` calendar years later (UTC; 29 February becomes 1 March). */
export function addYears(at: Date, years: number): Date {
  const next = new Date(at.getTime());
  next.setUTCFullYear(next.getUTCFullYear() + years);
  return next;
}

/** The same instant `months` calendar months later (UTC; overflowing days roll into the next month). */
export function addMonths(at: Date, months: number): Date {
  const next = new Date(at.getTime());
  next.setUTCMonth(next.getUTCMonth() + months);
  return next;
}

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * 86_400_000);
}

/** When a credit granted at `at` expires. */
export function creditExpiryFrom(at: Date): Date {
  return addYears(at, CREDIT_CONFIG.expiryYears);
}

/** The loyalty credit lesson number `n` earns (0 for most lessons). */
export function loyaltyAwardCents(lessonNumber: number): number {
  if (!Number.isInteger(lessonNumber) || lessonNumber < 1) return 0;
  const { cycle, fifthPosition, fifthCents, eleventhCents } = CREDIT_CONFIG.loyalty;
  const position = lessonNumber % cycle;
  if (position === fifthPosition) return fifthCents;
  if (position === 0) return eleventhCents;
  return 0;
}
