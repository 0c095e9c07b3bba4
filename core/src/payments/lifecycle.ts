import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { updateBooking } from '../booking/booking.queries.ts';
import { authorizeLocked } from './authorize.ts';
import {
  findBookingsToAdvance,
  findDueAuthorizations,
  findFailedAuthorizations,
  findPendingOperation,
  findStalledCheckoutAuthorizations,
  updateBookingPayment,
} from './booking-payments.queries.ts';
import type { MoneyDeps } from './money-deps.ts';
import { type MoneyLock, withMoneyLock } from './money-lock.ts';
import { recordMoneyChange, SYSTEM_ACTOR } from './operations.ts';
import { queuePaymentEmail } from './payment-emails.ts';
import { authorizationCovers, failedAuthorizationStep, PAYMENT_CANCEL_LEAD_MS } from './payment-schedule.ts';
import { captureTimeOf, loadMoneyState } from './payment-state.ts';
import { advanceBookingPayment, advanceLocked, PAYMENT_FAILED_REASON } from './settle-booking.ts';

/**
 * The scheduled side of the payment lifecycle: what the per-booking jobs and the sweeps call.
 * Each function re-reads the booking under its money lock and does only what is due at
 * `deps.clock.now()`, so a late, duplicated or retried job is harmless.
 */

// (a type, not an interface: job outputs must be plain JSON objects)
export type SweepResult = {
  processed: number;
  failed: number;
  /** A few failures, for the job's output (the full story is in the logs and the timelines). */
  errors: Array<{ bookingId: string; error: string }>;
  outcomes: Record<string, number>;
};

/** Bookings one sweep works on at once: provider round trips dominate, and each booking has its own lock. */
const SWEEP_CONCURRENCY = 4;

async function sweep(ids: string[], deps: MoneyDeps, work: (bookingId: string) => Promise<string>): Promise<SweepResult> {
  const result: SweepResult = { processed: 0, failed: 0, errors: [], outcomes: {} };
  // A few bookings at a time (one at a time made 1,000 lessons ending together take hours to pay
  // out); a refused lock or a provider outage skips that booking until the next run.
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const bookingId = ids[next] as string;
      next += 1;
      try {
        const outcome = await work(bookingId);
        result.processed += 1;
        result.outcomes[outcome] = (result.outcomes[outcome] ?? 0) + 1;
      } catch (error) {
        result.failed += 1;
        if (result.errors.length < 20) result.errors.push({ bookingId, error: (error as Error).message });
        deps.logger?.warn({ bookingId, err: { message: (error as Error).message } }, 'payment sweep: booking skipped until the next run');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, ids.length) }, lane));
  return result;
}

/**
 * The per-booking authorization job (`payments.authorize`): resumes a checkout's pending call,
 * or authorizes at T−24h. Returns `not_due` with the due time when the job ran early (the lesson
 * was moved later): the caller re-sends it for then.
 */
export async function runAuthorizationJob(
  db: Kysely<DB>,
  deps: MoneyDeps,
  bookingId: string,
): Promise<{ outcome: string; authorizeAt?: string }> {
  return withMoneyLock(db, deps, bookingId, async (lock) => {
    const { booking, payment } = await lock.transaction((trx) => loadMoneyState(trx, bookingId));
    if (!payment) return { outcome: 'no_payment' };
    const pending = await lock.transaction((trx) => findPendingOperation(trx, bookingId, 'authorize'));
    if (pending) return { outcome: `resumed:${(await authorizeLocked(lock, deps, { trigger: 'recovery' })).status}` };
    if (booking.status !== 'confirmed' || payment.settledAt || payment.capturedAt) return { outcome: `nothing_to_do:${booking.status}` };
    if (booking.paymentStatus !== 'scheduled' && booking.paymentStatus !== 'authorized')
      return { outcome: `not_scheduled:${booking.paymentStatus}` };
    const now = deps.clock.now();
    if (payment.authorizeAt.getTime() > now.getTime()) return { outcome: 'not_due', authorizeAt: payment.authorizeAt.toISOString() };
    if (authorizationCovers({ authorizedAt: payment.authorizedAt, expiresAt: payment.authorizationExpiresAt }, captureTimeOf(booking))) {
      return { outcome: 'already_authorized' };
    }
    const trigger = payment.authorizedAt ? 'reauthorize' : 'scheduled';
    return { outcome: (await authorizeLocked(lock, deps, { trigger })).status };
  });
}

/**
 * `payments.authorization-sweep` (every 5 minutes): authorizations due at T−24h that no job
 * made, renewals of authorizations that would lapse before the capture (`capture_before` read
 * from the provider), and checkout calls a crash left pending.
 */
export async function runAuthorizationSweep(db: Kysely<DB>, deps: MoneyDeps): Promise<SweepResult & { stalled: SweepResult }> {
  const now = deps.clock.now();
  const due = await findDueAuthorizations(db, now);
  const result = await sweep(due, deps, async (bookingId) => (await runAuthorizationJob(db, deps, bookingId)).outcome);
  const stalled = await findStalledCheckoutAuthorizations(db, new Date(now.getTime() - 2 * 60_000));
  const resumed = await sweep(
    stalled,
    deps,
    async (bookingId) => (await advanceBookingPayment(db, deps, bookingId)).steps.join(',') || 'none',
  );
  return { ...result, stalled: resumed };
}

/**
 * `payments.authorization-retry` (every 15 minutes), for confirmed lessons whose authorization
 * failed: retry on the ladder (+1h, +4h, +8h, then every 8h after the first failure), the final
 * warning e-mail at T−13h, and the cancellation without penalty at T−12h.
 */
export async function runAuthorizationRetrySweep(db: Kysely<DB>, deps: MoneyDeps): Promise<SweepResult> {
  const ids = await findFailedAuthorizations(db);
  return sweep(ids, deps, (bookingId) => withMoneyLock(db, deps, bookingId, (lock) => handleFailedAuthorization(lock, deps)));
}

async function handleFailedAuthorization(lock: MoneyLock, deps: MoneyDeps): Promise<string> {
  const bookingId = lock.bookingId;
  const load = () => lock.transaction((trx) => loadMoneyState(trx, bookingId));
  const { booking, payment } = await load();
  if (!payment || booking.status !== 'confirmed' || booking.paymentStatus !== 'payment_method_required') return 'not_failing';
  const now = deps.clock.now();
  const step = failedAuthorizationStep({
    startsAt: booking.startsAt,
    now,
    nextAttemptAt: payment.nextAuthAttemptAt,
    finalWarningSentAt: payment.finalWarningSentAt,
  });
  if (step === 'cancel') {
    await cancelForFailedPayment(lock, deps);
    const settled = await advanceLocked(lock, deps);
    return `cancelled${settled.steps.length > 0 ? `:${settled.steps.join(',')}` : ''}`;
  }
  let outcome: string = step;
  if (step === 'retry') {
    const retried = await authorizeLocked(lock, deps, { trigger: 'retry' });
    outcome = `retry:${retried.status}`;
    if (retried.status === 'authorized') return outcome;
  }
  const after = await load();
  const warn = failedAuthorizationStep({
    startsAt: after.booking.startsAt,
    now,
    nextAttemptAt: null,
    finalWarningSentAt: after.payment?.finalWarningSentAt ?? null,
  });
  if (warn === 'final_warning') {
    await sendFinalWarning(lock, deps);
    outcome = `${outcome === 'final_warning' ? '' : `${outcome},`}final_warning`;
  }
  return outcome;
}

async function sendFinalWarning(lock: MoneyLock, deps: MoneyDeps): Promise<void> {
  await lock.transaction(async (trx) => {
    const now = deps.clock.now();
    const { booking, payment } = await loadMoneyState(trx, lock.bookingId);
    if (!payment || payment.finalWarningSentAt) return;
    const cancelAt = new Date(booking.startsAt.getTime() - PAYMENT_CANCEL_LEAD_MS);
    await queuePaymentEmail(
      trx,
      'payment_final_warning',
      booking,
      { amountCents: payment.cardAmountCents, cancelsAt: cancelAt.toISOString(), reason: payment.lastFailureMessage },
      now,
    );
    await updateBookingPayment(trx, lock.bookingId, { finalWarningSentAt: now }, now);
    await recordMoneyChange(trx, SYSTEM_ACTOR, {
      bookingId: lock.bookingId,
      event: 'payment_final_warning',
      action: 'payment.final_warning',
      data: { cancelsAt: cancelAt.toISOString() },
      now,
    });
  });
}

/** T−12h and the card never authorized: cancel without penalty (the settlement releases credits). */
async function cancelForFailedPayment(lock: MoneyLock, deps: MoneyDeps): Promise<void> {
  await lock.transaction(async (trx) => {
    const now = deps.clock.now();
    const { booking, payment } = await loadMoneyState(trx, lock.bookingId);
    if (!payment || booking.status !== 'confirmed') return;
    await updateBooking(trx, lock.bookingId, {
      status: 'cancelled',
      cancelledAt: now,
      cancelledBy: 'system',
      cancellationReason: PAYMENT_FAILED_REASON,
      updatedAt: now,
    });
    await queuePaymentEmail(trx, 'booking_cancelled_payment_failed', booking, { reason: payment.lastFailureMessage }, now);
    await recordMoneyChange(trx, SYSTEM_ACTOR, {
      bookingId: lock.bookingId,
      event: 'cancelled',
      action: 'booking.cancel',
      data: { by: 'system', reason: PAYMENT_FAILED_REASON, penalty: false },
      before: { status: booking.status, paymentStatus: booking.paymentStatus },
      after: { status: 'cancelled', cancelledBy: 'system' },
      now,
    });
  });
}

/**
 * `payments.capture-sweep` (every 15 minutes): captures lessons past end + 24h (auto-completing
 * them), retries failed captures, captures LOCKed bookings, settles cancellations and expired
 * checkouts, confirms undisputed no-shows and refunds them, and pays owed instructor payouts.
 */
export async function runCaptureSweep(db: Kysely<DB>, deps: MoneyDeps): Promise<SweepResult> {
  const ids = await findBookingsToAdvance(db, deps.clock.now());
  return sweep(ids, deps, async (bookingId) => (await advanceBookingPayment(db, deps, bookingId)).steps.join(',') || 'none');
}
