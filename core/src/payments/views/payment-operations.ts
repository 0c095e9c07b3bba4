import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decodeCursor, type Page, toPage } from '../../shared/pagination.ts';
import { iso, labelOf, type ProviderLabel } from './labels.ts';
import { findOperationRows } from './views.queries.ts';

export interface PaymentOperationItem extends ProviderLabel {
  id: string;
  bookingId: string | null;
  userId: string | null;
  /** The booking's parties, when the operation belongs to a booking. */
  studentId: string | null;
  instructorId: string | null;
  purpose: string;
  idempotencyKey: string;
  attempt: number;
  amountCents: number | null;
  status: string;
  /** The provider's id of what the call made or touched (pi_…, re_…, tr_…, or an offline id). */
  providerObjectId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface PaymentOperationQuery {
  limit: number;
  cursor?: string | undefined;
  bookingId?: string | undefined;
  userId?: string | undefined;
  purpose?: string | undefined;
  status?: 'pending' | 'succeeded' | 'failed' | undefined;
  provider?: 'stripe' | 'offline' | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

const OperationCursor = z.object({ c: z.string().min(1), id: z.string().min(1) });

/**
 * Every call made to the payment provider, newest first, filtered for audit and the copilot.
 * Request and response bodies are left out (they can hold client secrets); the ids are enough to
 * look the object up at the provider.
 */
export async function findPaymentOperations(db: Kysely<DB>, query: PaymentOperationQuery): Promise<Page<PaymentOperationItem>> {
  const after = decodeCursor(query.cursor, OperationCursor);
  const rows = await findOperationRows(db, { ...query, after: after ? { createdKey: after.c, id: after.id } : undefined });
  return toPage(
    rows,
    query.limit,
    (row): PaymentOperationItem => ({
      ...labelOf(row.provider, { provider: 'offline', offline: true }),
      id: row.id,
      bookingId: row.bookingId,
      userId: row.userId,
      studentId: row.studentId,
      instructorId: row.instructorId,
      purpose: row.purpose,
      idempotencyKey: row.idempotencyKey,
      attempt: row.attempt,
      amountCents: row.amountCents,
      status: row.status,
      providerObjectId: row.providerObjectId,
      errorCode: row.errorCode,
      errorMessage: row.errorMessage,
      createdAt: row.createdAt.toISOString(),
      completedAt: iso(row.completedAt),
    }),
    (row) => ({ c: row.createdKey, id: row.id }),
  );
}
