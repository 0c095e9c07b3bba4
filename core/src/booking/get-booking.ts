import type { DB } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import type { Principal } from '../auth/principal.ts';
import { notFound } from '../shared/errors.ts';
import { accessOf } from './booking-deps.ts';
import { type BookingView, toBookingView } from './booking.ts';
import { type BookingRow, selectBookingEvents, selectVisibleBooking } from './booking.queries.ts';

/** A booking the principal may see, or 404 (other people's bookings look missing). */
export async function getBookingRow(db: Kysely<DB> | Transaction<DB>, principal: Principal, id: string): Promise<BookingRow> {
  const row = await selectVisibleBooking(db, id, accessOf(principal));
  if (!row) throw notFound('Booking', 'id');
  return row;
}

/** One booking as its viewer may see it, with its timeline. */
export async function getBooking(
  db: Kysely<DB>,
  principal: Principal,
  id: string,
): Promise<BookingView & { events: Array<{ type: string; actorType: string; at: string }> }> {
  const row = await getBookingRow(db, principal, id);
  const events = await selectBookingEvents(db, id);
  return {
    ...toBookingView(row, principal.kind === 'user' ? principal.userId : null),
    events: events.map((event) => ({ type: event.type, actorType: event.actorType, at: event.at.toISOString() })),
  };
}
