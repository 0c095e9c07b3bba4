import { createTestDatabase, type TestDatabase, truncateAll } from '@instainstru/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHeldBooking } from '../../test/support/jobs.ts';
import { releaseExpiredHolds } from './release-expired-holds.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.cleanup();
});
beforeEach(async () => {
  await truncateAll(database);
});

const at = (iso: string) => new Date(iso);
let day = 0;
/** A held booking on its own day next month (bookings of one instructor must not overlap). */
function held(holdExpiresAt: string | null, extra: { status?: string } = {}) {
  day += 1;
  return createHeldBooking(database, {
    holdExpiresAt: holdExpiresAt ? at(holdExpiresAt) : null,
    startsAt: new Date(Date.UTC(2026, 3, 1 + (day % 28), 12 + Math.floor(day / 28))),
    ...extra,
  });
}

async function statusOf(id: string) {
  return (await database.db.selectFrom('bookings').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
}

async function eventsOf(id: string) {
  return database.db.selectFrom('bookingEvents').selectAll().where('bookingId', '=', id).execute();
}

describe('releaseExpiredHolds', () => {
  it('cancels exactly the expired holds, with an event each, and is idempotent', async () => {
    const expired = await held('2026-03-02T10:00:00Z');
    const expiredAtNow = await held('2026-03-02T10:10:00Z');
    const notYet = await held('2026-03-02T10:10:00.001Z');
    const confirmed = await held('2026-03-02T10:00:00Z', { status: 'confirmed' });
    const noHold = await held(null);
    const now = at('2026-03-02T10:10:00Z');

    const released = await releaseExpiredHolds(database.db, now);
    expect(released.map((booking) => booking.id).sort()).toEqual([expired, expiredAtNow].sort());
    for (const id of [expired, expiredAtNow]) {
      const booking = await database.db.selectFrom('bookings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(booking).toMatchObject({ status: 'cancelled', cancelledBy: 'system', cancellationReason: 'hold_expired', cancelledAt: now });
      expect(await eventsOf(id)).toMatchObject([{ type: 'hold_expired', actorType: 'system', actorId: null, at: now }]);
    }
    expect(await statusOf(notYet)).toBe('pending_payment');
    expect(await statusOf(confirmed)).toBe('confirmed');
    expect(await statusOf(noHold)).toBe('pending_payment');

    expect(await releaseExpiredHolds(database.db, now)).toEqual([]);
    expect(await eventsOf(expired)).toHaveLength(1);
  });

  it('frees the time: the slot can be booked again', async () => {
    const first = await held('2026-03-02T10:00:00Z');
    const booking = await database.db.selectFrom('bookings').selectAll().where('id', '=', first).executeTakeFirstOrThrow();
    await releaseExpiredHolds(database.db, at('2026-03-02T10:05:00Z'));
    // Same instructor, same time: the exclusion constraint no longer counts the released hold.
    await expect(
      createHeldBooking(database, {
        holdExpiresAt: at('2026-03-02T10:35:00Z'),
        startsAt: booking.startsAt,
        instructorId: booking.instructorId,
      }),
    ).resolves.toBeTruthy();
  });

  it('releases only the given bookings, oldest first up to a limit', async () => {
    const a = await held('2026-03-02T09:00:00Z');
    const b = await held('2026-03-02T09:30:00Z');
    const c = await held('2026-03-02T09:45:00Z');
    const now = at('2026-03-02T10:00:00Z');
    expect((await releaseExpiredHolds(database.db, now, { bookingIds: [b] })).map((booking) => booking.id)).toEqual([b]);
    expect(await releaseExpiredHolds(database.db, now, { bookingIds: [] })).toEqual([]);
    expect((await releaseExpiredHolds(database.db, now, { limit: 1 })).map((booking) => booking.id)).toEqual([a]);
    expect((await releaseExpiredHolds(database.db, now)).map((booking) => booking.id)).toEqual([c]);
  });

  it('joins the caller’s transaction: a rollback releases nothing', async () => {
    const id = await held('2026-03-02T09:00:00Z');
    await expect(
      database.db.transaction().execute(async (trx) => {
        expect(await releaseExpiredHolds(trx, at('2026-03-02T10:00:00Z'))).toHaveLength(1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await statusOf(id)).toBe('pending_payment');
    expect(await eventsOf(id)).toEqual([]);
  });

  it('releases each hold once when sweeps race (concurrent connections on PostgreSQL)', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 12; index += 1) ids.push(await held(`2026-03-02T09:${String(index).padStart(2, '0')}:00Z`));
    const now = at('2026-03-02T10:00:00Z');
    const results = await Promise.all(Array.from({ length: 4 }, () => releaseExpiredHolds(database.db, now)));
    expect(
      results
        .flat()
        .map((booking) => booking.id)
        .sort(),
    ).toEqual([...ids].sort());
    const events = await database.db.selectFrom('bookingEvents').select('bookingId').execute();
    expect(events).toHaveLength(12);
  });
});
