import type { Database, DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { expect } from 'vitest';
import { issueCredit } from '../src/credits/index.ts';
import type { CreditSource } from '../src/credits/credit-ledger.ts';
import { createHeldBooking } from './support/jobs.ts';

/** Runs `fn` in its own transaction (the credit functions take the caller's transaction). */
export function inTransaction<T>(database: Database, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return database.db.transaction().execute(fn);
}

/** Gives a user a credit lot. */
export async function grantCredit(
  database: Database,
  userId: string,
  amountCents: number,
  expiresAt: Date,
  options: { source?: CreditSource; now?: Date } = {},
): Promise<string> {
  const { lotId } = await inTransaction(database, (trx) =>
    issueCredit(trx, {
      userId,
      amountCents,
      source: options.source ?? 'promo',
      expiresAt,
      reason: 'Test credit',
      now: options.now ?? new Date(expiresAt.getTime() - 86_400_000),
    }),
  );
  return lotId;
}

let bookingCounter = 0;

/** A confirmed booking of the student (each with its own instructor and a distinct start). */
export async function confirmedBooking(
  database: Database,
  studentId: string,
  input: { status?: string; startsAt?: Date; lessonPriceCents?: number } = {},
): Promise<string> {
  bookingCounter += 1;
  const startsAt = input.startsAt ?? new Date(Date.UTC(2031, 0, 1) + bookingCounter * 3 * 3_600_000);
  const id = await createHeldBooking(database, { holdExpiresAt: null, startsAt, studentId, status: input.status ?? 'confirmed' });
  if (input.lessonPriceCents !== undefined) {
    const fee = Math.round(input.lessonPriceCents * 0.15);
    await database.db
      .updateTable('bookings')
      .set({
        lessonPriceCents: input.lessonPriceCents,
        studentFeeCents: Math.round(input.lessonPriceCents * 0.12),
        instructorFeeCents: fee,
        instructorPayoutCents: input.lessonPriceCents - fee,
      })
      .where('id', '=', id)
      .execute();
  }
  return id;
}

/**
 * Invariant I4, checked the long way: for every lot of the user, the ledger's available and
 * reserved deltas add up to the lot's running totals, none is negative, and the user's balance
 * is the sum of the ledger.
 */
export async function expectLedgerConsistent(
  db: Kysely<DB>,
  userId: string,
): Promise<{ balanceCents: number; availableCents: number; reservedCents: number }> {
  const { rows } = await sql<{ lotId: string; available: number; reserved: number; ledgerAvailable: number; ledgerReserved: number }>`
    select l.id as "lotId", l.available_cents as available, l.reserved_cents as reserved,
      coalesce(sum(e.available_delta_cents), 0)::int as "ledgerAvailable",
      coalesce(sum(e.reserved_delta_cents), 0)::int as "ledgerReserved"
    from credit_lots l left join credit_ledger e on e.lot_id = l.id
    where l.user_id = ${userId}
    group by l.id`.execute(db);
  for (const row of rows) {
    expect({ lot: row.lotId, available: row.ledgerAvailable, reserved: row.ledgerReserved }).toEqual({
      lot: row.lotId,
      available: row.available,
      reserved: row.reserved,
    });
    expect(row.available).toBeGreaterThanOrEqual(0);
    expect(row.reserved).toBeGreaterThanOrEqual(0);
  }
  const { rows: totals } = await sql<{ balance: number; available: number; reserved: number }>`
    select coalesce(sum(amount_cents), 0)::int as balance, coalesce(sum(available_delta_cents), 0)::int as available,
      coalesce(sum(reserved_delta_cents), 0)::int as reserved
    from credit_ledger where user_id = ${userId}`.execute(db);
  const total = totals[0]!;
  expect(total.balance).toBe(rows.reduce((sum, row) => sum + row.available + row.reserved, 0));
  expect(total.balance).toBeGreaterThanOrEqual(0);
  return { balanceCents: total.balance, availableCents: total.available, reservedCents: total.reserved };
}

export const DAY_MS = 86_400_000;
