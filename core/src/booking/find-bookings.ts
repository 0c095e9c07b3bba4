import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { requireUser, type Principal } from '../auth/principal.ts';
import type { Clock } from '../shared/clock.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { type BookingStatus, type BookingView, toBookingView } from './booking.ts';
import { selectBookingPage } from './booking.queries.ts';

export interface BookingListQuery {
  /** Lessons you take (`student`) or teach (`instructor`). */
  role: 'student' | 'instructor';
  when?: 'upcoming' | 'past' | undefined;
  status?: readonly BookingStatus[] | undefined;
  limit: number;
  cursor?: string | undefined;
}

const Cursor = z.object({ startsAt: z.string(), id: z.string() });

/** The signed-in user's bookings as student or instructor, a page at a time. */
export async function findBookings(
  db: Kysely<DB>,
  principal: Principal,
  query: BookingListQuery,
  deps: { clock: Clock },
): Promise<Page<BookingView>> {
  const userId = requireUser(principal).userId;
  const rows = await selectBookingPage(db, {
    role: query.role,
    userId,
    when: query.when,
    statuses: query.status,
    now: deps.clock.now(),
    limit: query.limit,
    after: decodeCursor(query.cursor, Cursor),
  });
  return toPage(
    rows,
    query.limit,
    (row) => toBookingView(row, userId),
    (row) => ({ startsAt: row.startsAt.toISOString(), id: row.id }),
  );
}
