import type { Bookings, DB } from '@instainstru/db';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Principal } from '../auth/principal.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { accessOf } from './booking-deps.ts';
import { lockBooking, selectVisibleBooking } from './booking.queries.ts';

/** How the caller stands to a booking. */
export type Relation = 'student' | 'instructor' | 'staff';

/** The caller's relation to a booking row (staff: neither party, but allowed to read any). */
export function relationTo(principal: Principal, row: { studentId: string; instructorId: string }): Relation {
  if (principal.kind === 'user' && principal.userId === row.studentId) return 'student';
  if (principal.kind === 'user' && principal.userId === row.instructorId) return 'instructor';
  return 'staff';
}

/**
 * Runs a state change on one booking inside a transaction, with the row locked (one change per
 * booking at a time). Bookings the caller may not see are 404; `allowed` decides which
 * relations may make this change (403 for the rest, who could already see the booking).
 */
export async function changeBooking<T>(
  db: Kysely<DB>,
  principal: Principal,
  id: string,
  allowed: (relation: Relation) => boolean,
  change: (trx: Transaction<DB>, row: Selectable<Bookings>, relation: Relation) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const visible = await selectVisibleBooking(trx, id, accessOf(principal));
    if (!visible) throw notFound('Booking', 'id');
    const row = await lockBooking(trx, id);
    if (!row) throw notFound('Booking', 'id');
    const relation = relationTo(principal, row);
    if (!allowed(relation)) throw new AppError('forbidden', 'You cannot make this change to this booking.');
    return change(trx, row, relation);
  });
}

/** Staff acting on any booking need this permission beyond reading it. */
export function staffMay(principal: Principal, permission: string): boolean {
  return principal.permissions.has(permission);
}
