import type { DB } from '@instainstru/db';
import type { Transaction } from 'kysely';
import { type AuditContext, recordAudit, SYSTEM_CONTEXT } from '../audit/record-audit.ts';
import { AppError } from '../shared/errors.ts';
import { actorOf, assertCents, CREDIT_SOURCES, type CreditSource, insertLot, writeEntries } from './credit-ledger.ts';

export interface IssueCreditInput {
  userId: string;
  amountCents: number;
  source: CreditSource;
  /** The booking that produced the credit (cancellation, loyalty, referral, re-issue). */
  bookingId?: string | null;
  expiresAt: Date;
  /** Shown in the student's credit history and the audit log. */
  reason: string;
  /** Who grants it (an admin's request context); the system otherwise. */
  actor?: AuditContext;
  /** 'adjust' for admin corrections; 'grant' otherwise. */
  kind?: 'grant' | 'adjust';
  /** The grant instant (pass the caller's clock; default: the wall clock). */
  now?: Date;
}

/**
 * Creates a credit lot for a user with its grant entry, and audits it. Runs in the caller's
 * transaction so the credit commits with whatever earned it.
 */
export async function issueCredit(trx: Transaction<DB>, input: IssueCreditInput): Promise<{ lotId: string }> {
  assertCents(input.amountCents, 'amountCents', { positive: true });
  if (!CREDIT_SOURCES.includes(input.source)) throw new AppError('validation_error', `Unknown credit source "${input.source}".`, 'source');
  const now = input.now ?? new Date();
  // Checked against the caller's clock only: a test clock may be far from the wall clock.
  if (input.now && !(input.expiresAt.getTime() > input.now.getTime())) {
    throw new AppError('validation_error', 'A credit must expire after it is granted.', 'expiresAt');
  }
  const actor = actorOf(input.actor);
  const lotId = await insertLot(trx, {
    userId: input.userId,
    source: input.source,
    originalCents: input.amountCents,
    expiresAt: input.expiresAt,
    originBookingId: input.bookingId ?? null,
    reason: input.reason,
    grantedBy: actor.id,
    createdAt: now,
  });
  await writeEntries(
    trx,
    [
      {
        userId: input.userId,
        lotId,
        kind: input.kind ?? 'grant',
        availableDeltaCents: input.amountCents,
        reservedDeltaCents: 0,
        bookingId: input.bookingId ?? null,
        reason: input.reason,
      },
    ],
    actor,
    now,
  );
  await recordAudit(trx, input.actor ?? SYSTEM_CONTEXT, {
    action: 'credits.grant',
    resourceType: 'user',
    resourceId: input.userId,
    after: {
      lotId,
      amountCents: input.amountCents,
      source: input.source,
      expiresAt: input.expiresAt.toISOString(),
      bookingId: input.bookingId ?? null,
    },
    reason: input.reason,
  });
  return { lotId };
}
