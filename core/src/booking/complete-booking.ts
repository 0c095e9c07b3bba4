import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/record-audit.ts';
import { afterLessonCompleted } from '../credits/index.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import { type BookingCaller, eventActor } from './booking-deps.ts';
import { changeBooking, staffMay } from './booking-change.ts';
import { insertBookingEvents, updateBooking } from './booking.queries.ts';

/**
 * The instructor (or staff with bookings:manage:any) marks a confirmed lesson complete once it has
 * started. The student's reserved credits are spent and loyalty/referrals counted now (credits'
 * afterLessonCompleted); the card is still captured at end + 24h (the no-show window).
 */
export async function completeBooking(
  db: Kysely<DB>,
  caller: BookingCaller,
  id: string,
  deps: { clock: Clock; jobs?: Pick<JobQueue, 'send'> },
): Promise<{ bookingId: string; instructorId: string }> {
  const { principal } = caller;
  return changeBooking(
    db,
    principal,
    id,
    (relation) => relation === 'instructor' || (relation === 'staff' && staffMay(principal, 'bookings:manage:any')),
    async (trx, row) => {
      const now = deps.clock.now();
      if (row.status !== 'confirmed')
        throw new AppError(
          'conflict',
          `Only a confirmed lesson can be marked complete; this one is ${row.status.replace('_', ' ')}.`,
          'id',
        );
      if (now < row.startsAt) throw new AppError('validation_error', 'A lesson can be marked complete once it has started.', 'id');
      await updateBooking(trx, id, { status: 'completed', completedAt: now, updatedAt: now });
      await insertBookingEvents(trx, id, [{ type: 'completed' }], eventActor(principal), now);
      await afterLessonCompleted(trx, {
        bookingId: id,
        studentId: row.studentId,
        instructorId: row.instructorId,
        lessonPriceCents: row.lessonPriceCents,
        now,
        ...(deps.jobs ? { jobs: deps.jobs } : {}),
      });
      await recordAudit(trx, caller, {
        action: 'booking.complete',
        resourceType: 'booking',
        resourceId: id,
        before: { status: row.status },
        after: { status: 'completed' },
      });
      return { bookingId: id, instructorId: row.instructorId };
    },
  );
}
