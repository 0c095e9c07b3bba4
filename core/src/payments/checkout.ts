/**
 * Checkout: how a held booking is paid for (issue 6 item 3, spec/payments.md §Authorization).
 *
 * THE FLOW (decided here, documented once):
 * 1. `POST /api/v1/bookings` holds the time as `pending_payment` for 15 minutes (booking module).
 * 2. `POST /api/v1/bookings/{id}/checkout` `{ paymentMethodId?, applyCredits = true }` with an
 *    Idempotency-Key, by the booking's student while the hold lasts. Under the booking's money
 *    lock, in ONE transaction:
 *    - the saved card: the one named (our id or the provider's), else the default, at the
 *      configured provider (none → 422, add a card first);
 *    - credits: `reserveCredits` up to LP (credits never cover SF; idempotent per booking);
 *    - `booking_payments` from the booking's snapshot: card amount = (LP − credits) + SF;
 *    - **t = start − now ≥ 24 h** → the booking is CONFIRMED now with payment `scheduled`,
 *      `authorize_at` = start − 24 h and a `payments.authorize` job sent with
 *      startAfter = authorize_at (the 5-minute authorization sweep catches a lost job). No money
 *      is touched at checkout: the saved card was verified when it was saved.
 *    - **t < 24 h** → authorize at checkout: the booking stays `pending_payment`, its hold is
 *      extended to checkout + 30 minutes, and the `authorize:{bookingId}:{n}` payment operation
 *      is written `pending` (plus a `payments.authorize` backup job a minute later, which resumes
 *      the same key if this process dies after the commit).
 * 3. t < 24 h, after the commit, still under the lock: the provider authorizes with that key.
 *    Success → `confirmed`, payment `authorized`. Decline → 402 `card_declined`; the booking stays
 *    `pending_payment` (payment `payment_method_required`) and the student may check out again
 *    with another card (a new Idempotency-Key; the next attempt number). A checkout that has not
 *    authorized when its 30 minutes end is cancelled by the hold-expiry job, and the settlement
 *    runner then releases the reserved credits (and any authorization that raced it).
 * 4. A confirmed lesson whose scheduled authorization failed (`payment_method_required`) is
 *    fixed the same way: checkout again with a card → authorized now, the retry ladder stops.
 * Repeating a checkout that already succeeded changes nothing and answers the current state.
 */
import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import type { AuditContext } from '../audit/record-audit.ts';
import type { Principal } from '../auth/principal.ts';
import { accessOf } from '../booking/booking-deps.ts';
import { relationTo } from '../booking/booking-change.ts';
import { selectVisibleBooking, updateBooking } from '../booking/booking.queries.ts';
import { reserveCredits } from '../credits/index.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { authorizeLocked } from './authorize.ts';
import {
  type BookingPaymentRow,
  findBookingPayment,
  findCustomerId,
  findPendingOperation,
  findUsablePaymentMethod,
  findUserContact,
  insertBookingPayment,
  insertPendingOperation,
  countOperations,
  updateBookingPayment,
} from './booking-payments.queries.ts';
import { idempotencyKey } from './idempotency-keys.ts';
import type { MoneyDeps } from './money-deps.ts';
import { withMoneyLock } from './money-lock.ts';
import { actorOf, recordMoneyChange } from './operations.ts';
import { AUTHORIZE_LEAD_MS, authorizeAtFor, CHECKOUT_AUTHORIZATION_MS } from './payment-schedule.ts';
import { loadMoneyState, providerPaymentMethodOf } from './payment-state.ts';

export interface CheckoutInput {
  /** A saved card: our payment method id or the provider's (`pm_…`); the default card otherwise. */
  paymentMethodId?: string | undefined;
  /** Spend the student's credit on the lesson price (default true). */
  applyCredits?: boolean | undefined;
}

export interface CheckoutResult {
  bookingId: string;
  /** What happened at this checkout. */
  outcome: 'scheduled' | 'authorized' | 'unchanged';
}

/** A backup for an authorization made at checkout: resumes the same key if this process dies. */
const CHECKOUT_BACKUP_DELAY_MS = 60_000;

/** Checks out a held (or payment-failed) booking: see the module comment for the whole flow. */
export async function checkoutBooking(
  db: Kysely<DB>,
  caller: AuditContext,
  bookingId: string,
  input: CheckoutInput,
  deps: MoneyDeps,
): Promise<CheckoutResult> {
  const studentId = await assertStudentOf(db, caller.principal, bookingId);
  const actor = actorOf(caller);
  return withMoneyLock(db, deps, bookingId, async (lock) => {
    const prepared = await lock.transaction((trx) => prepareCheckout(trx, caller, bookingId, studentId, input, deps));
    if (prepared.next === 'none') return { bookingId, outcome: prepared.outcome };
    const authorized = await authorizeLocked(lock, deps, { trigger: prepared.trigger, actor });
    if (authorized.status === 'failed') {
      throw new AppError(
        'card_declined',
        authorized.requiresAction
          ? 'Your bank needs you to confirm this card; use another card or confirm it with your bank, then check out again.'
          : `The card was declined (${authorized.message}). Check out again with another card.`,
        'paymentMethodId',
      );
    }
    return { bookingId, outcome: authorized.status === 'authorized' ? 'authorized' : 'unchanged' };
  });
}

async function assertStudentOf(db: Kysely<DB>, principal: Principal, bookingId: string): Promise<string> {
  const row = await selectVisibleBooking(db, bookingId, accessOf(principal));
  if (!row) throw notFound('Booking', 'id');
  if (relationTo(principal, row) !== 'student') throw new AppError('forbidden', 'Only the student who booked the lesson can pay for it.');
  return row.studentId;
}

type Prepared =
  { next: 'none'; outcome: 'scheduled' | 'unchanged' } | { next: 'authorize'; trigger: 'checkout' | 'card_updated' | 'recovery' };

async function prepareCheckout(
  trx: Transaction<DB>,
  caller: AuditContext,
  bookingId: string,
  studentId: string,
  input: CheckoutInput,
  deps: MoneyDeps,
): Promise<Prepared> {
  const now = deps.clock.now();
  const { booking, payment } = await loadMoneyState(trx, bookingId);
  const actor = actorOf(caller);
  const student = await findUserContact(trx, studentId);
  if (student?.status !== 'active') {
    // e.g. locked after a capture failed for good: no new charges until that is sorted out
    throw new AppError('forbidden', 'Your account cannot pay for lessons right now; please contact support.');
  }

  if (payment) {
    if (payment.provider !== deps.payments.name)
      throw new AppError('conflict', 'This booking was paid with another payment provider.', 'id');
    const pending = await findPendingOperation(trx, bookingId, 'authorize');
    if (pending) return { next: 'authorize', trigger: 'recovery' };
    const fixable =
      booking.paymentStatus === 'payment_method_required' && (booking.status === 'pending_payment' || booking.status === 'confirmed');
    if (!fixable) {
      if (booking.status === 'pending_payment' && holdExpired(booking.holdExpiresAt, now)) throw holdExpiredError();
      return { next: 'none', outcome: 'unchanged' };
    }
    if (booking.status === 'pending_payment' && holdExpired(booking.holdExpiresAt, now)) throw holdExpiredError();
    const card = await cardFor(trx, studentId, input, deps);
    await updateBookingPayment(trx, bookingId, { paymentMethodId: card.id, nextAuthAttemptAt: null }, now);
    await claimAuthorization(trx, bookingId, { ...payment, paymentMethodId: card.id }, deps, now, 'card_updated');
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: 'payment_method_updated',
      action: 'payment.checkout',
      data: { provider: deps.payments.name, offline: deps.payments.offline, card: { brand: card.brand, last4: card.last4 } },
      now,
    });
    return { next: 'authorize', trigger: 'card_updated' };
  }

  if (booking.status !== 'pending_payment') {
    throw new AppError('conflict', `This lesson is ${booking.status.replace('_', ' ')}; there is nothing to pay for.`, 'id');
  }
  if (holdExpired(booking.holdExpiresAt, now)) throw holdExpiredError();
  const card = await cardFor(trx, studentId, input, deps);
  const customerId = await findCustomerId(trx, studentId, deps.payments.name);
  if (!customerId) throw new AppError('validation_error', 'Save a card before checking out.', 'paymentMethodId');

  const { reservedCents } =
    input.applyCredits === false
      ? { reservedCents: 0 }
      : await reserveCredits(trx, { studentId, bookingId, maxCents: booking.lessonPriceCents, now, actor: caller });
  const cardAmountCents = booking.lessonPriceCents - reservedCents + booking.studentFeeCents;
  const scheduled = booking.startsAt.getTime() - now.getTime() >= AUTHORIZE_LEAD_MS;
  const authorizeAt = scheduled ? authorizeAtFor(booking.startsAt) : now;
  await insertBookingPayment(trx, {
    bookingId,
    provider: deps.payments.name,
    cardAmountCents,
    creditsAppliedCents: reservedCents,
    paymentMethodId: card.id,
    customerId,
    authorizeAt,
    createdAt: now,
    updatedAt: now,
  });
  const summary = {
    provider: deps.payments.name,
    offline: deps.payments.offline,
    lessonPriceCents: booking.lessonPriceCents,
    studentFeeCents: booking.studentFeeCents,
    creditsAppliedCents: reservedCents,
    cardAmountCents,
    authorizeAt: authorizeAt.toISOString(),
    card: { brand: card.brand, last4: card.last4 },
  };
  if (scheduled) {
    await updateBooking(trx, bookingId, {
      status: 'confirmed',
      confirmedAt: now,
      holdExpiresAt: null,
      paymentStatus: 'scheduled',
      updatedAt: now,
    });
    await deps.jobs.send(trx, 'payments.authorize', { bookingId }, { startAfter: authorizeAt });
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: 'checkout',
      action: 'payment.checkout',
      data: { ...summary, authorization: 'scheduled' },
      now,
    });
    await recordMoneyChange(trx, actor, {
      bookingId,
      event: 'confirmed',
      action: 'booking.confirm',
      data: { reason: 'checkout', paymentStatus: 'scheduled' },
      before: { status: 'pending_payment' },
      after: { status: 'confirmed' },
      now,
    });
    return { next: 'none', outcome: 'scheduled' };
  }
  // Less than 24 h away: authorize now; the hold lasts 30 minutes from checkout.
  const holdExpiresAt = new Date(now.getTime() + CHECKOUT_AUTHORIZATION_MS);
  await updateBooking(trx, bookingId, { holdExpiresAt, updatedAt: now });
  const inserted = await findBookingPayment(trx, bookingId);
  await claimAuthorization(trx, bookingId, inserted!, deps, now, 'checkout');
  await recordMoneyChange(trx, actor, {
    bookingId,
    event: 'checkout',
    action: 'payment.checkout',
    data: { ...summary, authorization: 'now', holdExpiresAt: holdExpiresAt.toISOString() },
    now,
  });
  return { next: 'authorize', trigger: 'checkout' };
}

/**
 * Writes the authorization's operation row `pending` in the checkout transaction (before the
 * call), and sends the backup job that would resume it under the same key.
 */
async function claimAuthorization(
  trx: Transaction<DB>,
  bookingId: string,
  payment: BookingPaymentRow,
  deps: MoneyDeps,
  now: Date,
  trigger: 'checkout' | 'card_updated',
): Promise<void> {
  const providerPaymentMethodId = await providerPaymentMethodOf(trx, payment);
  const attempt = (await countOperations(trx, bookingId, 'authorize')) + 1;
  await insertPendingOperation(trx, {
    bookingId,
    userId: null,
    provider: deps.payments.name,
    purpose: 'authorize',
    idempotencyKey: idempotencyKey('authorize', bookingId, attempt),
    attempt,
    amountCents: payment.cardAmountCents,
    // the same shape authorizeLocked records, so the resumed call repeats exactly this request
    request: { amountCents: payment.cardAmountCents, customerId: payment.customerId ?? '', providerPaymentMethodId, trigger },
    now,
  });
  await updateBookingPayment(trx, bookingId, { authAttempts: attempt }, now);
  await deps.jobs.send(trx, 'payments.authorize', { bookingId }, { startAfter: new Date(now.getTime() + CHECKOUT_BACKUP_DELAY_MS) });
}

async function cardFor(trx: Transaction<DB>, studentId: string, input: CheckoutInput, deps: MoneyDeps) {
  const card = await findUsablePaymentMethod(trx, {
    userId: studentId,
    provider: deps.payments.name,
    paymentMethodId: input.paymentMethodId,
  });
  if (!card) {
    throw new AppError(
      'validation_error',
      input.paymentMethodId ? 'That card is not one of your saved cards.' : 'Save a card before checking out.',
      'paymentMethodId',
    );
  }
  return card;
}

function holdExpired(holdExpiresAt: Date | null, now: Date): boolean {
  return holdExpiresAt !== null && holdExpiresAt.getTime() <= now.getTime();
}

function holdExpiredError(): AppError {
  return new AppError('conflict', 'This booking’s hold expired before payment; book the lesson again.', 'id');
}
