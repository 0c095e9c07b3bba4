/**
 * Every referral number of spec/payments.md §Referrals, in one config object: change them here
 * and only here. Amounts in cents.
 */
export const REFERRAL_CONFIG = Object.freeze({
  student: Object.freeze({
    /** "give $20 / get $20 in credits" */
    referrerRewardCents: 2000,
    referredRewardCents: 2000,
    /** The referred student's qualifying lesson must cost at least this (lesson price, LP). */
    minimumFirstLessonCents: 8000,
    /** "at most 20 rewards per referrer" */
    maxRewardsPerReferrer: 20,
  }),
  instructor: Object.freeze({
    /** "$75 cash (by transfer) per referred instructor while … fewer than 100 founding instructors" */
    rewardBeforeThresholdCents: 7500,
    /** "$50 after" */
    rewardAfterThresholdCents: 5000,
    foundingThreshold: 100,
  }),
  /** "7-day hold before the credit unlocks" (cash rewards are held the same way). */
  holdDays: 7,
  /** "credits expire after 6 months" (from the end of the hold). */
  rewardExpiryMonths: 6,
  velocity: Object.freeze({
    /** "velocity abuse above 5 attributions a day or 15 a week" → held for review */
    maxPerDay: 5,
    maxPerWeek: 15,
  }),
  /** "attribution window 30 days": a code can be applied within 30 days of signing up. */
  attributionWindowDays: 30,
});

export type ReferralConfig = typeof REFERRAL_CONFIG;
