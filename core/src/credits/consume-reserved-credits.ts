import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { insertBookingEvents } from '../booking/booking.queries.ts';
import {
  actorOf,
  finalStatus,
  heldCents,
  type LedgerActor,
  type LedgerEntry,
  lockHeldReservations,
  type ReservationRow,
  writeEntries,
} from './credit-ledger.ts';

/**
 * Spends whatever a booking still holds (lesson completed, or the consumed part of a penalty).
 * Idempotent: a second call finds nothing held and consumes 0.
 */
export async function consumeReservedCredits(
  trx: Transaction<DB>,
  input: { bookingId: string; now: Date; reason?: string; actor?: AuditContext },
): Promise<{ consumedCents: number }> {
  const { reservations } = await lockHeldReservations(trx, input.bookingId);
  const actor = actorOf(input.actor);
  const consumedCents = await consumeHeld(trx, reservations, {
    bookingId: input.bookingId,
    now: input.now,
    reason: input.reason ?? 'Spent on a completed lesson',
    actor,
  });
  if (consumedCents > 0) {
    await insertBookingEvents(trx, input.bookingId, [{ type: 'credits_consumed', data: { amountCents: consumedCents } }], actor, input.now);
    await recordAudit(trx, input.actor ?? SYSTEM_CONTEXT, {
      action: 'credits.consume',
      resourceType: 'booking',
      resourceId: input.bookingId,
      after: { consumedCents },
    });
  }
  return { consumedCents };
}

/** The shared consume step (lots already locked): spends everything the reservations still hold. */
export async function consumeHeld(
  trx: Transaction<DB>,
  reservations: ReservationRow[],
  options: { bookingId: string; now: Date; reason: string; actor: LedgerActor },
): Promise<number> {
  const entries: LedgerEntry[] = [];
  let consumedCents = 0;
  for (const reservation of reservations) {
    const held = heldCents(reservation);
    if (held <= 0) continue;
    consumedCents += held;
    entries.push({
      userId: reservation.userId,
      lotId: reservation.lotId,
      kind: 'consume',
      availableDeltaCents: 0,
      reservedDeltaCents: -held,
      bookingId: options.bookingId,
      reason: options.reason,
    });
    const consumedTotal = reservation.consumedCents + held;
    await trx
      .updateTable('creditReservations')
      .set({ consumedCents: consumedTotal, status: finalStatus(reservation.releasedCents, consumedTotal), updatedAt: options.now })
      .where('id', '=', reservation.id)
      .execute();
    reservation.consumedCents = consumedTotal;
  }
  await writeEntries(trx, entries, options.actor, options.now);
  return consumedCents;
}
