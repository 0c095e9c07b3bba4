import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { addDays, CREDIT_CONFIG } from './credit-config.ts';

export interface CreditBalance {
  /** Spendable now. */
  availableCents: number;
  /** Held for upcoming lessons (does not expire while held). */
  reservedCents: number;
  /** available + reserved + anything past expiry the daily job has not expired yet = Σ ledger. */
  balanceCents: number;
  /** Of the available credit, what expires within `expiringSoonDays`. */
  expiringSoonCents: number;
  expiringSoonDays: number;
  /** The earliest expiry among available credit. */
  nextExpiryAt: Date | null;
  currency: 'usd';
}

/**
 * A user's credit balance, from the lots' running totals (which the ledger tests prove equal the
 * ledger sums). Credit past its expiry is no longer available even before the expiry job runs.
 */
export async function getCreditBalance(db: Kysely<DB> | Transaction<DB>, userId: string, now: Date): Promise<CreditBalance> {
  const soon = addDays(now, CREDIT_CONFIG.expiringSoonDays);
  const row = await db
    .selectFrom('creditLots')
    .where('userId', '=', userId)
    .select([
      sql<number>`coalesce(sum(available_cents) filter (where revoked_at is null and expires_at > ${now}), 0)::int`.as('available'),
      sql<number>`coalesce(sum(reserved_cents), 0)::int`.as('reserved'),
      sql<number>`coalesce(sum(available_cents + reserved_cents), 0)::int`.as('balance'),
      sql<number>`coalesce(sum(available_cents) filter (where revoked_at is null and expires_at > ${now} and expires_at <= ${soon}), 0)::int`.as(
        'expiringSoon',
      ),
      sql<Date | null>`min(expires_at) filter (where available_cents > 0 and revoked_at is null and expires_at > ${now})`.as(
        'nextExpiryAt',
      ),
    ])
    .executeTakeFirstOrThrow();
  return {
    availableCents: row.available,
    reservedCents: row.reserved,
    balanceCents: row.balance,
    expiringSoonCents: row.expiringSoon,
    expiringSoonDays: CREDIT_CONFIG.expiringSoonDays,
    nextExpiryAt: row.nextExpiryAt ? new Date(row.nextExpiryAt) : null,
    currency: CREDIT_CONFIG.currency,
  };
}

/** Σ of the user's ledger entries (the record of truth the balance must equal, invariant I4). */
export async function sumLedger(
  db: Kysely<DB> | Transaction<DB>,
  userId: string,
): Promise<{ balanceCents: number; availableCents: number; reservedCents: number }> {
  const row = await db
    .selectFrom('creditLedger')
    .where('userId', '=', userId)
    .select([
      sql<number>`coalesce(sum(amount_cents), 0)::int`.as('balance'),
      sql<number>`coalesce(sum(available_delta_cents), 0)::int`.as('available'),
      sql<number>`coalesce(sum(reserved_delta_cents), 0)::int`.as('reserved'),
    ])
    .executeTakeFirstOrThrow();
  return { balanceCents: row.balance, availableCents: row.available, reservedCents: row.reserved };
}
