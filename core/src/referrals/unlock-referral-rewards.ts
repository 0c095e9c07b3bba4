import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { issueCredit } from '../credits/issue-credit.ts';
import { idempotencyKey } from '../payments/idempotency-keys.ts';
import { PaymentProviderError, type PaymentProvider } from '../payments/provider.ts';
import { callProviderRecorded } from '../payments/providers/record-operation.ts';
import type { Clock } from '../shared/clock.ts';
import { voidReferralRewardsForBooking } from './void-referral-rewards.ts';

export interface UnlockSummary {
  unlocked: number;
  paid: number;
  voided: number;
  /** Waiting on something (a review, the referrer's payout account). */
  blocked: number;
  /** Transfers that failed in a way a later run can retry (same idempotency key). */
  failed: number;
  rewardIds: string[];
}

type Decision =
  | { action: 'skip' }
  | { action: 'void' }
  | { action: 'blocked' }
  | { action: 'unlocked' }
  | {
      action: 'transfer';
      destinationAccountId: string;
      amountCents: number;
      beneficiaryId: string;
      bookingId: string | null;
      attributionId: string;
    };

/**
 * The 'referrals.unlock-rewards' job (every 15 minutes): pending rewards past their 7-day hold
 * are unlocked — student rewards become credit expiring 6 months after the hold, instructor
 * referral rewards are paid by transfer to the referrer's connected account under the key
 * `referral-payout:{rewardId}:1`. Rewards whose qualifying lesson was refunded, whose
 * attribution was rejected, or that reached their expiry first are voided. Held attributions
 * (velocity review) and referrers without a payout account wait.
 */
export async function unlockReferralRewards(
  db: Kysely<DB>,
  deps: { payments: PaymentProvider; clock: Clock },
  options: { limit?: number } = {},
): Promise<UnlockSummary> {
  const now = deps.clock.now();
  const due = await db
    .selectFrom('referralRewards as r')
    .leftJoin('bookings as b', 'b.id', 'r.qualifyingBookingId')
    .leftJoin('bookingPayments as p', 'p.bookingId', 'r.qualifyingBookingId')
    .select('r.id')
    .where('r.status', '=', 'pending')
    .where((eb) => eb.or([eb('r.holdUntil', '<=', now), eb('b.status', 'is distinct from', 'completed'), eb('p.refundedCents', '>', 0)]))
    .where((eb) => eb.or([eb('r.blockedReason', 'is', null), eb('r.blockedReason', 'not like', 'transfer_failed%')]))
    .orderBy('r.holdUntil')
    .limit(options.limit ?? 500)
    .execute();

  const summary: UnlockSummary = { unlocked: 0, paid: 0, voided: 0, blocked: 0, failed: 0, rewardIds: [] };
  for (const { id } of due) {
    const decision = await db.transaction().execute((trx) => decide(trx, id, now));
    if (decision.action === 'skip') continue;
    summary.rewardIds.push(id);
    if (decision.action === 'void') summary.voided += 1;
    else if (decision.action === 'blocked') summary.blocked += 1;
    else if (decision.action === 'unlocked') summary.unlocked += 1;
    else {
      const paid = await payOut(db, deps, id, decision);
      if (paid) summary.paid += 1;
      else summary.failed += 1;
    }
  }
  return summary;
}

async function decide(t: Transaction<DB>, rewardId: string, now: Date): Promise<Decision> {
  const reward = await t.selectFrom('referralRewards').selectAll().where('id', '=', rewardId).forUpdate().skipLocked().executeTakeFirst();
  if (!reward || reward.status !== 'pending') return { action: 'skip' };
  const attribution = await t
    .selectFrom('referralAttributions')
    .selectAll()
    .where('id', '=', reward.attributionId)
    .executeTakeFirstOrThrow();
  const booking = reward.qualifyingBookingId
    ? await t
        .selectFrom('bookings as b')
        .leftJoin('bookingPayments as p', 'p.bookingId', 'b.id')
        .select(['b.status', sql<number>`coalesce(p.refunded_cents, 0)::int`.as('refundedCents')])
        .where('b.id', '=', reward.qualifyingBookingId)
        .executeTakeFirst()
    : undefined;

  const voidReward = async (voidReason: string, detail: string) => {
    await t
      .updateTable('referralRewards')
      .set({ status: 'void', voidReason, voidedAt: now, updatedAt: now })
      .where('id', '=', reward.id)
      .execute();
    await recordAudit(t, SYSTEM_CONTEXT, {
      action: 'referral.void_reward',
      resourceType: 'referral_reward',
      resourceId: reward.id,
      after: { status: 'void', voidReason },
      reason: detail,
    });
    return { action: 'void' } as const;
  };
  const block = async (blockedReason: string) => {
    if (reward.blockedReason !== blockedReason) {
      await t.updateTable('referralRewards').set({ blockedReason, updatedAt: now }).where('id', '=', reward.id).execute();
    }
    return { action: 'blocked' } as const;
  };

  if (attribution.status === 'rejected')
    return voidReward('attribution_rejected', `The referral was rejected (${attribution.rejectionReason ?? 'review'})`);
  if (reward.qualifyingBookingId && (!booking || booking.status !== 'completed' || booking.refundedCents > 0)) {
    await voidReferralRewardsForBooking(t, { bookingId: reward.qualifyingBookingId, now, reason: 'The qualifying lesson was refunded' });
    return { action: 'void' };
  }
  if (reward.holdUntil.getTime() > now.getTime()) return { action: 'skip' };
  if (reward.expiresAt.getTime() <= now.getTime()) return voidReward('expired', 'The reward expired before it could be unlocked');
  if (attribution.status === 'held') return block('held_for_review');

  if (reward.kind === 'credit') {
    const { lotId } = await issueCredit(t, {
      userId: reward.beneficiaryId,
      amountCents: reward.amountCents,
      source: 'referral',
      bookingId: reward.qualifyingBookingId,
      expiresAt: reward.expiresAt,
      reason:
        reward.role === 'referrer'
          ? 'Referral reward: a friend you invited took their first lesson'
          : 'Welcome reward: you joined with a referral',
      now,
    });
    await t
      .updateTable('referralRewards')
      .set({ status: 'unlocked', lotId, unlockedAt: now, blockedReason: null, updatedAt: now })
      .where('id', '=', reward.id)
      .execute();
    await recordAudit(t, SYSTEM_CONTEXT, {
      action: 'referral.unlock',
      resourceType: 'referral_reward',
      resourceId: reward.id,
      after: { status: 'unlocked', lotId, amountCents: reward.amountCents, beneficiaryId: reward.beneficiaryId },
    });
    return { action: 'unlocked' };
  }

  const account = await t
    .selectFrom('instructorProfiles')
    .select(['stripeAccountId', 'payoutsEnabled'])
    .where('userId', '=', reward.beneficiaryId)
    .executeTakeFirst();
  if (!account?.stripeAccountId || !account.payoutsEnabled) return block('referrer_has_no_payout_account');
  await t
    .updateTable('referralRewards')
    .set({ destinationAccountId: account.stripeAccountId, blockedReason: null, updatedAt: now })
    .where('id', '=', reward.id)
    .execute();
  return {
    action: 'transfer',
    destinationAccountId: account.stripeAccountId,
    amountCents: reward.amountCents,
    beneficiaryId: reward.beneficiaryId,
    bookingId: reward.qualifyingBookingId,
    attributionId: reward.attributionId,
  };
}

/** Sends the referral payout (outside any transaction) and records it; false when it must wait. */
async function payOut(
  db: Kysely<DB>,
  deps: { payments: PaymentProvider; clock: Clock },
  rewardId: string,
  decision: Extract<Decision, { action: 'transfer' }>,
): Promise<boolean> {
  const key = idempotencyKey('referral-payout', rewardId, 1);
  const request = {
    amountCents: decision.amountCents,
    destinationAccountId: decision.destinationAccountId,
    description: 'InstaInstru instructor referral reward',
    metadata: { purpose: 'referral-payout', rewardId, attributionId: decision.attributionId },
  };
  let transferId: string;
  try {
    ({ transferId } = await callProviderRecorded(
      db,
      {
        provider: deps.payments.name,
        purpose: 'referral-payout',
        idempotencyKey: key,
        userId: decision.beneficiaryId,
        bookingId: decision.bookingId,
        amountCents: decision.amountCents,
        request,
      },
      () => deps.payments.transfer(request, key),
      (result) => ({ status: 'succeeded', providerObjectId: result.transferId }),
      () => deps.clock.now(),
    ));
  } catch (error) {
    if (error instanceof PaymentProviderError && !error.retryable) {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('referralRewards')
          .set({ blockedReason: `transfer_failed: ${error.message}`.slice(0, 500), updatedAt: deps.clock.now() })
          .where('id', '=', rewardId)
          .execute();
        await recordAudit(trx, SYSTEM_CONTEXT, {
          action: 'referral.payout',
          resourceType: 'referral_reward',
          resourceId: rewardId,
          outcome: 'failure',
          after: { idempotencyKey: key, error: error.message },
        });
      });
      return false;
    }
    if (error instanceof PaymentProviderError) return false;
    throw error;
  }
  await db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    await trx
      .updateTable('referralRewards')
      .set({ status: 'paid', transferId, paidAt: now, updatedAt: now })
      .where('id', '=', rewardId)
      .where('status', '=', 'pending')
      .execute();
    await recordAudit(trx, SYSTEM_CONTEXT, {
      action: 'referral.payout',
      resourceType: 'referral_reward',
      resourceId: rewardId,
      after: {
        status: 'paid',
        transferId,
        amountCents: decision.amountCents,
        destinationAccountId: decision.destinationAccountId,
        idempotencyKey: key,
      },
    });
  });
  return true;
}
