import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import type { CancellationQuote } from '../booking/cancellation-quote.ts';
import { AppError } from '../shared/errors.ts';
import { findBookingPayment, updateBookingPayment } from './booking-payments.queries.ts';
import type { MoneyDeps } from './money-deps.ts';
import type { MoneyLock } from './money-lock.ts';
import type { MoneyActor } from './operations.ts';
import { authorizeAtFor } from './payment-schedule.ts';
import { advanceLocked, type AdvanceResult } from './settle-booking.ts';

/**
 * The money side of the booking use cases (cancel, reschedule), called inside their transaction,
 * and the settlement right after their commit. The booking module decides what happens to the
 * lesson; this records what must happen to the money and sends the job that finishes it if the
 * request cannot (provider down, process killed).
 */

/** How long after a change its backup job looks (the request itself normally settles first). */
const BACKUP_DELAY_MS = 60_000;

/**
 * A cancellation: the quote the person saw becomes the booking's settlement target (the runner
 * settles from exactly this quote, never a recomputed one).
 */
export async function recordCancellationForSettlement(
  trx: Transaction<DB>,
  bookingId: string,
  quote: CancellationQuote,
  deps: Pick<MoneyDeps, 'jobs'>,
  now: Date,
): Promise<boolean> {
  const payment = await findBookingPayment(trx, bookingId);
  if (!payment || payment.settledAt) return false;
  await updateBookingPayment(trx, bookingId, { settlementQuote: JSON.stringify(quote) }, now);
  await deps.jobs.send(trx, 'payments.settle-booking', { bookingId }, { startAfter: new Date(now.getTime() + BACKUP_DELAY_MS) });
  return true;
}

/**
 * A reschedule. t ≥ 24h: the authorization moves with the lesson (authorize_at = new start − 24h,
 * the job re-sent; an authorization already made is kept and renewed at the new T−24h if its
 * `capture_before` would not reach the new capture time). 12h ≤ t < 24h (LOCK): the payment is
 * captured now (authorized first if it was still scheduled), nothing is transferred; the backup
 * job makes sure the capture happens.
 */
export async function recordRescheduleForPayment(
  trx: Transaction<DB>,
  bookingId: string,
  input: { newStartsAt: Date; locked: boolean },
  deps: Pick<MoneyDeps, 'jobs'>,
  now: Date,
): Promise<{ settleNow: boolean }> {
  const payment = await findBookingPayment(trx, bookingId);
  if (!payment || payment.settledAt) return { settleNow: false };
  if (input.locked) {
    await updateBookingPayment(trx, bookingId, { nextCaptureAttemptAt: null }, now);
    await deps.jobs.send(trx, 'payments.settle-booking', { bookingId }, { startAfter: new Date(now.getTime() + BACKUP_DELAY_MS) });
    return { settleNow: true };
  }
  const authorizeAt = authorizeAtFor(input.newStartsAt);
  await updateBookingPayment(trx, bookingId, { authorizeAt }, now);
  await deps.jobs.send(trx, 'payments.authorize', { bookingId }, { startAfter: authorizeAt });
  return { settleNow: false };
}

/**
 * Runs the settlement right after a booking change committed, in the same request and under the
 * same money lock. Whatever goes wrong here (provider outage, a crash-like failure) does not undo
 * the change the person made: it is logged and the backup job (or the sweep) finishes the money
 * later, resuming any pending provider call under its key.
 */
export async function settleAfterChange(lock: MoneyLock, deps: MoneyDeps, actor: MoneyActor): Promise<AdvanceResult | null> {
  try {
    return await advanceLocked(lock, deps, { actor });
  } catch (error) {
    const expected = error instanceof AppError && error.code === 'unavailable';
    deps.logger?.[expected ? 'warn' : 'error'](
      { bookingId: lock.bookingId, err: { message: (error as Error).message } },
      'settlement deferred to its job',
    );
    return null;
  }
}
