import { type DB, newId } from '@instainstru/db';
import { sql, type Transaction } from 'kysely';
import { recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { creditExpiryFrom, loyaltyAwardCents } from './credit-config.ts';
import { dollars } from './credit-ledger.ts';
import { revokeCreditLot } from './revoke-lot.ts';
import { issueCredit } from './issue-credit.ts';

export interface LoyaltyOutcome {
  /** The lesson's position among the student's completed lessons (1-based). */
  lessonNumber: number;
  /** The credit it earned (0 for most lessons). */
  awardedCents: number;
  lotId: string | null;
  /** True when this booking was counted before (nothing changed). */
  replayed: boolean;
}

/**
 * Counts a completed lesson toward the student's loyalty and grants the credit it earns:
 * lesson n earns $10 when n mod 11 = 5 and $20 when n mod 11 = 0 (lessons 5, 11, 16, 22…).
 * Each booking is counted once, in the order completions commit; positions never move, so a
 * later refund does not renumber anything (it revokes that lesson's award instead).
 */
export async function awardLoyalty(
  trx: Transaction<DB>,
  input: { bookingId: string; studentId: string; now: Date },
): Promise<LoyaltyOutcome> {
  // One count per student at a time: two completions committing together must get different numbers.
  await sql`select pg_advisory_xact_lock(hashtextextended(${`loyalty:${input.studentId}`}, 0))`.execute(trx);
  const counted = await trx.selectFrom('loyaltyLessons').select('lessonNumber').where('bookingId', '=', input.bookingId).executeTakeFirst();
  if (counted) {
    const award = await trx
      .selectFrom('loyaltyAwards')
      .select(['amountCents', 'lotId'])
      .where('bookingId', '=', input.bookingId)
      .executeTakeFirst();
    return { lessonNumber: counted.lessonNumber, awardedCents: award?.amountCents ?? 0, lotId: award?.lotId ?? null, replayed: true };
  }
  const last = await trx
    .selectFrom('loyaltyLessons')
    .select(sql<number>`coalesce(max(lesson_number), 0)::int`.as('n'))
    .where('studentId', '=', input.studentId)
    .executeTakeFirstOrThrow();
  const lessonNumber = last.n + 1;
  await trx
    .insertInto('loyaltyLessons')
    .values({ bookingId: input.bookingId, studentId: input.studentId, lessonNumber, countedAt: input.now })
    .execute();
  const awardedCents = loyaltyAwardCents(lessonNumber);
  if (awardedCents === 0) return { lessonNumber, awardedCents, lotId: null, replayed: false };
  const { lotId } = await issueCredit(trx, {
    userId: input.studentId,
    amountCents: awardedCents,
    source: 'loyalty',
    bookingId: input.bookingId,
    expiresAt: creditExpiryFrom(input.now),
    reason: `Loyalty credit for your lesson #${lessonNumber}`,
    now: input.now,
  });
  await trx
    .insertInto('loyaltyAwards')
    .values({
      id: newId(),
      studentId: input.studentId,
      bookingId: input.bookingId,
      lessonNumber,
      amountCents: awardedCents,
      lotId,
      createdAt: input.now,
    })
    .execute();
  return { lessonNumber, awardedCents, lotId, replayed: false };
}

export interface LoyaltyRevocation {
  /** Unspent credit withdrawn now. */
  revokedCents: number;
  /** Held for a booking: withdrawn when released, or spent if that lesson happens. */
  stillReservedCents: number;
  /** Already spent on lessons: not clawed back (a balance never goes negative). */
  unrecoveredCents: number;
}

/**
 * Revokes the loyalty credit a refunded lesson earned. What is unspent is withdrawn; what is held
 * for another booking is marked (the lot is revoked, so a release withdraws it); what was already
 * spent stays spent — the award records it as unrecovered for staff, and no balance goes negative.
 */
export async function revokeLoyaltyForBooking(
  trx: Transaction<DB>,
  input: { bookingId: string; now: Date; reason: string },
): Promise<LoyaltyRevocation | null> {
  const award = await trx.selectFrom('loyaltyAwards').selectAll().where('bookingId', '=', input.bookingId).executeTakeFirst();
  if (!award || award.status === 'revoked') return null;
  const revocation = await revokeCreditLot(trx, { lotId: award.lotId, bookingId: input.bookingId, now: input.now, reason: input.reason });
  if (!revocation) return null;
  const { revokedCents, stillReservedCents, unrecoveredCents } = revocation;
  await trx
    .updateTable('loyaltyAwards')
    .set({ status: 'revoked', revokedAt: input.now, revokedCents, unrecoveredCents })
    .where('id', '=', award.id)
    .execute();
  await recordAudit(trx, SYSTEM_CONTEXT, {
    action: 'credits.loyalty_revoke',
    resourceType: 'booking',
    resourceId: input.bookingId,
    after: { awardId: award.id, lotId: award.lotId, revokedCents, stillReservedCents, unrecoveredCents },
    reason: `${input.reason} (${dollars(award.amountCents)} loyalty credit of lesson #${award.lessonNumber})`,
  });
  return { revokedCents, stillReservedCents, unrecoveredCents };
}
