import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  afterBookingRefunded,
  afterLessonCompleted,
  consumeReservedCredits,
  getCreditBalance,
  loyaltyAwardCents,
  releaseReservedCredits,
  reserveCredits,
} from '../src/credits/index.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { confirmedBooking, DAY_MS, expectLedgerConsistent, grantCredit, inTransaction } from './credits-helpers.ts';
import { createUser } from './support/factories.ts';

let database: TestDatabase;
const START = new Date('2031-06-01T12:00:00Z');

beforeAll(async () => {
  database = await createTestDatabase({ ...process.env, DB_POOL_MAX: '12' });
});

afterAll(async () => {
  await database?.cleanup();
});

/** Completes `count` lessons of the student one by one (a day apart) and returns their booking ids. */
async function completeLessons(studentId: string, count: number, clock: ReturnType<typeof fixedClock>): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    clock.advance(DAY_MS);
    const bookingId = await confirmedBooking(database, studentId, { status: 'completed' });
    const booking = await database.db
      .selectFrom('bookings')
      .select(['instructorId', 'lessonPriceCents'])
      .where('id', '=', bookingId)
      .executeTakeFirstOrThrow();
    await inTransaction(database, (trx) =>
      afterLessonCompleted(trx, {
        bookingId,
        studentId,
        instructorId: booking.instructorId,
        lessonPriceCents: booking.lessonPriceCents,
        now: clock.now(),
      }),
    );
    ids.push(bookingId);
  }
  return ids;
}

async function awardsOf(studentId: string) {
  return database.db
    .selectFrom('loyaltyAwards')
    .select(['lessonNumber', 'amountCents', 'status', 'revokedCents', 'unrecoveredCents', 'lotId', 'bookingId'])
    .where('studentId', '=', studentId)
    .orderBy('lessonNumber')
    .execute();
}

describe('loyalty credit: $10 on the 5th and $20 on the 11th of every 11 completed lessons', () => {
  it.each([
    [1, 0],
    [4, 0],
    [5, 1000],
    [6, 0],
    [10, 0],
    [11, 2000],
    [12, 0],
    [16, 1000],
    [21, 0],
    [22, 2000],
    [27, 1000],
    [33, 2000],
    [0, 0],
    [-5, 0],
  ])('lesson %i earns %i cents', (lessonNumber, cents) => {
    expect(loyaltyAwardCents(lessonNumber)).toBe(cents);
  });

  it('grants credit on lessons 5, 11 and 16, each lesson counted once', async () => {
    const clock = fixedClock(START);
    const studentId = await createUser(database);
    const lessons = await completeLessons(studentId, 16, clock);

    const awards = await awardsOf(studentId);
    expect(awards.map((award) => [award.lessonNumber, award.amountCents, award.bookingId])).toEqual([
      [5, 1000, lessons[4]],
      [11, 2000, lessons[10]],
      [16, 1000, lessons[15]],
    ]);
    const lots = await database.db
      .selectFrom('creditLots')
      .selectAll()
      .where('userId', '=', studentId)
      .where('source', '=', 'loyalty')
      .orderBy('createdAt')
      .execute();
    expect(lots.map((lot) => lot.originalCents)).toEqual([1000, 2000, 1000]);
    // a year after the lesson that earned it (lesson 5 completed on day 5)
    expect(lots[0]!.expiresAt.toISOString()).toBe('2032-06-06T12:00:00.000Z');

    // completing the 5th lesson again (a retried capture) changes nothing
    const booking = await database.db
      .selectFrom('bookings')
      .select(['instructorId'])
      .where('id', '=', lessons[4]!)
      .executeTakeFirstOrThrow();
    const again = await inTransaction(database, (trx) =>
      afterLessonCompleted(trx, {
        bookingId: lessons[4]!,
        studentId,
        instructorId: booking.instructorId,
        lessonPriceCents: 9000,
        now: clock.now(),
      }),
    );
    expect(again.loyalty).toEqual({ lessonNumber: 5, awardedCents: 1000, lotId: lots[0]!.id, replayed: true });
    expect(await getCreditBalance(database.db, studentId, clock.now())).toMatchObject({ availableCents: 4000 });
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 4000, availableCents: 4000, reservedCents: 0 });
  });

  it('numbers lessons completed at the same moment without gaps or duplicates', async () => {
    const studentId = await createUser(database);
    const bookings: Array<{ id: string; instructorId: string }> = [];
    for (let index = 0; index < 11; index += 1) {
      const id = await confirmedBooking(database, studentId, { status: 'completed' });
      const row = await database.db.selectFrom('bookings').select('instructorId').where('id', '=', id).executeTakeFirstOrThrow();
      bookings.push({ id, instructorId: row.instructorId });
    }
    await Promise.all(
      bookings.map((booking) =>
        inTransaction(database, (trx) =>
          afterLessonCompleted(trx, {
            bookingId: booking.id,
            studentId,
            instructorId: booking.instructorId,
            lessonPriceCents: 9000,
            now: START,
          }),
        ),
      ),
    );
    const numbers = await database.db
      .selectFrom('loyaltyLessons')
      .select('lessonNumber')
      .where('studentId', '=', studentId)
      .orderBy('lessonNumber')
      .execute();
    expect(numbers.map((row) => row.lessonNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect((await awardsOf(studentId)).map((award) => [award.lessonNumber, award.amountCents])).toEqual([
      [5, 1000],
      [11, 2000],
    ]);
  });

  it('revokes the award of a refunded lesson: unspent credit now, held credit on release, spent credit stays spent', async () => {
    const clock = fixedClock(START);
    const studentId = await createUser(database);
    const lessons = await completeLessons(studentId, 11, clock);
    const [fifth, eleventh] = await awardsOf(studentId);

    // Spend $15: FIFO takes the $10 of lesson 5, then $5 of lesson 11's $20; then hold $5 more.
    const spent = await confirmedBooking(database, studentId);
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: spent, maxCents: 1500, now: clock.now() }));
    await inTransaction(database, (trx) => consumeReservedCredits(trx, { bookingId: spent, now: clock.now() }));
    const upcoming = await confirmedBooking(database, studentId);
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: upcoming, maxCents: 500, now: clock.now() }));
    expect(await getCreditBalance(database.db, studentId, clock.now())).toMatchObject({ availableCents: 1000, reservedCents: 500 });

    const refund = await inTransaction(database, (trx) => afterBookingRefunded(trx, { bookingId: lessons[10]!, now: clock.now() }));
    expect(refund.loyalty).toEqual({ revokedCents: 1000, stillReservedCents: 500, unrecoveredCents: 500 });
    expect(await getCreditBalance(database.db, studentId, clock.now())).toMatchObject({ availableCents: 0, reservedCents: 500 });

    // The held $5 comes back revoked when that booking is cancelled.
    expect(await inTransaction(database, (trx) => releaseReservedCredits(trx, { bookingId: upcoming, now: clock.now() }))).toEqual({
      releasedCents: 500,
      expiredCents: 0,
      revokedCents: 500,
    });

    // Lesson 5's $10 was spent entirely: nothing to take back, recorded as unrecovered.
    const fifthRefund = await inTransaction(database, (trx) => afterBookingRefunded(trx, { bookingId: lessons[4]!, now: clock.now() }));
    expect(fifthRefund.loyalty).toEqual({ revokedCents: 0, stillReservedCents: 0, unrecoveredCents: 1000 });
    // a second refund notice changes nothing
    expect(
      (await inTransaction(database, (trx) => afterBookingRefunded(trx, { bookingId: lessons[4]!, now: clock.now() }))).loyalty,
    ).toBeNull();

    expect(
      (await awardsOf(studentId)).map((award) => [award.lessonNumber, award.status, award.revokedCents, award.unrecoveredCents]),
    ).toEqual([
      [fifth!.lessonNumber, 'revoked', 0, 1000],
      [eleventh!.lessonNumber, 'revoked', 1000, 500],
    ]);
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 0, availableCents: 0, reservedCents: 0 });
  });

  it('a refunded lesson gives back the credit it used: held credit released, consumed credit re-issued once', async () => {
    const clock = fixedClock(START);
    const studentId = await createUser(database);
    await grantCredit(database, studentId, 3000, new Date(START.getTime() + 100 * DAY_MS), { now: START });
    const held = await confirmedBooking(database, studentId);
    const completed = await confirmedBooking(database, studentId, { status: 'completed' });
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: held, maxCents: 1000, now: clock.now() }));
    await inTransaction(database, (trx) => reserveCredits(trx, { studentId, bookingId: completed, maxCents: 2000, now: clock.now() }));
    const instructor = await database.db
      .selectFrom('bookings')
      .select('instructorId')
      .where('id', '=', completed)
      .executeTakeFirstOrThrow();
    await inTransaction(database, (trx) =>
      afterLessonCompleted(trx, {
        bookingId: completed,
        studentId,
        instructorId: instructor.instructorId,
        lessonPriceCents: 9000,
        now: clock.now(),
      }),
    );
    expect(await getCreditBalance(database.db, studentId, clock.now())).toMatchObject({
      availableCents: 0,
      reservedCents: 1000,
      balanceCents: 1000,
    });

    const heldRefund = await inTransaction(database, (trx) => afterBookingRefunded(trx, { bookingId: held, now: clock.now() }));
    expect(heldRefund).toMatchObject({ released: { releasedCents: 1000 }, reissuedCents: 0 });
    const completedRefund = await inTransaction(database, (trx) => afterBookingRefunded(trx, { bookingId: completed, now: clock.now() }));
    expect(completedRefund).toMatchObject({ released: { releasedCents: 0 }, reissuedCents: 2000 });
    expect(
      (await inTransaction(database, (trx) => afterBookingRefunded(trx, { bookingId: completed, now: clock.now() }))).reissuedCents,
    ).toBe(0);

    const reissued = await database.db
      .selectFrom('creditLots')
      .selectAll()
      .where('userId', '=', studentId)
      .where('source', '=', 'reissue')
      .execute();
    expect(reissued).toHaveLength(1);
    expect(reissued[0]!.expiresAt.toISOString()).toBe(new Date(START.getTime() + 100 * DAY_MS).toISOString());
    expect(await expectLedgerConsistent(database.db, studentId)).toEqual({ balanceCents: 3000, availableCents: 3000, reservedCents: 0 });
  });
});
