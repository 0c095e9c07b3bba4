import { type DB, newId } from '@instainstru/db';
import type { Kysely, Transaction } from 'kysely';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import { requireUser } from '../auth/principal.ts';
import { insertBookingEvents } from '../booking/booking.queries.ts';
import { addDays } from '../credits/credit-config.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { PaymentProvider } from '../payments/provider.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, notFound } from '../shared/errors.ts';
import { type LessonReview, getReviewOfBooking } from './get-review.ts';

/** Review and tip rules (search.md §Rank quality; payments.md §Tips). */
export const REVIEW_RULES = Object.freeze({
  /** "within 30 days of the lesson" (from its end) */
  windowDays: 30,
  minTipCents: 100,
  maxTipCents: 50_000,
  currency: 'usd' as const,
});

export interface NewReview {
  rating: number;
  comment?: string | undefined;
  tipCents?: number | undefined;
  currency?: string | undefined;
}

/**
 * The student reviews a completed lesson (1–5 stars, optional comment), optionally with a tip.
 * One review per booking, within 30 days of the lesson's end, never for a lesson reported as a
 * no-show. The tip is a separate card payment with the student's default saved card, charged and
 * then transferred in full to the instructor by the 'tips.process-payment' job after this
 * transaction commits — a declined tip never loses the review.
 */
export async function createReview(
  db: Kysely<DB>,
  caller: AuditContext,
  bookingId: string,
  input: NewReview,
  deps: { clock: Clock; jobs: Pick<JobQueue, 'send'>; payments: Pick<PaymentProvider, 'name' | 'offline'> },
): Promise<LessonReview> {
  const { userId } = requireUser(caller.principal);
  if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5) {
    throw new AppError('validation_error', 'Give a rating from 1 to 5 stars.', 'rating');
  }
  if (input.currency !== undefined && input.currency.toLowerCase() !== REVIEW_RULES.currency) {
    throw new AppError('validation_error', `Tips are paid in USD; "${input.currency}" is not accepted.`, 'currency');
  }
  const tipCents = input.tipCents ?? 0;
  if (tipCents !== 0 && (!Number.isSafeInteger(tipCents) || tipCents < REVIEW_RULES.minTipCents || tipCents > REVIEW_RULES.maxTipCents)) {
    throw new AppError('validation_error', 'A tip is between $1.00 and $500.00, in whole cents.', 'tipCents');
  }

  await db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const booking = await trx
      .selectFrom('bookings as b')
      .leftJoin('bookingPayments as p', 'p.bookingId', 'b.id')
      .select(['b.id', 'b.studentId', 'b.instructorId', 'b.status', 'b.endsAt', 'p.noShowState'])
      .where('b.id', '=', bookingId)
      .forUpdate('b')
      .executeTakeFirst();
    // Other people's bookings look missing (R10); the instructor of the lesson may not review it.
    if (!booking || (booking.studentId !== userId && booking.instructorId !== userId)) throw notFound('Booking', 'id');
    if (booking.studentId !== userId) throw new AppError('forbidden', 'Only the student who took a lesson can review it.');
    if (booking.status === 'no_show' || (booking.noShowState !== null && booking.noShowState !== 'rejected')) {
      throw new AppError('conflict', 'A lesson reported as a no-show cannot be reviewed.', 'id');
    }
    if (booking.status !== 'completed') throw new AppError('conflict', 'You can review a lesson once it is completed.', 'id');
    if (now.getTime() > addDays(booking.endsAt, REVIEW_RULES.windowDays).getTime()) {
      throw new AppError('conflict', `Reviews are accepted within ${REVIEW_RULES.windowDays} days of the lesson.`, 'id');
    }
    const existing = await trx.selectFrom('reviews').select('id').where('bookingId', '=', bookingId).executeTakeFirst();
    if (existing) throw new AppError('already_exists', 'You have already reviewed this lesson.', 'id');

    const reviewId = newId();
    await trx
      .insertInto('reviews')
      .values({
        id: reviewId,
        bookingId,
        studentId: userId,
        instructorId: booking.instructorId,
        rating: input.rating,
        comment: input.comment?.trim() || null,
        createdAt: now,
      })
      .execute();
    const events: Array<{ type: string; data?: Record<string, unknown> }> = [{ type: 'reviewed', data: { rating: input.rating } }];
    let tip: { id: string; amountCents: number } | null = null;
    if (tipCents > 0) {
      tip = await insertTip(
        trx,
        { reviewId, bookingId, studentId: userId, instructorId: booking.instructorId, amountCents: tipCents, now },
        deps,
      );
      events.push({ type: 'tip_added', data: { tipId: tip.id, amountCents: tipCents } });
      await deps.jobs.send(trx, 'tips.process-payment', { tipId: tip.id });
    }
    await insertBookingEvents(trx, bookingId, events, { type: 'user', id: userId }, now);
    await recordAudit(trx, caller, {
      action: 'review.create',
      resourceType: 'booking',
      resourceId: bookingId,
      after: { reviewId, rating: input.rating, tip },
    });
  });
  const review = await getReviewOfBooking(db, caller, bookingId);
  if (!review) throw notFound('Review', 'id');
  return review;
}

async function insertTip(
  trx: Transaction<DB>,
  input: { reviewId: string; bookingId: string; studentId: string; instructorId: string; amountCents: number; now: Date },
  deps: { payments: Pick<PaymentProvider, 'name'> },
): Promise<{ id: string; amountCents: number }> {
  const card = await trx
    .selectFrom('paymentMethods')
    .select(['id'])
    .where('userId', '=', input.studentId)
    .where('provider', '=', deps.payments.name)
    .where('detachedAt', 'is', null)
    .orderBy('isDefault', 'desc')
    .orderBy('createdAt', 'desc')
    .executeTakeFirst();
  const customer = await trx
    .selectFrom('paymentCustomers')
    .select('customerId')
    .where('userId', '=', input.studentId)
    .where('provider', '=', deps.payments.name)
    .executeTakeFirst();
  if (!card || !customer) throw new AppError('validation_error', 'Add a card to your account to leave a tip.', 'tipCents');
  const payout = await trx
    .selectFrom('instructorProfiles')
    .select(['stripeAccountId', 'payoutsEnabled'])
    .where('userId', '=', input.instructorId)
    .executeTakeFirst();
  if (!payout?.stripeAccountId || !payout.payoutsEnabled) {
    throw new AppError(
      'validation_error',
      'This instructor cannot receive tips yet; your review can still be posted without one.',
      'tipCents',
    );
  }
  const id = newId();
  await trx
    .insertInto('tips')
    .values({
      id,
      bookingId: input.bookingId,
      reviewId: input.reviewId,
      studentId: input.studentId,
      instructorId: input.instructorId,
      amountCents: input.amountCents,
      provider: deps.payments.name,
      paymentMethodId: card.id,
      customerId: customer.customerId,
      destinationAccountId: payout.stripeAccountId,
      status: 'pending',
      createdAt: input.now,
      updatedAt: input.now,
    })
    .execute();
  return { id, amountCents: input.amountCents };
}
