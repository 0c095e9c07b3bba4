import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import type { AuditContext } from '../audit/record-audit.ts';
import { notFound } from '../shared/errors.ts';

export type TipStatus = 'pending' | 'charged' | 'transferred' | 'failed';

export interface LessonReview {
  id: string;
  bookingId: string;
  rating: number;
  comment: string | null;
  createdAt: Date;
  tip: {
    id: string;
    amountCents: number;
    status: TipStatus;
    failureCode: string | null;
    failureMessage: string | null;
    chargedAt: Date | null;
    transferredAt: Date | null;
    provider: 'stripe' | 'offline';
    offline: boolean;
  } | null;
}

/**
 * The review of a booking with its tip's payment state, for the booking's student and instructor
 * (and staff who may read any booking). Others get 404; no review yet is undefined.
 */
export async function getReviewOfBooking(db: Kysely<DB>, caller: AuditContext, bookingId: string): Promise<LessonReview | undefined> {
  const principal = caller.principal;
  const booking = await db.selectFrom('bookings').select(['studentId', 'instructorId']).where('id', '=', bookingId).executeTakeFirst();
  const userId = principal.kind === 'user' ? principal.userId : null;
  const mayRead =
    booking && (booking.studentId === userId || booking.instructorId === userId || principal.permissions.has('bookings:read:any'));
  if (!mayRead) throw notFound('Booking', 'id');
  const review = await db.selectFrom('reviews').selectAll().where('bookingId', '=', bookingId).executeTakeFirst();
  if (!review) return undefined;
  const tip = await db.selectFrom('tips').selectAll().where('reviewId', '=', review.id).executeTakeFirst();
  return {
    id: review.id,
    bookingId,
    rating: review.rating,
    comment: review.comment,
    createdAt: review.createdAt,
    tip: tip
      ? {
          id: tip.id,
          amountCents: tip.amountCents,
          status: tip.status as TipStatus,
          failureCode: tip.failureCode,
          failureMessage: tip.failureMessage,
          chargedAt: tip.chargedAt,
          transferredAt: tip.transferredAt,
          provider: tip.provider as 'stripe' | 'offline',
          offline: tip.provider === 'offline',
        }
      : null,
  };
}
