import { type DB, newId } from '@instainstru/db';
import { sql, type Transaction } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { addDays, addMonths } from '../credits/credit-config.ts';
import { REFERRAL_CONFIG } from './referral-config.ts';
import { findSharedCard } from './referral-fraud.ts';

export interface ReferralQualification {
  attributionId: string;
  kind: 'student' | 'instructor';
  outcome: 'qualified' | 'rejected' | 'below_minimum';
  rewards: Array<{ rewardId: string; beneficiaryId: string; role: 'referrer' | 'referred'; amountCents: number; status: string }>;
}

/** The cash reward an instructor referral earns now: $75 below 100 founding instructors, $50 after. */
export async function instructorReferralRewardCents(trx: Transaction<DB>): Promise<number> {
  const row = await trx
    .selectFrom('instructorProfiles')
    .select(sql<number>`count(*)::int`.as('founding'))
    .where('isFounding', '=', true)
    .executeTakeFirstOrThrow();
  const { foundingThreshold, rewardBeforeThresholdCents, rewardAfterThresholdCents } = REFERRAL_CONFIG.instructor;
  return row.founding < foundingThreshold ? rewardBeforeThresholdCents : rewardAfterThresholdCents;
}

/**
 * Called when a lesson completes: qualifies the referral of its student (a first completed lesson
 * of at least $80 LP: referrer and referred each earn $20 of credit, at most 20 rewards per
 * referrer) and of its instructor (their first completed lesson: the referrer earns $75/$50 cash).
 * Rewards are created `pending` with a 7-day hold and unlocked by the 'referrals.unlock-rewards'
 * job. The card rule is checked again here, since most students save a card after signing up.
 */
export async function qualifyReferralsForLesson(
  trx: Transaction<DB>,
  input: { bookingId: string; studentId: string; instructorId: string; lessonPriceCents: number; now: Date },
): Promise<ReferralQualification[]> {
  const results: ReferralQualification[] = [];
  const student = await qualify(trx, { ...input, referredId: input.studentId, kind: 'student' });
  if (student) results.push(student);
  const instructor = await qualify(trx, { ...input, referredId: input.instructorId, kind: 'instructor' });
  if (instructor) results.push(instructor);
  return results;
}

async function qualify(
  trx: Transaction<DB>,
  input: { bookingId: string; referredId: string; kind: 'student' | 'instructor'; lessonPriceCents: number; now: Date },
): Promise<ReferralQualification | null> {
  const attribution = await trx
    .selectFrom('referralAttributions')
    .selectAll()
    .where('referredId', '=', input.referredId)
    .where('kind', '=', input.kind)
    .where('status', 'in', ['attributed', 'held'])
    .where('qualifiedAt', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  if (!attribution) return null;
  const base = { attributionId: attribution.id, kind: input.kind };

  if (input.kind === 'student') {
    if (input.lessonPriceCents < REFERRAL_CONFIG.student.minimumFirstLessonCents) return { ...base, outcome: 'below_minimum', rewards: [] };
    const sharedCard = await findSharedCard(trx, attribution.referrerId, attribution.referredId);
    if (sharedCard) {
      await trx
        .updateTable('referralAttributions')
        .set({
          status: 'rejected',
          flagged: true,
          flagReason: 'self_referral_card',
          rejectionReason: 'self_referral_card',
          cardFingerprint: sharedCard,
          updatedAt: input.now,
        })
        .where('id', '=', attribution.id)
        .execute();
      await recordAudit(trx, SYSTEM_CONTEXT, {
        action: 'referral.reject',
        resourceType: 'referral_attribution',
        resourceId: attribution.id,
        after: { status: 'rejected', rejectionReason: 'self_referral_card' },
        reason: 'The referred student saved a card the referrer also uses',
      });
      return { ...base, outcome: 'rejected', rewards: [] };
    }
  }

  const holdUntil = addDays(input.now, REFERRAL_CONFIG.holdDays);
  const expiresAt = addMonths(holdUntil, REFERRAL_CONFIG.rewardExpiryMonths);
  const common = {
    attributionId: attribution.id,
    holdUntil,
    expiresAt,
    qualifyingBookingId: input.bookingId,
    createdAt: input.now,
    updatedAt: input.now,
  };
  const rewards: Array<
    typeof common & {
      id: string;
      beneficiaryId: string;
      role: 'referrer' | 'referred';
      kind: 'credit' | 'cash';
      amountCents: number;
      status: string;
      voidReason: string | null;
      voidedAt: Date | null;
    }
  > = [];
  if (input.kind === 'student') {
    const earned = await trx
      .selectFrom('referralRewards')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('beneficiaryId', '=', attribution.referrerId)
      .where('role', '=', 'referrer')
      .where('kind', '=', 'credit')
      .where('status', '<>', 'void')
      .executeTakeFirstOrThrow();
    // The cap limits what a referrer can earn; the friend still gets their $20.
    const capped = earned.n >= REFERRAL_CONFIG.student.maxRewardsPerReferrer;
    rewards.push({
      ...common,
      id: newId(),
      beneficiaryId: attribution.referrerId,
      role: 'referrer',
      kind: 'credit',
      amountCents: REFERRAL_CONFIG.student.referrerRewardCents,
      status: capped ? 'void' : 'pending',
      voidReason: capped ? 'referrer_cap_reached' : null,
      voidedAt: capped ? input.now : null,
    });
    rewards.push({
      ...common,
      id: newId(),
      beneficiaryId: attribution.referredId,
      role: 'referred',
      kind: 'credit',
      amountCents: REFERRAL_CONFIG.student.referredRewardCents,
      status: 'pending',
      voidReason: null,
      voidedAt: null,
    });
  } else {
    rewards.push({
      ...common,
      id: newId(),
      beneficiaryId: attribution.referrerId,
      role: 'referrer',
      kind: 'cash',
      amountCents: await instructorReferralRewardCents(trx),
      status: 'pending',
      voidReason: null,
      voidedAt: null,
    });
  }
  await trx.insertInto('referralRewards').values(rewards).execute();
  // A held attribution keeps its status (the review decides) but remembers that it qualified.
  await trx
    .updateTable('referralAttributions')
    .set({
      status: attribution.status === 'held' ? 'held' : 'qualified',
      qualifiedAt: input.now,
      qualifyingBookingId: input.bookingId,
      updatedAt: input.now,
    })
    .where('id', '=', attribution.id)
    .execute();
  await recordAudit(trx, SYSTEM_CONTEXT, {
    action: 'referral.qualify',
    resourceType: 'referral_attribution',
    resourceId: attribution.id,
    after: {
      bookingId: input.bookingId,
      rewards: rewards.map((reward) => ({ id: reward.id, role: reward.role, amountCents: reward.amountCents, status: reward.status })),
    },
  });
  return {
    ...base,
    outcome: 'qualified',
    rewards: rewards.map((reward) => ({
      rewardId: reward.id,
      beneficiaryId: reward.beneficiaryId,
      role: reward.role,
      amountCents: reward.amountCents,
      status: reward.status,
    })),
  };
}
