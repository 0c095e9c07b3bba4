/** Referrals (payments.md §Referrals): codes, attribution with the fraud rules, rewards and their unlocker. */
export { REFERRAL_CONFIG, type ReferralConfig } from './referral-config.ts';
export { getOrCreateReferralCode, normalizeReferralCode } from './referral-codes.ts';
export { attributeReferral, type ReferralAttribution, type AttributionStatus } from './attribute-referral.ts';
export { getMyReferrals, type MyReferrals } from './get-my-referrals.ts';
export { qualifyReferralsForLesson, instructorReferralRewardCents, type ReferralQualification } from './qualify-referral.ts';
export { voidReferralRewardsForBooking, type VoidedReward } from './void-referral-rewards.ts';
export { unlockReferralRewards, type UnlockSummary } from './unlock-referral-rewards.ts';
export { findReferrals, type ReferralListItem, type ReferralListQuery } from './find-referrals.ts';
export { reviewReferral } from './review-referral.ts';
