import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { insertBookingEvents } from '../booking/booking.queries.ts';
import { type VoidedReward, voidReferralRewardsForBooking } from '../referrals/void-referral-rewards.ts';
import { addDays, CREDIT_CONFIG } from './credit-config.ts';
import { lockLots, SYSTEM_ACTOR, selectReservations } from './credit-ledger.ts';
import { issueCredit } from './issue-credit.ts';
import { type LoyaltyRevocation, revokeLoyaltyForBooking } from './loyalty.ts';
import { type ReleaseResult, releaseReservedCredits } from './release-reserved-credits.ts';

export interface RefundCreditsOutcome {
  /** Credit still held for the booking, given back. */
  released: ReleaseResult;
  /** Credit the lesson had already consumed, handed back as a new 'reissue' lot. */
  reissuedCents: number;
  loyalty: LoyaltyRevocation | null;
  referralRewards: VoidedReward[];
}

/**
 * A booking was fully refunded (instructor cancelled, confirmed instructor no-show, student won a
 * dispute): the student gets back the credit it used — held credit is released, credit already
 * consumed by a completed lesson is re-issued with its original expiry (at least 30 more days) —
 * the loyalty credit the lesson earned is revoked, and referral rewards it qualified are voided.
 * Idempotent per booking.
 */
export async function afterBookingRefunded(trx: Transaction<DB>, input: { bookingId: string; now: Date }): Promise<RefundCreditsOutcome> {
  const released = await releaseReservedCredits(trx, {
    bookingId: input.bookingId,
    now: input.now,
    reason: 'Released: the lesson was refunded',
  });
  const reissuedCents = await reissueConsumed(trx, input);
  const loyalty = await revokeLoyaltyForBooking(trx, {
    bookingId: input.bookingId,
    now: input.now,
    reason: 'The lesson that earned it was refunded',
  });
  const referralRewards = await voidReferralRewardsForBooking(trx, {
    bookingId: input.bookingId,
    now: input.now,
    reason: 'The qualifying lesson was refunded',
  });
  return { released, reissuedCents, loyalty, referralRewards };
}

async function reissueConsumed(trx: Transaction<DB>, input: { bookingId: string; now: Date }): Promise<number> {
  const reservations = (await selectReservations(trx, input.bookingId)).filter((row) => row.consumedCents > row.reissuedCents);
  if (reservations.length === 0) return 0;
  const lots = await lockLots(
    trx,
    reservations.map((row) => row.lotId),
  );
  // Re-read under the locks: a concurrent refund of the same booking must not re-issue twice.
  const current = (await selectReservations(trx, input.bookingId)).filter((row) => row.consumedCents > row.reissuedCents);
  const amountCents = current.reduce((sum, row) => sum + row.consumedCents - row.reissuedCents, 0);
  if (amountCents === 0) return 0;
  const latestExpiry = Math.max(...current.map((row) => lots.get(row.lotId)?.expiresAt.getTime() ?? 0));
  const expiresAt = new Date(Math.max(latestExpiry, addDays(input.now, CREDIT_CONFIG.reissueMinimumDays).getTime()));
  const studentId = current[0]!.userId;
  await issueCredit(trx, {
    userId: studentId,
    amountCents,
    source: 'reissue',
    bookingId: input.bookingId,
    expiresAt,
    reason: 'Credit returned: the lesson it paid for was refunded',
    now: input.now,
  });
  for (const row of current) {
    await trx
      .updateTable('creditReservations')
      .set({ reissuedCents: row.consumedCents, updatedAt: input.now })
      .where('id', '=', row.id)
      .execute();
  }
  await insertBookingEvents(trx, input.bookingId, [{ type: 'credits_reissued', data: { amountCents } }], SYSTEM_ACTOR, input.now);
  await recordAudit(trx, SYSTEM_CONTEXT, {
    action: 'credits.reissue',
    resourceType: 'booking',
    resourceId: input.bookingId,
    after: { studentId, amountCents, expiresAt: expiresAt.toISOString() },
  });
  return amountCents;
}
