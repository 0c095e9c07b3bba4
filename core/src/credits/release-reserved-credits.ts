import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { insertBookingEvents } from '../booking/booking.queries.ts';
import {
  actorOf,
  assertCents,
  finalStatus,
  heldCents,
  type LedgerActor,
  type LedgerEntry,
  type LotRow,
  lockHeldReservations,
  type ReservationRow,
  writeEntries,
} from './credit-ledger.ts';

export interface ReleaseResult {
  /** Moved from reserved back to the student's available credit. */
  releasedCents: number;
  /** Of that, what expired at once because its lot's original expiry had already passed. */
  expiredCents: number;
  /** Of that, what was withdrawn at once because its lot was revoked while reserved. */
  revokedCents: number;
}

/**
 * Releases a booking's held credit back to the student: all of it, or at most `amountCents`
 * (a partial release; what is not released stays held for the caller to consume or release).
 * Released credit keeps its lot's original expiry; credit whose expiry passed while it was held
 * (reserved credit does not expire) expires right away, and credit of a lot revoked meanwhile
 * (a refunded loyalty lesson) is withdrawn right away. A partial release gives back the credit
 * that lives longest first. Idempotent: nothing held, nothing released.
 */
export async function releaseReservedCredits(
  trx: Transaction<DB>,
  input: { bookingId: string; now: Date; amountCents?: number; reason?: string; actor?: AuditContext },
): Promise<ReleaseResult> {
  if (input.amountCents !== undefined) assertCents(input.amountCents, 'amountCents');
  const { reservations, lots } = await lockHeldReservations(trx, input.bookingId);
  const actor = actorOf(input.actor);
  const result = await releaseHeld(trx, reservations, lots, {
    bookingId: input.bookingId,
    now: input.now,
    limitCents: input.amountCents ?? Number.MAX_SAFE_INTEGER,
    reason: input.reason ?? 'Released: the lesson will not take place',
    actor,
  });
  if (result.releasedCents > 0) {
    await insertBookingEvents(trx, input.bookingId, [{ type: 'credits_released', data: { ...result } }], actor, input.now);
    await recordAudit(trx, input.actor ?? SYSTEM_CONTEXT, {
      action: 'credits.release',
      resourceType: 'booking',
      resourceId: input.bookingId,
      after: { ...result },
      reason: input.reason ?? null,
    });
  }
  return result;
}

/**
 * The shared release step (lots already locked): releases up to `limitCents`, longest-lived lot
 * first, and marks each reservation it empties. Used by release and by penalty settlement.
 */
export async function releaseHeld(
  trx: Transaction<DB>,
  reservations: ReservationRow[],
  lots: Map<string, LotRow>,
  options: { bookingId: string; now: Date; limitCents: number; reason: string; actor: LedgerActor },
): Promise<ReleaseResult> {
  const ordered = [...reservations].sort((a, b) => {
    const lotA = lots.get(a.lotId);
    const lotB = lots.get(b.lotId);
    return (lotB?.expiresAt.getTime() ?? 0) - (lotA?.expiresAt.getTime() ?? 0) || (a.lotId < b.lotId ? 1 : -1);
  });
  let remaining = options.limitCents;
  const entries: LedgerEntry[] = [];
  let releasedCents = 0;
  let expiredCents = 0;
  let revokedCents = 0;
  for (const reservation of ordered) {
    const lot = lots.get(reservation.lotId);
    const held = heldCents(reservation);
    const release = Math.min(held, remaining);
    if (!lot || release <= 0) continue;
    remaining -= release;
    releasedCents += release;
    const base = { userId: reservation.userId, lotId: lot.id, bookingId: options.bookingId };
    entries.push({ ...base, kind: 'release', availableDeltaCents: release, reservedDeltaCents: -release, reason: options.reason });
    if (lot.revokedAt) {
      revokedCents += release;
      entries.push({
        ...base,
        kind: 'revoke',
        availableDeltaCents: -release,
        reservedDeltaCents: 0,
        reason: `Withdrawn on release: ${lot.revokedReason ?? 'the credit was revoked'}`,
      });
    } else if (lot.expiresAt.getTime() <= options.now.getTime()) {
      expiredCents += release;
      entries.push({
        ...base,
        kind: 'expire',
        availableDeltaCents: -release,
        reservedDeltaCents: 0,
        reason: 'Expired: released after its expiry date',
      });
    }
    const releasedTotal = reservation.releasedCents + release;
    const stillHeld = held - release;
    await trx
      .updateTable('creditReservations')
      .set({
        releasedCents: releasedTotal,
        status: stillHeld > 0 ? 'held' : finalStatus(releasedTotal, reservation.consumedCents),
        updatedAt: options.now,
      })
      .where('id', '=', reservation.id)
      .execute();
    reservation.releasedCents = releasedTotal;
  }
  await writeEntries(trx, entries, options.actor, options.now);
  return { releasedCents, expiredCents, revokedCents };
}
