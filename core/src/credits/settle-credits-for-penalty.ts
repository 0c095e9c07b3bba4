import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { insertBookingEvents } from '../booking/booking.queries.ts';
import { AppError } from '../shared/errors.ts';
import { creditExpiryFrom } from './credit-config.ts';
import { actorOf, assertCents, dollars, findBookingStudent, lockHeldReservations } from './credit-ledger.ts';
import { consumeHeld } from './consume-reserved-credits.ts';
import { issueCredit } from './issue-credit.ts';
import { releaseHeld } from './release-reserved-credits.ts';

export interface PenaltySettlement {
  releasedCents: number;
  issuedCents: number;
  consumedCents: number;
  /** True when the booking was already settled and this call changed nothing. */
  replayed: boolean;
}

/**
 * The credit side of a penalty cancellation (payments.md §Credits): the student's credit target
 * is LP (12–24 h, locked ≥ 12 h) or 50% of LP (< 12 h). Release min(reserved, target) of the
 * booking's held credit (keeping its expiry), consume the rest of the reservation, and issue
 * target − released as new credit expiring in one year.
 *
 * Idempotent per booking: the settlement is written on the booking's timeline, and a repeat (with
 * nothing held any more) returns that first outcome.
 */
export async function settleCreditsForPenalty(
  trx: Transaction<DB>,
  input: { bookingId: string; studentId: string; targetCents: number; now: Date; actor?: AuditContext },
): Promise<PenaltySettlement> {
  assertCents(input.targetCents, 'targetCents');
  const owner = await findBookingStudent(trx, input.bookingId);
  if (owner !== input.studentId) throw new AppError('validation_error', 'The booking does not belong to this student.', 'bookingId');

  const { reservations, lots } = await lockHeldReservations(trx, input.bookingId);
  if (reservations.length === 0) {
    const previous = await previousSettlement(trx, input.bookingId);
    if (previous) return { ...previous, replayed: true };
  }
  const actor = actorOf(input.actor);
  const reservedCents = reservations.reduce((sum, row) => sum + row.amountCents - row.releasedCents - row.consumedCents, 0);
  const toRelease = Math.min(reservedCents, input.targetCents);
  const released = await releaseHeld(trx, reservations, lots, {
    bookingId: input.bookingId,
    now: input.now,
    limitCents: toRelease,
    reason: 'Returned as credit on cancellation',
    actor,
  });
  const consumedCents = await consumeHeld(trx, reservations, {
    bookingId: input.bookingId,
    now: input.now,
    reason: 'Kept under the cancellation policy',
    actor,
  });
  const issuedCents = input.targetCents - released.releasedCents;
  if (issuedCents > 0) {
    await issueCredit(trx, {
      userId: input.studentId,
      amountCents: issuedCents,
      source: 'cancellation',
      bookingId: input.bookingId,
      expiresAt: creditExpiryFrom(input.now),
      reason: `Credit for a cancelled lesson (${dollars(input.targetCents)} under the cancellation policy)`,
      now: input.now,
      ...(input.actor ? { actor: input.actor } : {}),
    });
  }
  const outcome = { releasedCents: released.releasedCents, issuedCents, consumedCents };
  await insertBookingEvents(
    trx,
    input.bookingId,
    [{ type: 'credits_settled', data: { ...outcome, targetCents: input.targetCents } }],
    actor,
    input.now,
  );
  await recordAudit(trx, input.actor ?? SYSTEM_CONTEXT, {
    action: 'credits.settle_penalty',
    resourceType: 'booking',
    resourceId: input.bookingId,
    after: { ...outcome, targetCents: input.targetCents, expiredOnRelease: released.expiredCents, revokedOnRelease: released.revokedCents },
  });
  return { ...outcome, replayed: false };
}

/** The outcome of an earlier settlement of this booking (its timeline event), if there was one. */
async function previousSettlement(trx: Transaction<DB>, bookingId: string): Promise<Omit<PenaltySettlement, 'replayed'> | undefined> {
  const event = await trx
    .selectFrom('bookingEvents')
    .select('data')
    .where('bookingId', '=', bookingId)
    .where('type', '=', 'credits_settled')
    .orderBy('at', 'desc')
    .executeTakeFirst();
  if (!event) return undefined;
  const data = event.data as { releasedCents?: number; issuedCents?: number; consumedCents?: number };
  return { releasedCents: data.releasedCents ?? 0, issuedCents: data.issuedCents ?? 0, consumedCents: data.consumedCents ?? 0 };
}
