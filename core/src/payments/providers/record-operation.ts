import { type DB, newId } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { PaymentProviderError } from '../provider.ts';

export interface OperationEntry {
  provider: 'stripe' | 'offline';
  purpose: string;
  idempotencyKey: string;
  attempt?: number;
  userId?: string | null;
  bookingId?: string | null;
  amountCents?: number | null;
  /** What was asked (no secrets, no card data). */
  request: Record<string, unknown>;
}

export interface OperationOutcome {
  status: 'succeeded' | 'failed';
  providerObjectId?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  response?: unknown;
}

/**
 * Calls the provider under a `payment_operations` row: written `pending` (committed) before the
 * call, completed after. A crash in between leaves the row pending, and the retry — which must use
 * the same idempotency key — gets the provider's first answer and completes it. A non-retryable
 * provider error completes the row as failed; a retryable one leaves it pending for the retry.
 *
 * Runs outside any transaction (the provider call may take seconds; the offline provider needs
 * the connection on the embedded PGlite).
 */
export async function callProviderRecorded<T>(
  db: Kysely<DB>,
  entry: OperationEntry,
  call: () => Promise<T>,
  outcomeOf: (result: T) => OperationOutcome,
  now: () => Date,
): Promise<T> {
  await db
    .insertInto('paymentOperations')
    .values({
      id: newId(),
      provider: entry.provider,
      purpose: entry.purpose,
      idempotencyKey: entry.idempotencyKey,
      attempt: entry.attempt ?? 1,
      userId: entry.userId ?? null,
      bookingId: entry.bookingId ?? null,
      amountCents: entry.amountCents ?? null,
      request: JSON.stringify(entry.request),
      createdAt: now(),
    })
    .onConflict((conflict) => conflict.column('idempotencyKey').doNothing())
    .execute();
  let result: T;
  try {
    result = await call();
  } catch (error) {
    if (error instanceof PaymentProviderError && !error.retryable) {
      await db
        .updateTable('paymentOperations')
        .set({
          status: 'failed',
          errorCode: error.options.code ?? 'provider_error',
          errorMessage: error.message.slice(0, 500),
          completedAt: now(),
        })
        .where('idempotencyKey', '=', entry.idempotencyKey)
        .where('status', '=', 'pending')
        .execute();
    }
    throw error;
  }
  const outcome = outcomeOf(result);
  await db
    .updateTable('paymentOperations')
    .set({
      status: outcome.status,
      providerObjectId: outcome.providerObjectId ?? null,
      errorCode: outcome.errorCode ?? null,
      errorMessage: outcome.errorMessage ?? null,
      response: JSON.stringify(outcome.response ?? result ?? null),
      completedAt: now(),
    })
    .where('idempotencyKey', '=', entry.idempotencyKey)
    .execute();
  return result;
}
