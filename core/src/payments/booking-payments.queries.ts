import { type BookingPayments, type DB, type JsonValue, newId, type PaymentOperations } from '@instainstru/db';
import { type Insertable, type Kysely, type Selectable, sql, type Transaction, type Updateable } from 'kysely';

/** Every SQL statement about a booking's money: booking_payments, payment_operations and what they point to. */

type Executor = Kysely<DB> | Transaction<DB>;
export type BookingPaymentRow = Selectable<BookingPayments>;
export type PaymentOperationRow = Selectable<PaymentOperations>;

export async function findBookingPayment(db: Executor, bookingId: string): Promise<BookingPaymentRow | undefined> {
  return db.selectFrom('bookingPayments').selectAll().where('bookingId', '=', bookingId).executeTakeFirst();
}

export async function insertBookingPayment(trx: Transaction<DB>, values: Insertable<BookingPayments>): Promise<void> {
  await trx.insertInto('bookingPayments').values(values).execute();
}

export async function updateBookingPayment(
  trx: Transaction<DB>,
  bookingId: string,
  patch: Updateable<BookingPayments>,
  now: Date,
): Promise<void> {
  await trx
    .updateTable('bookingPayments')
    .set({ ...patch, updatedAt: now })
    .where('bookingId', '=', bookingId)
    .execute();
}

/** Adds a refund to the booking's running total and its list of refund ids. */
export async function addRefund(
  trx: Transaction<DB>,
  bookingId: string,
  refund: { amountCents: number; refundId: string },
  now: Date,
): Promise<void> {
  await trx
    .updateTable('bookingPayments')
    .set({
      refundedCents: sql<number>`refunded_cents + ${refund.amountCents}`,
      refundIds: sql<string[]>`array_append(refund_ids, ${refund.refundId}::text)`,
      updatedAt: now,
    })
    .where('bookingId', '=', bookingId)
    .execute();
}

/** The booking as a money action needs it (read under the action's row lock). */
export async function findMoneyBooking(db: Executor, bookingId: string) {
  return db
    .selectFrom('bookings')
    .select([
      'id',
      'status',
      'paymentStatus',
      'studentId',
      'instructorId',
      'startsAt',
      'endsAt',
      'holdExpiresAt',
      'lessonPriceCents',
      'studentFeeCents',
      'instructorFeeCents',
      'instructorPayoutCents',
      'lockedAt',
      'originalStartsAt',
      'lateRescheduleUsed',
      'completedAt',
      'confirmedAt',
      'cancelledAt',
      'cancelledBy',
      'cancellationReason',
      'noShowReportedAt',
    ])
    .where('id', '=', bookingId)
    .executeTakeFirst();
}
export type MoneyBooking = NonNullable<Awaited<ReturnType<typeof findMoneyBooking>>>;

/**
 * A saved card of the student at this provider: the one asked for (our id or the provider's), or
 * the default one, or the newest.
 */
export async function findUsablePaymentMethod(
  db: Executor,
  input: { userId: string; provider: string; paymentMethodId?: string | undefined },
): Promise<{ id: string; providerPaymentMethodId: string; brand: string; last4: string } | undefined> {
  let query = db
    .selectFrom('paymentMethods')
    .select(['id', 'providerPaymentMethodId', 'brand', 'last4'])
    .where('userId', '=', input.userId)
    .where('provider', '=', input.provider)
    .where('detachedAt', 'is', null);
  if (input.paymentMethodId) {
    const wanted = input.paymentMethodId;
    query = query.where((eb) => eb.or([eb('id', '=', wanted), eb('providerPaymentMethodId', '=', wanted)]));
  }
  return query.orderBy('isDefault', 'desc').orderBy('createdAt', 'desc').limit(1).executeTakeFirst();
}

export async function findPaymentMethodById(db: Executor, id: string) {
  return db.selectFrom('paymentMethods').select(['id', 'providerPaymentMethodId', 'detachedAt']).where('id', '=', id).executeTakeFirst();
}

export async function findCustomerId(db: Executor, userId: string, provider: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('paymentCustomers')
    .select('customerId')
    .where('userId', '=', userId)
    .where('provider', '=', provider)
    .executeTakeFirst();
  return row?.customerId;
}

export async function findUserContact(db: Executor, userId: string) {
  return db.selectFrom('users').select(['id', 'email', 'firstName', 'status', 'statusReason']).where('id', '=', userId).executeTakeFirst();
}

/** The instructor's connected payout account, if any. */
export async function findPayoutAccount(db: Executor, instructorId: string) {
  return db
    .selectFrom('instructorProfiles')
    .select(['stripeAccountId', 'payoutsEnabled', 'payoutProvider'])
    .where('userId', '=', instructorId)
    .executeTakeFirst();
}

/** Locks a student's account after a capture failed for good (spec: capture failure path). */
export async function lockUserAccount(
  trx: Transaction<DB>,
  userId: string,
  reason: string,
  now: Date,
): Promise<{ before: string } | undefined> {
  const before = await trx.selectFrom('users').select('status').where('id', '=', userId).forUpdate().executeTakeFirst();
  if (!before) return undefined;
  await trx.updateTable('users').set({ status: 'locked', statusReason: reason, updatedAt: now }).where('id', '=', userId).execute();
  return { before: before.status };
}

/** Unlocks an account this module locked (never one locked for another reason). */
export async function unlockUserAccount(trx: Transaction<DB>, userId: string, reason: string, now: Date): Promise<boolean> {
  const result = await trx
    .updateTable('users')
    .set({ status: 'active', statusReason: null, updatedAt: now })
    .where('id', '=', userId)
    .where('status', '=', 'locked')
    .where('statusReason', '=', reason)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

// ---- payment operations ----------------------------------------------------------------------

/** The unfinished call of this purpose on a booking (a crash left it pending): resumed under its key. */
export async function findPendingOperation(db: Executor, bookingId: string, purpose: string): Promise<PaymentOperationRow | undefined> {
  return db
    .selectFrom('paymentOperations')
    .selectAll()
    .where('bookingId', '=', bookingId)
    .where('purpose', '=', purpose)
    .where('status', '=', 'pending')
    .orderBy('attempt', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Pending calls of other purposes younger than `since`: another process is mid-action. */
export async function findOtherInFlightOperation(
  db: Executor,
  bookingId: string,
  purpose: string,
  since: Date,
): Promise<PaymentOperationRow | undefined> {
  return db
    .selectFrom('paymentOperations')
    .selectAll()
    .where('bookingId', '=', bookingId)
    .where('purpose', '!=', purpose)
    .where('status', '=', 'pending')
    .where('createdAt', '>', since)
    .limit(1)
    .executeTakeFirst();
}

export async function findOperationByKey(db: Executor, idempotencyKey: string): Promise<PaymentOperationRow | undefined> {
  return db.selectFrom('paymentOperations').selectAll().where('idempotencyKey', '=', idempotencyKey).executeTakeFirst();
}

/** A completed call of this purpose on this provider object (e.g. the release of one authorization). */
export async function findSucceededOperation(
  db: Executor,
  bookingId: string,
  purpose: string,
  providerObjectId: string,
): Promise<PaymentOperationRow | undefined> {
  return db
    .selectFrom('paymentOperations')
    .selectAll()
    .where('bookingId', '=', bookingId)
    .where('purpose', '=', purpose)
    .where('status', '=', 'succeeded')
    .where('providerObjectId', '=', providerObjectId)
    .limit(1)
    .executeTakeFirst();
}

/** How many calls of a purpose a booking has had (the next deliberate attempt is this + 1). */
export async function countOperations(db: Executor, bookingId: string, purpose: string): Promise<number> {
  const row = await db
    .selectFrom('paymentOperations')
    .select((eb) => eb.fn.max('attempt').as('attempts'))
    .where('bookingId', '=', bookingId)
    .where('purpose', '=', purpose)
    .executeTakeFirst();
  return Number(row?.attempts ?? 0);
}

export async function insertPendingOperation(
  trx: Transaction<DB>,
  values: {
    bookingId: string | null;
    userId: string | null;
    provider: string;
    purpose: string;
    idempotencyKey: string;
    attempt: number;
    amountCents: number | null;
    request: Record<string, unknown>;
    now: Date;
  },
): Promise<PaymentOperationRow> {
  return trx
    .insertInto('paymentOperations')
    .values({
      id: newId(values.now.getTime()),
      bookingId: values.bookingId,
      userId: values.userId,
      provider: values.provider,
      purpose: values.purpose,
      idempotencyKey: values.idempotencyKey,
      attempt: values.attempt,
      amountCents: values.amountCents,
      status: 'pending',
      request: JSON.stringify(values.request),
      createdAt: values.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Completes a pending operation; false when it was no longer pending (another process completed it). */
export async function completeOperation(
  trx: Transaction<DB>,
  id: string,
  outcome: {
    status: 'succeeded' | 'failed';
    providerObjectId?: string | null;
    errorCode?: string | null;
    errorMessage?: string | null;
    response: JsonValue;
  },
  now: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable('paymentOperations')
    .set({
      status: outcome.status,
      providerObjectId: outcome.providerObjectId ?? null,
      errorCode: outcome.errorCode ?? null,
      errorMessage: outcome.errorMessage ?? null,
      response: JSON.stringify(outcome.response),
      completedAt: now,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function findOperations(db: Executor, bookingId: string): Promise<PaymentOperationRow[]> {
  return db.selectFrom('paymentOperations').selectAll().where('bookingId', '=', bookingId).orderBy('createdAt').orderBy('id').execute();
}

// ---- sweep candidates ------------------------------------------------------------------------

// Per sweep run (every 5–15 minutes, four bookings at a time): about 2,000–4,000 bookings an hour.
const SWEEP_BATCH = 500;

/**
 * Confirmed lessons whose authorization is due (T−24h reached) and not yet made, or made but
 * lapsing before the capture (end + 24h + 1h margin): the authorization sweep's work.
 */
export async function findDueAuthorizations(db: Executor, now: Date, limit = SWEEP_BATCH): Promise<string[]> {
  const rows = await db
    .selectFrom('bookingPayments as bp')
    .innerJoin('bookings as b', 'b.id', 'bp.bookingId')
    .select('bp.bookingId')
    .where('b.status', '=', 'confirmed')
    .where('bp.settledAt', 'is', null)
    .where('bp.capturedAt', 'is', null)
    .where('bp.authorizeAt', '<=', now)
    .where((eb) =>
      eb.or([
        eb.and([eb('bp.authorizedAt', 'is', null), eb('b.paymentStatus', '=', 'scheduled')]),
        eb.and([
          eb('b.paymentStatus', '=', 'authorized'),
          eb('bp.authorizationExpiresAt', 'is not', null),
          eb('bp.authorizationExpiresAt', '<', sql<Date>`b.ends_at + interval '25 hours'`),
        ]),
      ]),
    )
    .orderBy('bp.authorizeAt')
    .limit(limit)
    .execute();
  return rows.map((row) => row.bookingId);
}

/** Checkouts whose authorization call was left pending (a crash after commit): resume them. */
export async function findStalledCheckoutAuthorizations(db: Executor, olderThan: Date, limit = SWEEP_BATCH): Promise<string[]> {
  const rows = await db
    .selectFrom('paymentOperations as op')
    .innerJoin('bookings as b', 'b.id', 'op.bookingId')
    .select('b.id')
    .distinct()
    .where('op.purpose', '=', 'authorize')
    .where('op.status', '=', 'pending')
    .where('op.createdAt', '<', olderThan)
    .where('b.status', 'in', ['pending_payment', 'confirmed'])
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/** Confirmed lessons whose authorization failed: the retry sweep's work (retry, warn, cancel). */
export async function findFailedAuthorizations(db: Executor, limit = SWEEP_BATCH): Promise<string[]> {
  const rows = await db
    .selectFrom('bookingPayments as bp')
    .innerJoin('bookings as b', 'b.id', 'bp.bookingId')
    .select('bp.bookingId')
    .where('b.status', '=', 'confirmed')
    .where('b.paymentStatus', '=', 'payment_method_required')
    .where('bp.settledAt', 'is', null)
    .orderBy('b.startsAt')
    .limit(limit)
    .execute();
  return rows.map((row) => row.bookingId);
}

/**
 * Bookings with money still to move: lessons past end + 24h to capture (no no-show reported),
 * failed captures due for a retry, late reschedules (LOCK) not captured yet, cancellations and
 * expired checkouts not settled, undisputed no-show reports past their deadline, and instructor
 * payouts still owed.
 */
export async function findBookingsToAdvance(db: Executor, now: Date, limit = SWEEP_BATCH): Promise<string[]> {
  const rows = await db
    .selectFrom('bookingPayments as bp')
    .innerJoin('bookings as b', 'b.id', 'bp.bookingId')
    .select('bp.bookingId')
    .where((eb) =>
      eb.or([
        // lessons to capture and settle at end + 24h (strictly after: a no-show may be reported up to end + 24h)
        eb.and([
          eb('b.status', 'in', ['confirmed', 'completed']),
          eb.or([
            eb('b.paymentStatus', 'in', ['authorized', 'locked']),
            eb.and([eb('b.status', '=', 'completed'), eb('b.paymentStatus', '=', 'payment_method_required')]),
          ]),
          eb('bp.settledAt', 'is', null),
          eb.or([eb('bp.noShowState', 'is', null), eb('bp.noShowState', '=', 'rejected')]),
          eb(sql<Date>`b.ends_at + interval '24 hours'`, '<', now),
          eb.or([eb('bp.nextCaptureAttemptAt', 'is', null), eb('bp.nextCaptureAttemptAt', '<=', now)]),
        ]),
        // LOCK: captured at once, retried on failure
        eb.and([
          eb('b.status', '=', 'confirmed'),
          eb('b.lockedAt', 'is not', null),
          eb('b.paymentStatus', '=', 'locked'),
          eb('bp.capturedAt', 'is', null),
          eb.or([eb('bp.nextCaptureAttemptAt', 'is', null), eb('bp.nextCaptureAttemptAt', '<=', now)]),
        ]),
        // cancelled (by a person, a failed payment or an expired checkout) and not settled yet
        eb.and([eb('b.status', '=', 'cancelled'), eb('bp.settledAt', 'is', null), eb('b.paymentStatus', '!=', 'manual_review')]),
        // undisputed no-show reports past their deadline are confirmed
        eb.and([eb('bp.noShowState', '=', 'reported'), eb('bp.noShowDisputeDeadlineAt', '<=', now)]),
        // a confirmed no-show whose refund is not done
        eb.and([eb('bp.noShowState', '=', 'confirmed'), eb('bp.settledAt', 'is', null)]),
        // instructor payouts owed (no payout account yet, or the transfer failed)
        eb.and([
          eb('bp.transferredAt', 'is', null),
          eb('bp.settlementInstructorPayoutCents', '>', 0),
          eb.or([eb('bp.capturedAt', 'is not', null), eb('bp.payoutAdvancedAt', 'is not', null)]),
        ]),
      ]),
    )
    .orderBy('bp.updatedAt')
    .limit(limit)
    .execute();
  return rows.map((row) => row.bookingId);
}
