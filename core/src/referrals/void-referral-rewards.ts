import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { revokeCreditLot } from '../credits/revoke-lot.ts';

export interface VoidedReward {
  rewardId: string;
  previousStatus: string;
  /** Unspent credit of an already unlocked reward withdrawn now. */
  revokedCents: number;
  /** Credit already spent, or cash already paid: not clawed back. */
  unrecoveredCents: number;
}

/**
 * The qualifying lesson of a referral was refunded: its pending rewards are voided (the 7-day
 * hold exists for this), an unlocked credit reward loses its unspent credit, and a paid cash
 * reward is left paid and recorded as unrecovered. The attribution goes back to waiting, so a
 * later qualifying lesson can still earn the rewards.
 */
export async function voidReferralRewardsForBooking(
  trx: Transaction<DB>,
  input: { bookingId: string; now: Date; reason: string },
): Promise<VoidedReward[]> {
  const rewards = await trx
    .selectFrom('referralRewards')
    .selectAll()
    .where('qualifyingBookingId', '=', input.bookingId)
    .where('status', '<>', 'void')
    .orderBy('id')
    .forUpdate()
    .execute();
  const voided: VoidedReward[] = [];
  const attributionIds = new Set<string>();
  for (const reward of rewards) {
    attributionIds.add(reward.attributionId);
    let revokedCents = 0;
    let unrecoveredCents = 0;
    if (reward.status === 'paid') {
      unrecoveredCents = reward.amountCents;
    } else if (reward.status === 'unlocked' && reward.lotId) {
      const revocation = await revokeCreditLot(trx, {
        lotId: reward.lotId,
        bookingId: input.bookingId,
        now: input.now,
        reason: input.reason,
      });
      if (revocation) ({ revokedCents, unrecoveredCents } = revocation);
    }
    if (reward.status !== 'paid') {
      await trx
        .updateTable('referralRewards')
        .set({ status: 'void', voidReason: 'qualifying_lesson_refunded', voidedAt: input.now, updatedAt: input.now })
        .where('id', '=', reward.id)
        .execute();
    }
    voided.push({ rewardId: reward.id, previousStatus: reward.status, revokedCents, unrecoveredCents });
  }
  for (const attributionId of attributionIds) {
    // A paid cash reward stays (and keeps the attribution qualified): nothing can be earned twice.
    const live = await trx
      .selectFrom('referralRewards')
      .select('id')
      .where('attributionId', '=', attributionId)
      .where('status', '<>', 'void')
      .executeTakeFirst();
    if (live) continue;
    await trx
      .updateTable('referralAttributions')
      .set({ status: 'attributed', qualifiedAt: null, qualifyingBookingId: null, updatedAt: input.now })
      .where('id', '=', attributionId)
      .where('status', '=', 'qualified')
      .execute();
    await trx
      .updateTable('referralAttributions')
      .set({ qualifiedAt: null, qualifyingBookingId: null, updatedAt: input.now })
      .where('id', '=', attributionId)
      .where('status', '=', 'held')
      .execute();
  }
  if (voided.length > 0) {
    await recordAudit(trx, SYSTEM_CONTEXT, {
      action: 'referral.void_rewards',
      resourceType: 'booking',
      resourceId: input.bookingId,
      after: { rewards: voided },
      reason: input.reason,
    });
  }
  return voided;
}
