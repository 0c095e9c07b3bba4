import { z } from 'zod';
import { previewRefund, refundBookingPayment, resolveManualReview, resolveNoShow } from '../../payments/index.ts';
import type { ApiDeps } from '../deps.ts';
import { idempotency, idempotencyKeyHeaders } from '../idempotency.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';

const BookingParams = z.object({ bookingId: z.string().min(1).max(64).describe('Booking id') }).strict();
const Reason = z.string().trim().min(3).max(1000).describe('Why (kept in the audit log)');

export const RefundPreviewBody = z
  .object({
    amountCents: z.number().int().positive().optional().describe('Default: everything captured and not yet refunded'),
    toCredit: z.boolean().optional().describe('Give it back as credit (1-year expiry) instead of to the card'),
    reason: Reason.optional(),
  })
  .strict();
export const RefundBody = RefundPreviewBody.extend({ reason: Reason }).strict();

export const RefundPreviewSchema = z
  .object({
    provider: z.enum(['stripe', 'offline']),
    offline: z.boolean(),
    bookingId: z.string(),
    capturedCents: z.number().int(),
    alreadyRefundedCents: z.number().int(),
    cardRefundCents: z.number().int(),
    creditCents: z.number().int(),
    feeRefundedCents: z.number().int().describe('Of the amount, the booking-fee part (refunds take the lesson part first)'),
    instructor: z
      .object({ action: z.enum(['none', 'payout_cancelled']), amountCents: z.number().int() })
      .describe('A transferred payout is never clawed back; an owed one is cancelled by a full refund'),
    fullRefund: z.boolean(),
    wording: z.string(),
  })
  .meta({ id: 'RefundPreview' });

const RefundResultSchema = RefundPreviewSchema.extend({ refundId: z.string().nullable() }).meta({ id: 'RefundResult' });

export const ResolveManualReviewBody = z
  .object({
    action: z.enum(['retry_capture', 'mark_settled', 'refund']),
    reason: Reason,
  })
  .strict();

const ResolveResultSchema = z
  .object({
    bookingId: z.string(),
    action: z.enum(['retry_capture', 'mark_settled', 'refund']),
    result: z.string(),
    paymentStatus: z.string(),
  })
  .meta({ id: 'ManualReviewResolution' });

export const ResolveNoShowBody = z
  .object({
    outcome: z
      .enum(['confirmed', 'rejected'])
      .describe('confirmed: full refund to the student; rejected: the lesson is completed and captured'),
    reason: Reason,
  })
  .strict();

const ResolveNoShowResultSchema = z
  .object({
    bookingId: z.string(),
    outcome: z.enum(['confirmed', 'rejected']),
    settlement: z.object({ bookingId: z.string(), steps: z.array(z.string()) }),
  })
  .meta({ id: 'NoShowResolution' });

const Busy = { description: 'Another payment action on this booking is running, or the lock service is down (Retry-After)' };

/** Admin money actions: refunds with a preview, manual-review and no-show resolution (all audited, all under the money lock). */
export function adminPaymentActionRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'post',
      path: '/admin/payments/:bookingId/refund/preview',
      operationId: 'previewAdminRefund',
      summary: 'What a refund would do: card refund or credit, fee share, instructor payout',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:refund' },
      params: BookingParams,
      body: RefundPreviewBody,
      responses: { 200: { description: 'The preview (nothing moved)', schema: RefundPreviewSchema } },
    },
    requirePermission('payments:refund'),
    async (req, res) => {
      const { bookingId } = BookingParams.parse(req.params);
      const body = RefundPreviewBody.parse(req.body ?? {});
      res.json(await previewRefund(db, bookingId, { amountCents: body.amountCents, toCredit: body.toCredit }, deps));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/admin/payments/:bookingId/refund',
      operationId: 'adminRefund',
      summary: 'Refund a captured payment (to the card, or as credit), exactly as the preview says',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:refund' },
      params: BookingParams,
      headers: idempotencyKeyHeaders({ required: true }),
      body: RefundBody,
      rateLimit: 'payment',
      responses: { 200: { description: 'The refund made', schema: RefundResultSchema }, 503: Busy },
    },
    requirePermission('payments:refund'),
    idempotency(deps, { required: true }),
    async (req, res) => {
      const { bookingId } = BookingParams.parse(req.params);
      const body = RefundBody.parse(req.body);
      res.json(await refundBookingPayment(db, req.auditContext, bookingId, body, deps));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/admin/payments/:bookingId/resolve',
      operationId: 'resolveManualReview',
      summary: 'Resolve a payment in manual review: retry the capture, mark it settled, or refund it',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:refund' },
      params: BookingParams,
      headers: idempotencyKeyHeaders(),
      body: ResolveManualReviewBody,
      rateLimit: 'payment',
      responses: { 200: { description: 'What was done', schema: ResolveResultSchema }, 503: Busy },
    },
    requirePermission('payments:refund'),
    idempotency(deps),
    async (req, res) => {
      const { bookingId } = BookingParams.parse(req.params);
      const body = ResolveManualReviewBody.parse(req.body);
      res.json(await resolveManualReview(db, req.auditContext, bookingId, body, deps));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/admin/payments/:bookingId/resolve-no-show',
      operationId: 'resolveNoShow',
      summary: 'Decide a no-show report: confirmed (full refund) or rejected (the lesson is completed and captured)',
      tags: ['admin', 'payments'],
      auth: { permission: 'bookings:manage:any' },
      params: BookingParams,
      headers: idempotencyKeyHeaders(),
      body: ResolveNoShowBody,
      rateLimit: 'payment',
      responses: { 200: { description: 'The decision and the money it moved', schema: ResolveNoShowResultSchema }, 503: Busy },
    },
    requirePermission('bookings:manage:any'),
    idempotency(deps),
    async (req, res) => {
      const { bookingId } = BookingParams.parse(req.params);
      const body = ResolveNoShowBody.parse(req.body);
      res.json(await resolveNoShow(db, req.auditContext, bookingId, body, deps));
    },
  );
}
