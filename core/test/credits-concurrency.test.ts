import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCreditBalance, reserveCredits } from '../src/credits/index.ts';
import { confirmedBooking, DAY_MS, expectLedgerConsistent, grantCredit } from './credits-helpers.ts';
import { createUser } from './support/factories.ts';

/**
 * R8: 50 concurrent checkouts spending one credit balance, each in its own transaction on its
 * own connection (a pool of 50 on PostgreSQL; PGlite has one session, so there they queue),
 * with +50 ms of latency inside every transaction before and after the reservation.
 */
let database: TestDatabase;
const NOW = new Date('2031-03-01T12:00:00Z');
const CHECKOUTS = 50;

beforeAll(async () => {
  database = await createTestDatabase({ ...process.env, DB_POOL_MAX: String(CHECKOUTS) });
});

afterAll(async () => {
  await database?.cleanup();
});

async function checkout(studentId: string, bookingId: string, maxCents: number) {
  return database.db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(trx);
    const reserved = await reserveCredits(trx, { studentId, bookingId, maxCents, now: NOW });
    await sql`select pg_sleep(0.05)`.execute(trx);
    return { ...reserved, bookingId, pid: rows[0]!.pid };
  });
}

describe('R8: concurrent checkouts against one credit balance', () => {
  it('50 checkouts for 50 bookings consume at most the balance, never a cent twice', async () => {
    const studentId = await createUser(database);
    await grantCredit(database, studentId, 4000, new Date(NOW.getTime() + 30 * DAY_MS));
    await grantCredit(database, studentId, 3500, new Date(NOW.getTime() + 60 * DAY_MS));
    await grantCredit(database, studentId, 2500, new Date(NOW.getTime() + 90 * DAY_MS));
    const balanceCents = 10_000;
    const bookings: string[] = [];
    for (let index = 0; index < CHECKOUTS; index += 1) bookings.push(await confirmedBooking(database, studentId));

    // Each wants $7 (the lessons' prices), together $350 against a $100 balance.
    const results = await Promise.all(bookings.map((bookingId) => checkout(studentId, bookingId, 700)));

    const total = results.reduce((sum, result) => sum + result.reservedCents, 0);
    expect(total).toBe(balanceCents);
    expect(results.every((result) => result.reservedCents >= 0 && result.reservedCents <= 700)).toBe(true);
    expect(results.filter((result) => result.reservedCents > 0).length).toBeGreaterThanOrEqual(Math.ceil(balanceCents / 700));
    if (database.url) {
      // really concurrent: many server sessions took part
      expect(new Set(results.map((result) => result.pid)).size).toBeGreaterThan(10);
    }

    // What each booking holds is exactly what its checkout was told.
    const held = await database.db
      .selectFrom('creditReservations')
      .select(['bookingId', sql<number>`sum(amount_cents)::int`.as('cents')])
      .where('userId', '=', studentId)
      .groupBy('bookingId')
      .execute();
    const heldByBooking = new Map(held.map((row) => [row.bookingId, row.cents]));
    for (const result of results) expect(heldByBooking.get(result.bookingId) ?? 0).toBe(result.reservedCents);

    expect(await getCreditBalance(database.db, studentId, NOW)).toMatchObject({
      availableCents: 0,
      reservedCents: balanceCents,
      balanceCents,
    });
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents, availableCents: 0, reservedCents: balanceCents });
  });

  it('the same checkout sent 20 times at once reserves once', async () => {
    const studentId = await createUser(database);
    await grantCredit(database, studentId, 5000, new Date(NOW.getTime() + 30 * DAY_MS));
    const bookingId = await confirmedBooking(database, studentId);

    const results = await Promise.all(Array.from({ length: 20 }, () => checkout(studentId, bookingId, 3000)));

    expect(new Set(results.map((result) => result.reservedCents))).toEqual(new Set([3000]));
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(await getCreditBalance(database.db, studentId, NOW)).toMatchObject({ availableCents: 2000, reservedCents: 3000 });
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 5000, availableCents: 2000, reservedCents: 3000 });
  });
});
