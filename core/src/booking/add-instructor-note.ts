import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import type { Clock } from '../shared/clock.ts';
import { type BookingCaller, eventActor } from './booking-deps.ts';
import { changeBooking } from './booking-change.ts';
import { insertBookingEvents, updateBooking } from './booking.queries.ts';

/** The instructor's teaching note on a lesson (replaces the previous one; null clears it). */
export async function addInstructorNote(
  db: Kysely<DB>,
  caller: BookingCaller,
  id: string,
  input: { note: string | null },
  deps: { clock: Clock },
): Promise<{ bookingId: string }> {
  const { principal } = caller;
  return changeBooking(
    db,
    principal,
    id,
    (relation) => relation === 'instructor',
    async (trx, row) => {
      const now = deps.clock.now();
      await updateBooking(trx, id, { instructorNote: input.note, updatedAt: now });
      await insertBookingEvents(
        trx,
        id,
        [{ type: 'instructor_note_updated', data: { length: input.note?.length ?? 0 } }],
        eventActor(principal),
        now,
      );
      await recordAudit(trx, caller, {
        action: 'booking.instructor_note',
        resourceType: 'booking',
        resourceId: id,
        before: { hadNote: row.instructorNote !== null },
        after: { hasNote: input.note !== null },
      });
      return { bookingId: id };
    },
  );
}
