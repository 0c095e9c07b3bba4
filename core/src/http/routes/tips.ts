import { z } from 'zod';
import { notFound } from '../../shared/errors.ts';
import { createReview, getReviewOfBooking, type LessonReview, REVIEW_RULES } from '../../tips/index.ts';
import type { ApiDeps } from '../deps.ts';
import { idempotency, idempotencyKeyHeaders } from '../idempotency.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';

const BookingIdParams = z.object({ id: z.string().min(1).max(64).describe('Booking id') }).strict();

export const CreateReviewBody = z
  .object({
    rating: z.number().int().min(1).max(5).describe('1 to 5 stars'),
    comment: z.string().trim().max(2000).optional(),
    tipCents: z
      .number()
      .int()
      .min(0)
      .max(REVIEW_RULES.maxTipCents)
      .optional()
      .describe('A tip for the instructor, charged separately to your saved card; 100% goes to the instructor ($1–$500)'),
    currency: z.string().max(8).optional().describe('Only "usd" is accepted'),
  })
  .strict();

const ReviewSchema = z
  .object({
    id: z.string(),
    bookingId: z.string(),
    rating: z.number().int(),
    comment: z.string().nullable(),
    createdAt: z.string(),
    tip: z
      .object({
        id: z.string(),
        amountCents: z.number().int(),
        status: z
          .enum(['pending', 'charged', 'transferred', 'failed'])
          .describe('pending → charged → transferred, or failed (the review stays)'),
        failureCode: z.string().nullable(),
        failureMessage: z.string().nullable(),
        chargedAt: z.string().nullable(),
        transferredAt: z.string().nullable(),
        provider: z.enum(['stripe', 'offline']),
        offline: z.boolean().describe('True when no real money moves (the embedded offline provider)'),
      })
      .nullable(),
  })
  .meta({ id: 'LessonReview' });

function toReviewResponse(review: LessonReview) {
  return {
    ...review,
    createdAt: review.createdAt.toISOString(),
    tip: review.tip
      ? {
          ...review.tip,
          chargedAt: review.tip.chargedAt?.toISOString() ?? null,
          transferredAt: review.tip.transferredAt?.toISOString() ?? null,
        }
      : null,
  };
}

/** Reviewing a lesson you took, with an optional tip. */
export function tipRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'post',
      path: '/bookings/:id/review',
      operationId: 'reviewBooking',
      summary: 'Review a completed lesson (once, within 30 days; not for no-shows), optionally with a tip',
      tags: ['bookings', 'reviews'],
      auth: { permission: 'reviews:create' },
      params: BookingIdParams,
      headers: idempotencyKeyHeaders(),
      body: CreateReviewBody,
      rateLimit: 'payment',
      responses: { 201: { description: 'The review; a tip is charged and paid out in the background', schema: ReviewSchema } },
    },
    requirePermission('reviews:create'),
    idempotency(deps),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      const body = CreateReviewBody.parse(req.body);
      const review = await createReview(db, req.auditContext, id, body, deps);
      res.status(201).json(toReviewResponse(review));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/bookings/:id/review',
      operationId: 'getBookingReview',
      summary: 'The review of a lesson and the state of its tip',
      tags: ['bookings', 'reviews'],
      auth: { permission: 'bookings:read:own' },
      params: BookingIdParams,
      responses: { 200: { description: 'The review', schema: ReviewSchema } },
    },
    requirePermission('bookings:read:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      const review = await getReviewOfBooking(db, req.auditContext, id);
      if (!review) throw notFound('Review', 'id');
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(toReviewResponse(review));
    },
  );
}
