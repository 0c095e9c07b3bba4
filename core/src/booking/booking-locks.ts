import type { DB } from '@instainstru/db';
import { sql, type Transaction } from 'kysely';

/**
 * Serializes writes that compete for the same instructor's or student's time. The exclusion
 * constraints stay the source of truth; without this, two concurrent inserts that each see the
 * other's uncommitted index entry wait on each other and PostgreSQL aborts one with a deadlock
 * (40P01 → 503) instead of the clean 23P01 → 409. Keys are locked in sorted order so two
 * transactions can never hold them crosswise.
 */
export async function lockBookingParties(trx: Transaction<DB>, instructorId: string, studentId: string): Promise<void> {
  const keys = [`booking:instructor:${instructorId}`, `booking:student:${studentId}`].sort();
  for (const key of keys) {
    await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
  }
}
