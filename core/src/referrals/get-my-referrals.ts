import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import type { AuditContext } from '../audit/record-audit.ts';
import { requireUser } from '../auth/principal.ts';
import type { Clock } from '../shared/clock.ts';
import { getOrCreateReferralCode } from './referral-codes.ts';
import { REFERRAL_CONFIG } from './referral-config.ts';
import { recordFingerprints } from './referral-fraud.ts';

export interface MyReferrals {
  code: string;
  stats: {
    /** People who applied your code, by where they stand. */
    attributed: number;
    qualified: number;
    heldForReview: number;
    rejected: number;
    /** Rewards you earned as a referrer, in cents, by status. */
    pendingCents: number;
    unlockedCents: number;
    paidCents: number;
    /** Student referral credit rewards you can still earn (cap of 20). */
    remainingStudentRewards: number;
  };
  /** What each side earns, from the one config source. */
  terms: {
    studentReferrerRewardCents: number;
    studentReferredRewardCents: number;
    minimumFirstLessonCents: number;
    holdDays: number;
    rewardExpiryMonths: number;
    maxRewardsPerReferrer: number;
    instructorRewardCents: number;
  };
}

/**
 * Your referral code (made on first visit) and how your referrals are doing. The device and IP
 * hashes you are seen with here feed the self-referral rule when someone applies your code.
 */
export async function getMyReferrals(
  db: Kysely<DB>,
  caller: AuditContext,
  input: { deviceFingerprintHash?: string | undefined },
  deps: { clock: Clock },
): Promise<MyReferrals> {
  const { userId } = requireUser(caller.principal);
  const now = deps.clock.now();
  const code = await getOrCreateReferralCode(db, userId, now);
  await recordFingerprints(db, userId, { deviceHash: input.deviceFingerprintHash, ipHash: caller.ipHash }, now);
  const attributions = await db
    .selectFrom('referralAttributions')
    .where('referrerId', '=', userId)
    .select([
      sql<number>`count(*) filter (where status = 'attributed')::int`.as('attributed'),
      sql<number>`count(*) filter (where status = 'qualified')::int`.as('qualified'),
      sql<number>`count(*) filter (where status = 'held')::int`.as('held'),
      sql<number>`count(*) filter (where status = 'rejected')::int`.as('rejected'),
    ])
    .executeTakeFirstOrThrow();
  const rewards = await db
    .selectFrom('referralRewards')
    .where('beneficiaryId', '=', userId)
    .where('role', '=', 'referrer')
    .select([
      sql<number>`coalesce(sum(amount_cents) filter (where status = 'pending'), 0)::int`.as('pending'),
      sql<number>`coalesce(sum(amount_cents) filter (where status = 'unlocked'), 0)::int`.as('unlocked'),
      sql<number>`coalesce(sum(amount_cents) filter (where status = 'paid'), 0)::int`.as('paid'),
      sql<number>`count(*) filter (where kind = 'credit' and status <> 'void')::int`.as('studentRewards'),
    ])
    .executeTakeFirstOrThrow();
  const founding = await db
    .selectFrom('instructorProfiles')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('isFounding', '=', true)
    .executeTakeFirstOrThrow();
  const { student, instructor } = REFERRAL_CONFIG;
  return {
    code,
    stats: {
      attributed: attributions.attributed,
      qualified: attributions.qualified,
      heldForReview: attributions.held,
      rejected: attributions.rejected,
      pendingCents: rewards.pending,
      unlockedCents: rewards.unlocked,
      paidCents: rewards.paid,
      remainingStudentRewards: Math.max(0, student.maxRewardsPerReferrer - rewards.studentRewards),
    },
    terms: {
      studentReferrerRewardCents: student.referrerRewardCents,
      studentReferredRewardCents: student.referredRewardCents,
      minimumFirstLessonCents: student.minimumFirstLessonCents,
      holdDays: REFERRAL_CONFIG.holdDays,
      rewardExpiryMonths: REFERRAL_CONFIG.rewardExpiryMonths,
      maxRewardsPerReferrer: student.maxRewardsPerReferrer,
      instructorRewardCents:
        founding.n < instructor.foundingThreshold ? instructor.rewardBeforeThresholdCents : instructor.rewardAfterThresholdCents,
    },
  };
}
