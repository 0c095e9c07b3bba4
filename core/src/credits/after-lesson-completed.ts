import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import type { JobQueue } from '../jobs/queue.ts';
import { qualifyReferralsForLesson, type ReferralQualification } from '../referrals/qualify-referral.ts';
import { consumeReservedCredits } from './consume-reserved-credits.ts';
import { awardLoyalty, type LoyaltyOutcome } from './loyalty.ts';

/**
 * Everything credits owe a completed lesson, in the transaction that completes it: the credit
 * held for it is spent, the student's loyalty count moves (and may earn credit), and referrals of
 * the student (first lesson of at least $80) and of the instructor (first lesson taught) qualify.
 * Idempotent per booking, so a capture retry may call it again.
 */
export async function afterLessonCompleted(
  trx: Transaction<DB>,
  input: {
    bookingId: string;
    studentId: string;
    instructorId: string;
    lessonPriceCents: number;
    now: Date;
    /** For follow-up jobs (none needed today: rewards wait for the 15-minute unlocker). */
    jobs?: Pick<JobQueue, 'send'>;
  },
): Promise<{ consumedCents: number; loyalty: LoyaltyOutcome; referrals: ReferralQualification[] }> {
  const { consumedCents } = await consumeReservedCredits(trx, { bookingId: input.bookingId, now: input.now });
  const loyalty = await awardLoyalty(trx, { bookingId: input.bookingId, studentId: input.studentId, now: input.now });
  const referrals = loyalty.replayed ? [] : await qualifyReferralsForLesson(trx, input);
  return { consumedCents, loyalty, referrals };
}
