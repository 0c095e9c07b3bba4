import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import type { Principal } from '../auth/principal.ts';
import { recordCancellationForSettlement, settleAfterChange } from '../payments/booking-money.ts';
import type { MoneyDeps } from '../payments/money-deps.ts';
import { withMoneyLock } from '../payments/money-lock.ts';
import { actorOf } from '../payments/operations.ts';
import type { AdvanceResult } from '../payments/settle-booking.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import { type BookingCaller, eventActor } from './booking-deps.ts';
import { changeBooking, type Relation, relationTo, staffMay } from './booking-change.ts';
import { type CancellationActor, type CancellationQuote, cancellationQuote } from './cancellation-quote.ts';
import { getBookingRow } from './get-booking.ts';
import { insertBookingEvents, updateBooking } from './booking.queries.ts';

/** Staff cancel on the platform's account (full refund); the parties cancel under the table. */
function quoteActor(relation: Relation): CancellationActor {
  return relation === 'staff' ? 'platform' : relation;
}

function mayCancel(principal: Principal, relation: Relation): boolean {
  return relation === 'staff'
    ? staffMay(principal, 'bookings:cancel:any')
    : staffMay(principal, 'bookings:cancel:own') || staffMay(principal, 'bookings:cancel:any');
}

/** What cancelling now would do, for the confirmation screen: the same function the cancellation runs. */
export async function getCancellationQuote(
  db: Kysely<DB>,
  principal: Principal,
  id: string,
  deps: { clock: Clock },
): Promise<CancellationQuote> {
  const row = await getBookingRow(db, principal, id);
  const relation = relationTo(principal, row);
  if (!mayCancel(principal, relation)) throw new AppError('forbidden', 'You cannot cancel this booking.');
  return cancellationQuote(row, deps.clock.now(), quoteActor(relation));
}

/**
 * Cancels a booking under the cancellation table and records the quote it applied on the
 * booking's timeline and as the payment's settlement target; then, under the same money lock,
 * the money moves from that same quote (release, capture and credit, split payout, or full
 * refund — payments/settle-booking.ts). A provider outage leaves the settlement to its job.
 */
export async function cancelBooking(
  db: Kysely<DB>,
  caller: BookingCaller,
  id: string,
  input: { reason?: string | undefined },
  deps: MoneyDeps,
): Promise<{ bookingId: string; instructorId: string; quote: CancellationQuote; settlement: AdvanceResult | null }> {
  return withMoneyLock(db, deps, id, async (lock) => {
    const cancelled = await cancelUnderLock(db, caller, id, input, deps);
    const settlement = cancelled.hasPayment ? await settleAfterChange(lock, deps, actorOf(caller)) : null;
    return { bookingId: cancelled.bookingId, instructorId: cancelled.instructorId, quote: cancelled.quote, settlement };
  });
}

async function cancelUnderLock(
  db: Kysely<DB>,
  caller: BookingCaller,
  id: string,
  input: { reason?: string | undefined },
  deps: MoneyDeps,
): Promise<{ bookingId: string; instructorId: string; quote: CancellationQuote; hasPayment: boolean }> {
  const { principal } = caller;
  return changeBooking(
    db,
    principal,
    id,
    (relation) => mayCancel(principal, relation),
    async (trx, row, relation) => {
      const now = deps.clock.now();
      const quote = cancellationQuote(row, now, quoteActor(relation));
      if (quote.outcome === 'not_cancellable') throw new AppError('conflict', quote.wording, 'id');
      const cancelledBy = relation === 'staff' ? 'admin' : relation;
      await updateBooking(trx, id, {
        status: 'cancelled',
        cancelledAt: now,
        cancelledBy,
        cancellationReason: input.reason ?? null,
        updatedAt: now,
      });
      await insertBookingEvents(
        trx,
        id,
        [{ type: 'cancelled', data: { by: cancelledBy, reason: input.reason ?? null, quote } }],
        eventActor(principal),
        now,
      );
      await recordAudit(trx, caller, {
        action: 'booking.cancel',
        resourceType: 'booking',
        resourceId: id,
        before: { status: row.status, paymentStatus: row.paymentStatus },
        after: { status: 'cancelled', cancelledBy },
        reason: input.reason ?? null,
        metadata: { quote },
      });
      const hasPayment = await recordCancellationForSettlement(trx, id, quote, deps, now);
      return { bookingId: id, instructorId: row.instructorId, quote, hasPayment };
    },
  );
}
