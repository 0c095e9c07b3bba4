import { type DB, newId } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { insertBookingEvents } from '../booking/booking.queries.ts';
import { AppError, notFound } from '../shared/errors.ts';
import {
  actorOf,
  assertCents,
  byExpiry,
  findBookingStudent,
  type LedgerEntry,
  lockSpendableLots,
  selectReservations,
  writeEntries,
} from './credit-ledger.ts';

export interface ReserveCreditsInput {
  studentId: string;
  bookingId: string;
  /** The most credit may pay: the lesson price (credits never cover the student fee). */
  maxCents: number;
  now: Date;
  actor?: AuditContext;
}

/**
 * Holds up to `maxCents` of the student's credit for a booking at checkout, oldest expiry first.
 * The student's spendable lots are locked (`for update`, id order) before anything is read, so
 * concurrent checkouts against one balance queue up and together never hold more than it (R8).
 *
 * Idempotent per booking: once a booking has a reservation, any later call returns it unchanged
 * (`replayed: true`), whatever `maxCents` says. A request for more than the balance reserves what
 * there is; a student with no credit gets 0.
 */
export async function reserveCredits(
  trx: Transaction<DB>,
  input: ReserveCreditsInput,
): Promise<{ reservedCents: number; replayed: boolean }> {
  assertCents(input.maxCents, 'maxCents');
  const owner = await findBookingStudent(trx, input.bookingId);
  if (owner === undefined) throw notFound('Booking', 'bookingId');
  if (owner !== input.studentId) throw new AppError('validation_error', 'Credits can only pay for the student’s own booking.', 'bookingId');

  // Locks first, then the idempotency check: a concurrent first reservation of this booking has
  // committed (or rolled back) by the time the locks are ours, so its rows are visible here.
  const lots = await lockSpendableLots(trx, input.studentId, input.now);
  const existing = await selectReservations(trx, input.bookingId);
  if (existing.length > 0) {
    return { reservedCents: existing.reduce((sum, row) => sum + row.amountCents, 0), replayed: true };
  }

  let remaining = input.maxCents;
  const allocations: Array<{ lotId: string; amountCents: number; expiresAt: Date }> = [];
  for (const lot of [...lots].sort(byExpiry)) {
    if (remaining === 0) break;
    const take = Math.min(lot.availableCents, remaining);
    if (take <= 0) continue;
    allocations.push({ lotId: lot.id, amountCents: take, expiresAt: lot.expiresAt });
    remaining -= take;
  }
  const reservedCents = input.maxCents - remaining;
  if (allocations.length === 0) return { reservedCents: 0, replayed: false };

  await trx
    .insertInto('creditReservations')
    .values(
      allocations.map((allocation) => ({
        id: newId(),
        bookingId: input.bookingId,
        lotId: allocation.lotId,
        userId: input.studentId,
        amountCents: allocation.amountCents,
        status: 'held',
        createdAt: input.now,
        updatedAt: input.now,
      })),
    )
    .execute();
  const entries: LedgerEntry[] = allocations.map((allocation) => ({
    userId: input.studentId,
    lotId: allocation.lotId,
    kind: 'reserve',
    availableDeltaCents: -allocation.amountCents,
    reservedDeltaCents: allocation.amountCents,
    bookingId: input.bookingId,
    reason: 'Held for a lesson at checkout',
  }));
  const actor = actorOf(input.actor);
  await writeEntries(trx, entries, actor, input.now);
  await insertBookingEvents(trx, input.bookingId, [{ type: 'credits_reserved', data: { amountCents: reservedCents } }], actor, input.now);
  await recordAudit(trx, input.actor ?? SYSTEM_CONTEXT, {
    action: 'credits.reserve',
    resourceType: 'booking',
    resourceId: input.bookingId,
    after: {
      studentId: input.studentId,
      reservedCents,
      requestedCents: input.maxCents,
      lots: allocations.map((a) => ({ lotId: a.lotId, amountCents: a.amountCents })),
    },
  });
  return { reservedCents, replayed: false };
}
