import { type DB, newId } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';

export interface ReleasedHold {
  id: string;
  studentId: string;
  instructorId: string;
  holdExpiresAt: Date;
}

/** Largest number of holds one call releases (a sweep takes the rest next time). */
export const RELEASE_BATCH_LIMIT = 500;

/**
 * Cancels bookings still in `pending_payment` whose checkout hold expired at or before `now`
 * (cancelled by the system, reason `hold_expired`), freeing their time, and writes a
 * `hold_expired` booking event for each. One set-based UPDATE … RETURNING: idempotent (a released
 * booking no longer matches), and rows another transaction is confirming right now are skipped
 * rather than waited for (SKIP LOCKED) — if that confirmation fails, the next sweep takes them.
 *
 * Pass a transaction to join it; given `db`, it opens its own.
 */
export async function releaseExpiredHolds(
  db: Kysely<DB> | Transaction<DB>,
  now: Date,
  options: { bookingIds?: readonly string[]; limit?: number } = {},
): Promise<ReleasedHold[]> {
  if (options.bookingIds && options.bookingIds.length === 0) return [];
  const limit = Math.min(options.limit ?? RELEASE_BATCH_LIMIT, RELEASE_BATCH_LIMIT);
  const release = async (trx: Transaction<DB>): Promise<ReleasedHold[]> => {
    // The candidates are picked once (a materialized CTE): as an `IN (subquery … LIMIT)` the
    // planner may rescan the subquery, which then skips the rows this statement just updated and
    // picks more than `limit` (measured on PostgreSQL 15 and PGlite).
    const released = await trx
      .with(
        (cte) => cte('expired').materialized(),
        (qb) => {
          let candidates = qb
            .selectFrom('bookings')
            .select('id')
            .where('status', '=', 'pending_payment')
            .where('holdExpiresAt', '<=', now)
            .orderBy('holdExpiresAt')
            .limit(limit)
            .forUpdate()
            .skipLocked();
          if (options.bookingIds) candidates = candidates.where('id', 'in', [...options.bookingIds]);
          return candidates;
        },
      )
      .updateTable('bookings')
      .from('expired')
      .set({
        status: 'cancelled',
        cancelledAt: now,
        cancelledBy: 'system',
        cancellationReason: 'hold_expired',
        updatedAt: now,
      })
      .whereRef('bookings.id', '=', 'expired.id')
      // Re-checked on the locked row: a confirmation that committed first wins.
      .where('bookings.status', '=', 'pending_payment')
      .returning(['bookings.id', 'bookings.studentId', 'bookings.instructorId', 'bookings.holdExpiresAt'])
      .execute();
    if (released.length > 0) {
      await trx
        .insertInto('bookingEvents')
        .values(
          released.map((booking) => ({
            id: newId(),
            bookingId: booking.id,
            type: 'hold_expired',
            actorType: 'system' as const,
            actorId: null,
            data: JSON.stringify({ holdExpiresAt: booking.holdExpiresAt?.toISOString() ?? null }),
            at: now,
          })),
        )
        .execute();
    }
    return released.map((booking) => ({ ...booking, holdExpiresAt: booking.holdExpiresAt as Date }));
  };
  return db.isTransaction ? release(db as Transaction<DB>) : db.transaction().execute(release);
}

/** Where a booking's hold stands, for the per-booking expiry job. */
export async function findHoldState(
  db: Kysely<DB> | Transaction<DB>,
  bookingId: string,
): Promise<{ status: string; holdExpiresAt: Date | null } | undefined> {
  return db.selectFrom('bookings').select(['status', 'holdExpiresAt']).where('id', '=', bookingId).executeTakeFirst();
}
