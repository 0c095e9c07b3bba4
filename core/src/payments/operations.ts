import type { DB, JsonValue } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { insertBookingEvents } from '../booking/booking.queries.ts';
import { AppError } from '../shared/errors.ts';
import {
  completeOperation,
  countOperations,
  findOperationByKey,
  findOtherInFlightOperation,
  findPendingOperation,
  insertPendingOperation,
  type PaymentOperationRow,
} from './booking-payments.queries.ts';
import { idempotencyKey, type PaymentPurpose } from './idempotency-keys.ts';
import type { MoneyDeps } from './money-deps.ts';
import type { MoneyLock } from './money-lock.ts';
import { PaymentProviderError } from './provider.ts';

/**
 * The pending-operation pattern every provider call follows (I3: at most one effect per booking
 * purpose). Under the booking's money lock:
 *   1. a transaction writes the payment_operations row `pending` with the call's deterministic
 *      idempotency key (`{purpose}:{bookingId}:{attempt}`) and commits;
 *   2. the provider is called with that key, outside any transaction;
 *   3. the caller's next transaction completes the row (succeeded/failed, provider ids) together
 *      with the booking's new money state, its timeline event and the audit record.
 * A crash between 2 and 3 leaves the row pending; the next run of the same action finds it and
 * calls again with the SAME key, so the provider replays its first answer instead of moving
 * money twice. A deliberate new attempt (a retry after a decline) takes the next attempt number.
 *
 * Without Redis (or after a Redis lock expired) two processes can run the same action on a
 * booking at once; the row lock is only held inside each short transaction. So step 3 records
 * the consequences only if it is the one that completes the pending row (`finishOperation`
 * answers false otherwise), and a fresh attempt re-checks under the row lock that the action is
 * still needed (`stillNeeded`): a call another process finished meanwhile is never recorded
 * twice, nor repeated under the next key.
 */

/** A pending call of another purpose younger than this means another process is mid-action. */
export const IN_FLIGHT_LEASE_MS = 60_000;
/** What a caller refused because the provider is unreachable is told to wait. */
export const PROVIDER_RETRY_AFTER_SECONDS = 30;

export interface ProviderCallSpec<T> {
  purpose: PaymentPurpose;
  /** The attempt of a fresh call; `next` = one more than this booking's calls of this purpose so far. */
  attempt: number | 'next';
  amountCents: number | null;
  userId: string | null;
  /** What was asked (amounts, ids; never secrets), stored on the operation row. */
  request: Record<string, unknown>;
  /** Runs in the claiming transaction (e.g. to count the attempt on booking_payments). */
  onClaim?: (trx: Transaction<DB>, operation: PaymentOperationRow) => Promise<void>;
  /**
   * Checked in the claiming transaction, under the booking's row lock, before a NEW attempt is
   * claimed (not when a pending one is resumed): false when the action was done since the caller
   * read the state (another process did it), which then ends as `already_done`.
   */
  stillNeeded?: (trx: Transaction<DB>) => Promise<boolean>;
  /**
   * Makes the call. `request` is what the operation row recorded when it was claimed — for a
   * resumed call, the FIRST run's request — so a key is always sent with the same parameters
   * (Stripe rejects a reused key with different ones).
   */
  call: (idempotencyKey: string, request: Record<string, unknown>) => Promise<T>;
}

export type ProviderCallOutcome<T> =
  /** The provider answered (a decline is an answer too). */
  | { kind: 'answered'; value: T; operation: PaymentOperationRow }
  /** The provider refused the request itself (bad request, unknown object): not retryable. */
  | { kind: 'rejected'; error: PaymentProviderError; operation: PaymentOperationRow }
  /** This exact operation was already completed earlier (its stored response stands), or the action is no longer needed (null). */
  | { kind: 'already_done'; operation: PaymentOperationRow | null };

/** Claims (or resumes) the operation, calls the provider, and hands back what happened. */
export async function callProvider<T>(lock: MoneyLock, deps: MoneyDeps, spec: ProviderCallSpec<T>): Promise<ProviderCallOutcome<T>> {
  const bookingId = lock.bookingId;
  const claimed = await lock.transaction(async (trx) => {
    const now = deps.clock.now();
    const pending = await findPendingOperation(trx, bookingId, spec.purpose);
    if (pending) return { operation: pending, fresh: false };
    const other = await findOtherInFlightOperation(trx, bookingId, spec.purpose, new Date(now.getTime() - IN_FLIGHT_LEASE_MS));
    if (other) {
      throw new AppError('unavailable', 'Another payment action on this booking is in progress; try again in a moment.', null, 2);
    }
    if (spec.stillNeeded && !(await spec.stillNeeded(trx))) return { operation: null, fresh: false };
    const attempt = spec.attempt === 'next' ? (await countOperations(trx, bookingId, spec.purpose)) + 1 : spec.attempt;
    const key = idempotencyKey(spec.purpose, bookingId, attempt);
    const existing = await findOperationByKey(trx, key);
    if (existing) return { operation: existing, fresh: false };
    const operation = await insertPendingOperation(trx, {
      bookingId,
      userId: spec.userId,
      provider: deps.payments.name,
      purpose: spec.purpose,
      idempotencyKey: key,
      attempt,
      amountCents: spec.amountCents,
      request: spec.request,
      now,
    });
    await spec.onClaim?.(trx, operation);
    return { operation, fresh: true };
  });
  const { operation } = claimed;
  if (!operation || operation.status !== 'pending') return { kind: 'already_done', operation };
  try {
    const request =
      operation.request && typeof operation.request === 'object' && !Array.isArray(operation.request) ? operation.request : {};
    const value = await spec.call(operation.idempotencyKey, { ...spec.request, ...(request as Record<string, unknown>) });
    return { kind: 'answered', value, operation };
  } catch (error) {
    if (error instanceof PaymentProviderError) {
      if (!error.retryable) return { kind: 'rejected', error, operation };
      // The row stays pending: the retry resumes it under the same key.
      deps.logger?.warn(
        { bookingId, operation: operation.idempotencyKey, err: { message: error.message, code: error.options.code } },
        'payment provider unreachable; the operation stays pending and is retried with the same key',
      );
      throw new AppError(
        'unavailable',
        'The payment provider cannot be reached right now; the payment is retried automatically.',
        null,
        PROVIDER_RETRY_AFTER_SECONDS,
      );
    }
    throw error;
  }
}

/**
 * Completes an operation row, in the transaction that records its consequences. False when the
 * row was no longer pending: another process that resumed the same call recorded them already,
 * and the caller must record nothing.
 */
export async function finishOperation(
  trx: Transaction<DB>,
  operation: PaymentOperationRow,
  outcome: {
    status: 'succeeded' | 'failed';
    providerObjectId?: string | null;
    errorCode?: string | null;
    errorMessage?: string | null;
    response: unknown;
  },
  now: Date,
): Promise<boolean> {
  return completeOperation(trx, operation.id, { ...outcome, response: toJson(outcome.response) }, now);
}

/** A provider answer as stored JSON (dates as ISO strings). */
export function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

/** Who a money change is recorded against: a person's request, or the system (jobs). */
export interface MoneyActor {
  audit: AuditContext;
  event: { type: 'user' | 'service' | 'system'; id: string | null };
}

export const SYSTEM_ACTOR: MoneyActor = { audit: SYSTEM_CONTEXT, event: { type: 'system', id: null } };

/** The actor of a request's audit context. */
export function actorOf(audit: AuditContext): MoneyActor {
  const { principal } = audit;
  if (principal.kind === 'user') return { audit, event: { type: 'user', id: principal.userId } };
  if (principal.kind === 'service') return { audit, event: { type: 'service', id: principal.serviceId } };
  return { audit, event: { type: 'system', id: null } };
}

/** One booking-timeline event and one audit record for a money change. */
export async function recordMoneyChange(
  trx: Transaction<DB>,
  actor: MoneyActor,
  input: {
    bookingId: string;
    event: string;
    action: string;
    data: Record<string, unknown>;
    before?: unknown;
    after?: unknown;
    reason?: string | null;
    outcome?: 'success' | 'failure';
    /** The audit record's subject when it is not the booking (a locked user account). */
    resource?: { type: string; id: string };
    now: Date;
  },
): Promise<void> {
  await insertBookingEvents(trx, input.bookingId, [{ type: input.event, data: input.data }], actor.event, input.now);
  await recordAudit(trx, actor.audit, {
    action: input.action,
    resourceType: input.resource?.type ?? 'booking',
    resourceId: input.resource?.id ?? input.bookingId,
    before: input.before,
    after: input.after ?? input.data,
    reason: input.reason ?? null,
    outcome: input.outcome ?? 'success',
    metadata: { ...input.data, ...(input.resource ? { bookingId: input.bookingId } : {}) },
  });
}
