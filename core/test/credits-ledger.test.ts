import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consumeReservedCredits,
  getCreditBalance,
  releaseReservedCredits,
  reserveCredits,
  settleCreditsForPenalty,
} from '../src/credits/index.ts';
import { performEffect } from '../src/jobs/effects.ts';
import { createCoreHandlers } from '../src/jobs/handlers.ts';
import type { JobContext } from '../src/jobs/start-worker.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { AppError } from '../src/shared/errors.ts';
import { confirmedBooking, DAY_MS, expectLedgerConsistent, grantCredit, inTransaction } from './credits-helpers.ts';
import { createUser } from './support/factories.ts';

let database: TestDatabase;
const NOW = new Date('2031-01-01T12:00:00Z');
const inDays = (days: number) => new Date(NOW.getTime() + days * DAY_MS);

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.cleanup();
});

async function ledgerCount(userId: string): Promise<number> {
  const rows = await database.db.selectFrom('creditLedger').select('id').where('userId', '=', userId).execute();
  return rows.length;
}

async function reservationsOf(bookingId: string) {
  return database.db
    .selectFrom('creditReservations')
    .select(['lotId', 'amountCents', 'releasedCents', 'consumedCents', 'status'])
    .where('bookingId', '=', bookingId)
    .orderBy('amountCents', 'desc')
    .execute();
}

describe('credit reservations', () => {
  it('reserve the oldest expiry first, once per booking, and the balance stays the sum of the ledger', async () => {
    const studentId = await createUser(database);
    const later = await grantCredit(database, studentId, 3000, inDays(200));
    const soonest = await grantCredit(database, studentId, 5000, inDays(30));
    await grantCredit(database, studentId, 2000, inDays(300));
    const bookingId = await confirmedBooking(database, studentId);

    const first = await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId, maxCents: 6000, now: NOW }));
    expect(first).toEqual({ reservedCents: 6000, replayed: false });
    expect(await reservationsOf(bookingId)).toEqual([
      { lotId: soonest, amountCents: 5000, releasedCents: 0, consumedCents: 0, status: 'held' },
      { lotId: later, amountCents: 1000, releasedCents: 0, consumedCents: 0, status: 'held' },
    ]);

    const entriesBefore = await ledgerCount(studentId);
    const again = await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId, maxCents: 9000, now: NOW }));
    expect(again).toEqual({ reservedCents: 6000, replayed: true });
    expect(await ledgerCount(studentId)).toBe(entriesBefore);

    const balance = await getCreditBalance(database.db, studentId, NOW);
    expect(balance).toMatchObject({ availableCents: 4000, reservedCents: 6000, balanceCents: 10_000, expiringSoonCents: 0 });
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({
      balanceCents: 10_000,
      availableCents: 4000,
      reservedCents: 6000,
    });
  });

  it('reserve only what exists when asked for more, and refuse bad input without changing anything', async () => {
    const studentId = await createUser(database);
    const otherStudent = await createUser(database);
    await grantCredit(database, studentId, 2500, inDays(100));
    const bookingId = await confirmedBooking(database, studentId);
    const second = await confirmedBooking(database, studentId);
    const someoneElses = await confirmedBooking(database, otherStudent);

    expect(await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId, maxCents: 100_000, now: NOW }))).toEqual({
      reservedCents: 2500,
      replayed: false,
    });
    expect(await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: second, maxCents: 5000, now: NOW }))).toEqual(
      {
        reservedCents: 0,
        replayed: false,
      },
    );

    const entries = await ledgerCount(studentId);
    const attempts: Array<[string, () => Promise<unknown>, string]> = [
      [
        'negative',
        () => inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: second, maxCents: -100, now: NOW })),
        'maxCents',
      ],
      [
        'fraction',
        () => inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: second, maxCents: 10.5, now: NOW })),
        'maxCents',
      ],
      [
        'another student’s booking',
        () => inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: someoneElses, maxCents: 100, now: NOW })),
        'bookingId',
      ],
      [
        'unknown booking',
        () => inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: 'nope', maxCents: 100, now: NOW })),
        'bookingId',
      ],
    ];
    for (const [what, attempt, field] of attempts) {
      const error = await attempt().then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, what).toBeInstanceOf(AppError);
      expect((error as AppError).field, what).toBe(field);
    }
    expect(await ledgerCount(studentId)).toBe(entries);
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 2500, availableCents: 0, reservedCents: 2500 });
  });

  it('consume at completion once, and release with the original expiry (expired credit expires on release)', async () => {
    const studentId = await createUser(database);
    const lot = await grantCredit(database, studentId, 4000, inDays(20));
    const completed = await confirmedBooking(database, studentId);
    const cancelled = await confirmedBooking(database, studentId);
    const lateCancel = await confirmedBooking(database, studentId);

    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: completed, maxCents: 1500, now: NOW }));
    expect(await inTransaction(database, (trx) => consumeReservedCredits(trx, { bookingId: completed, now: NOW }))).toEqual({
      consumedCents: 1500,
    });
    expect(await inTransaction(database, (trx) => consumeReservedCredits(trx, { bookingId: completed, now: NOW }))).toEqual({
      consumedCents: 0,
    });
    expect((await reservationsOf(completed))[0]).toMatchObject({ consumedCents: 1500, status: 'consumed' });

    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: cancelled, maxCents: 1000, now: NOW }));
    const released = await inTransaction(database, (trx) => releaseReservedCredits(trx, { bookingId: cancelled, now: NOW }));
    expect(released).toEqual({ releasedCents: 1000, expiredCents: 0, revokedCents: 0 });
    expect(await inTransaction(database, (trx) => releaseReservedCredits(trx, { bookingId: cancelled, now: NOW }))).toEqual({
      releasedCents: 0,
      expiredCents: 0,
      revokedCents: 0,
    });
    const lotRow = await database.db.selectFrom('creditLots').selectAll().where('id', '=', lot).executeTakeFirstOrThrow();
    expect(lotRow.expiresAt.toISOString()).toBe(inDays(20).toISOString());
    expect(await getCreditBalance(database.db, studentId, NOW)).toMatchObject({
      availableCents: 2500,
      reservedCents: 0,
      expiringSoonCents: 2500,
    });

    // Held past the lot's expiry: it did not expire while reserved, and expires the moment it comes back.
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: lateCancel, maxCents: 2500, now: NOW }));
    const afterExpiry = inDays(25);
    expect(await getCreditBalance(database.db, studentId, afterExpiry)).toMatchObject({ availableCents: 0, reservedCents: 2500 });
    expect(await inTransaction(database, (trx) => releaseReservedCredits(trx, { bookingId: lateCancel, now: afterExpiry }))).toEqual({
      releasedCents: 2500,
      expiredCents: 2500,
      revokedCents: 0,
    });
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 0, availableCents: 0, reservedCents: 0 });
  });

  it('release part of a reservation, giving back the longest-lived credit first', async () => {
    const studentId = await createUser(database);
    const shortLived = await grantCredit(database, studentId, 2000, inDays(10));
    const longLived = await grantCredit(database, studentId, 2000, inDays(300));
    const bookingId = await confirmedBooking(database, studentId);
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId, maxCents: 4000, now: NOW }));

    expect(await inTransaction(database, (trx) => releaseReservedCredits(trx, { bookingId, now: NOW, amountCents: 2500 }))).toMatchObject({
      releasedCents: 2500,
    });
    const rows = await reservationsOf(bookingId);
    expect(rows.find((row) => row.lotId === longLived)).toMatchObject({ releasedCents: 2000, status: 'released' });
    expect(rows.find((row) => row.lotId === shortLived)).toMatchObject({ releasedCents: 500, status: 'held' });
    expect(await inTransaction(database, (trx) => consumeReservedCredits(trx, { bookingId, now: NOW }))).toEqual({ consumedCents: 1500 });
    expect((await reservationsOf(bookingId)).find((row) => row.lotId === shortLived)).toMatchObject({ status: 'settled' });
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 2500, availableCents: 2500, reservedCents: 0 });
  });
});

describe('penalty settlement', () => {
  it('releases all of a smaller reservation and issues the rest of the target as new credit for a year', async () => {
    const studentId = await createUser(database);
    const lot = await grantCredit(database, studentId, 3000, inDays(40));
    const bookingId = await confirmedBooking(database, studentId, { lessonPriceCents: 10_000 });
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId, maxCents: 10_000, now: NOW }));

    const outcome = await inTransaction(database, (trx) =>
      settleCreditsForPenalty(trx, { bookingId, studentId, targetCents: 10_000, now: NOW }),
    );
    expect(outcome).toEqual({ releasedCents: 3000, issuedCents: 7000, consumedCents: 0, replayed: false });
    const lots = await database.db.selectFrom('creditLots').selectAll().where('userId', '=', studentId).orderBy('id').execute();
    expect(lots.find((row) => row.id === lot)).toMatchObject({ availableCents: 3000, reservedCents: 0 });
    const issued = lots.find((row) => row.source === 'cancellation');
    expect(issued).toMatchObject({ originalCents: 7000, availableCents: 7000, originBookingId: bookingId });
    expect(issued?.expiresAt.toISOString()).toBe('2032-01-01T12:00:00.000Z');

    const entries = await ledgerCount(studentId);
    expect(
      await inTransaction(database, (trx) => settleCreditsForPenalty(trx, { bookingId, studentId, targetCents: 10_000, now: NOW })),
    ).toEqual({
      releasedCents: 3000,
      issuedCents: 7000,
      consumedCents: 0,
      replayed: true,
    });
    expect(await ledgerCount(studentId)).toBe(entries);
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({
      balanceCents: 10_000,
      availableCents: 10_000,
      reservedCents: 0,
    });
  });

  it('releases only the target of a larger reservation and consumes the rest (< 12 h: 50% of LP)', async () => {
    const studentId = await createUser(database);
    await grantCredit(database, studentId, 8000, inDays(40));
    const bookingId = await confirmedBooking(database, studentId, { lessonPriceCents: 10_000 });
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId, maxCents: 10_000, now: NOW }));

    const outcome = await inTransaction(database, (trx) =>
      settleCreditsForPenalty(trx, { bookingId, studentId, targetCents: 5000, now: NOW }),
    );
    expect(outcome).toEqual({ releasedCents: 5000, issuedCents: 0, consumedCents: 3000, replayed: false });
    expect(
      await database.db
        .selectFrom('creditLots')
        .select('id')
        .where('userId', '=', studentId)
        .where('source', '=', 'cancellation')
        .execute(),
    ).toEqual([]);
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 5000, availableCents: 5000, reservedCents: 0 });
    const refused = await inTransaction(database, (trx) =>
      settleCreditsForPenalty(trx, { bookingId, studentId, targetCents: -1, now: NOW }),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
  });
});

describe('the credits.expire job', () => {
  it('expires unreserved credit past its year, leaves reserved credit alone, and replays per slot', async () => {
    const clock = fixedClock(NOW);
    const studentId = await createUser(database);
    const granted = new Date(NOW.getTime() - 355 * DAY_MS);
    // Issued a year before it expires, 10 days from "now"
    await grantCredit(database, studentId, 1200, inDays(10), { now: granted });
    await grantCredit(database, studentId, 800, inDays(10), { now: granted });
    await grantCredit(database, studentId, 500, inDays(200));
    const bookingId = await confirmedBooking(database, studentId);
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId, maxCents: 800, now: clock.now() }));
    const reservedLots = await reservationsOf(bookingId);
    expect(reservedLots.reduce((sum, row) => sum + row.amountCents, 0)).toBe(800);
    expect(await getCreditBalance(database.db, studentId, clock.now())).toMatchObject({ availableCents: 1700, expiringSoonCents: 1200 });

    clock.advance(11 * DAY_MS);
    const handler = createCoreHandlers()['credits.expire'];
    const slot = clock.now().toISOString();
    const context = {
      clock,
      effect: (effect: string, perform: Parameters<typeof performEffect>[2]) =>
        performEffect(database.db, { jobName: 'credits.expire', jobKey: `credit-expiry@${slot}`, jobId: null, effect }, perform),
    } as unknown as JobContext;
    const run = { schedule: 'credit-expiry', slot };
    const first = (await handler?.(database.db, run, context)) as { expiredCents: number; replayed: boolean };
    expect(first.replayed).toBe(false);
    // (other tests' students in this database have expired credit too)
    expect(first.expiredCents).toBeGreaterThanOrEqual(1200);
    expect(await handler?.(database.db, run, context)).toMatchObject({ replayed: true });

    // 1200 expired, 800 still held (it does not expire while reserved), 500 untouched.
    expect(await getCreditBalance(database.db, studentId, clock.now())).toMatchObject({
      availableCents: 500,
      reservedCents: 800,
      balanceCents: 1300,
    });
    const expiries = await database.db
      .selectFrom('creditLedger')
      .select(['lotId', 'availableDeltaCents'])
      .where('userId', '=', studentId)
      .where('kind', '=', 'expire')
      .execute();
    expect(expiries.reduce((sum, row) => sum + row.availableDeltaCents, 0)).toBe(-1200);

    // Released after its expiry: gone at once, and the balance still equals the ledger.
    expect(await inTransaction(database, (trx) => releaseReservedCredits(trx, { bookingId, now: clock.now() }))).toEqual({
      releasedCents: 800,
      expiredCents: 800,
      revokedCents: 0,
    });
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 500, availableCents: 500, reservedCents: 0 });
  });
});
