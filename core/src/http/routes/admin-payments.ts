import { z } from 'zod';
import { PAYMENT_STATUSES } from '../../booking/index.ts';
import { findManualReviewQueue, findPaymentOperations, getPaymentPipeline, getPaymentTimeline } from '../../payments/views/index.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';

const Instant = z.iso.datetime({ offset: true });
const Iso = z.string().nullable();
const Json = z.unknown();

export const ProviderFields = {
  provider: z.enum(['stripe', 'offline']).describe('Which payment provider holds this payment'),
  offline: z.boolean().describe('True for the offline provider: recorded only, no real money moved'),
};

const BookingIdParams = z.object({ bookingId: z.string().min(1).max(64).describe('Booking id') }).strict();

const Party = z.object({ id: z.string(), name: z.string() });

export const PaymentStateSchema = z
  .object({
    ...ProviderFields,
    cardAmountCents: z.number().int(),
    creditsAppliedCents: z.number().int(),
    currency: z.string(),
    paymentMethodId: z.string().nullable(),
    customerId: z.string().nullable(),
    authorizeAt: z.string(),
    authorizedAt: Iso,
    authorizationExpiresAt: Iso.describe("From the charge's capture_before"),
    authAttempts: z.number().int(),
    nextAuthAttemptAt: Iso,
    lastFailure: z.object({ code: z.string().nullable(), message: z.string().nullable() }).nullable(),
    capturedAt: Iso,
    capturedCents: z.number().int(),
    captureAttempts: z.number().int(),
    nextCaptureAttemptAt: Iso,
    captureFailedSince: Iso,
    refundedCents: z.number().int(),
    transferredCents: z.number().int(),
    transferredAt: Iso,
    payoutAdvancedAt: Iso,
    providerIds: z.object({
      paymentIntentId: z.string().nullable(),
      chargeId: z.string().nullable(),
      transferId: z.string().nullable(),
      reversalId: z.string().nullable(),
      refundIds: z.array(z.string()),
    }),
    settlement: z
      .object({
        outcome: z.string().nullable(),
        studentCreditCents: z.number().int().nullable(),
        instructorPayoutCents: z.number().int().nullable(),
        cardRefundCents: z.number().int().nullable(),
        feeKeptCents: z.number().int().nullable(),
        settledAt: Iso,
      })
      .nullable(),
    noShow: z.object({ state: z.string(), disputeDeadlineAt: Iso, resolvedAt: Iso }).nullable(),
    manualReviewReason: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'PaymentState' });

export const PaymentTimelineSchema = z
  .object({
    ...ProviderFields,
    booking: z.object({
      id: z.string(),
      status: z.string(),
      paymentStatus: z.enum(PAYMENT_STATUSES),
      serviceName: z.string(),
      student: Party,
      instructor: Party,
      startsAt: z.string(),
      endsAt: z.string(),
      createdAt: z.string(),
      cancelledAt: Iso,
      cancelledBy: z.string().nullable(),
      cancellationReason: z.string().nullable().describe('Untrusted user text'),
      lockedAt: Iso,
      originalStartsAt: Iso,
      lateRescheduleUsed: z.boolean(),
      noShowReportedAt: Iso,
      policyVersion: z.string(),
      amounts: z.object({
        lessonPriceCents: z.number().int(),
        studentFeeCents: z.number().int(),
        instructorFeeBps: z.number().int(),
        instructorFeeCents: z.number().int(),
        instructorPayoutCents: z.number().int(),
      }),
    }),
    payment: PaymentStateSchema.nullable().describe('The money state now; null when no payment was set up'),
    explanation: z.array(z.string()).describe('Why the student was (or was not) charged, in sentences'),
    entries: z
      .array(
        z.object({
          at: z.string(),
          source: z.enum(['booking_event', 'payment_operation', 'webhook_event', 'audit', 'mismatch']),
          type: z.string(),
          summary: z.string(),
          actor: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
          amountCents: z.number().int().nullable(),
          id: z.string(),
          details: z.record(z.string(), Json).describe('Source-specific fields; booking event data and audit reasons may hold user text'),
        }),
      )
      .describe('Oldest first'),
  })
  .meta({ id: 'PaymentTimeline' });

export const PipelineQuery = z
  .object({
    from: Instant.optional().describe('Lessons starting at or after (default: 30 days ago)'),
    to: Instant.optional().describe('Lessons starting before (default: 30 days ahead); at most 366 days after from'),
  })
  .strict();

const DueStage = z.object({
  count: z.number().int(),
  overdue: z.number().int().describe('Already past due'),
  amountCents: z.number().int(),
  nextAt: Iso.describe('Earliest due (or next retry) instant'),
});
const Amounts = z.object({ count: z.number().int(), amountCents: z.number().int() });

export const PaymentPipelineSchema = z
  .object({
    ...ProviderFields,
    at: z.string(),
    window: z.object({ from: z.string(), to: z.string() }),
    byStatus: z.array(
      z.object({
        paymentStatus: z.enum(PAYMENT_STATUSES),
        count: z.number().int(),
        lessonPriceCents: z.number().int(),
        cardAmountCents: z.number().int(),
        capturedCents: z.number().int(),
        refundedCents: z.number().int(),
      }),
    ),
    byProvider: z.array(
      z.object({
        provider: z.enum(['stripe', 'offline', 'none']),
        offline: z.boolean(),
        count: z.number().int(),
        cardAmountCents: z.number().int(),
      }),
    ),
    authorizationsDue: DueStage.describe('Scheduled authorizations (T−24h) due within 24 hours or overdue'),
    capturesDue: DueStage.describe('Captures (lesson end + 24h) due within 24 hours or overdue'),
    failuresInRetry: z.object({ authorizations: DueStage, captures: DueStage }),
    manualReview: Amounts,
    transfersOwed: Amounts.describe('Instructor payouts owed and not yet transferred (amount = payout owed)'),
  })
  .meta({ id: 'PaymentPipeline' });

export const ManualReviewQuery = z
  .object({
    limit: LimitParam.describe('Page size, 1–100 (default 20)'),
    cursor: CursorParam.describe('Opaque cursor from the previous page'),
  })
  .strict();

export const ManualReviewItemSchema = z
  .object({
    ...ProviderFields,
    bookingId: z.string(),
    reason: z.string(),
    since: z.string(),
    bookingStatus: z.string(),
    serviceName: z.string(),
    startsAt: z.string(),
    endsAt: z.string(),
    student: Party,
    instructor: Party,
    amounts: z.object({
      lessonPriceCents: z.number().int(),
      studentFeeCents: z.number().int(),
      instructorPayoutCents: z.number().int(),
      cardAmountCents: z.number().int().nullable(),
      creditsAppliedCents: z.number().int().nullable(),
      capturedCents: z.number().int(),
      refundedCents: z.number().int(),
      transferredCents: z.number().int(),
    }),
    payoutAdvancedAt: Iso,
    noShowState: z.string().nullable(),
    lastFailure: z.object({ code: z.string().nullable(), message: z.string().nullable() }).nullable(),
  })
  .meta({ id: 'ManualReviewItem' });

export const PaymentOperationsQuery = z
  .object({
    limit: LimitParam.describe('Page size, 1–100 (default 20)'),
    cursor: CursorParam.describe('Opaque cursor from the previous page'),
    bookingId: z.string().min(1).max(64).optional(),
    userId: z.string().min(1).max(64).optional().describe('The operation’s user, or either party of its booking'),
    purpose: z.string().min(1).max(64).optional().describe('authorize, capture, refund, transfer, …'),
    status: z.enum(['pending', 'succeeded', 'failed']).optional(),
    provider: z.enum(['stripe', 'offline']).optional(),
    from: Instant.optional().describe('Created at or after'),
    to: Instant.optional().describe('Created before'),
  })
  .strict();

export const PaymentOperationSchema = z
  .object({
    ...ProviderFields,
    id: z.string(),
    bookingId: z.string().nullable(),
    userId: z.string().nullable(),
    studentId: z.string().nullable(),
    instructorId: z.string().nullable(),
    purpose: z.string(),
    idempotencyKey: z.string(),
    attempt: z.number().int(),
    amountCents: z.number().int().nullable(),
    status: z.string(),
    providerObjectId: z.string().nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    createdAt: z.string(),
    completedAt: Iso,
  })
  .meta({ id: 'PaymentOperation' });

const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

/** Read-only payment views for ops staff and admins (and the copilot through its service principal). */
export function adminPaymentRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;
  const configured = () => ({ provider: deps.payments.name, offline: deps.payments.offline });

  api.add(
    {
      method: 'get',
      path: '/admin/payments/:bookingId/timeline',
      operationId: 'getPaymentTimeline',
      summary: 'Everything that happened to a booking’s money, in order, and why the student was charged',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:read:any' },
      params: BookingIdParams,
      responses: { 200: { description: 'The payment timeline', schema: PaymentTimelineSchema }, 404: { description: 'No such booking' } },
    },
    requirePermission('payments:read:any'),
    async (req, res) => {
      const { bookingId } = BookingIdParams.parse(req.params);
      res.setHeader('Cache-Control', 'no-store');
      res.json(await getPaymentTimeline(db, bookingId, configured()));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/payments/pipeline',
      operationId: 'getPaymentPipeline',
      summary: 'Payments per status and provider in a window, and what is due, failing, in review or owed now',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:read:any' },
      query: PipelineQuery,
      responses: { 200: { description: 'The pipeline', schema: PaymentPipelineSchema } },
    },
    requirePermission('payments:read:any'),
    async (req, res) => {
      const query = PipelineQuery.parse(req.query);
      res.setHeader('Cache-Control', 'no-store');
      res.json(
        await getPaymentPipeline(db, { now: deps.clock.now(), from: date(query.from), to: date(query.to), configured: configured() }),
      );
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/payments/manual-review',
      operationId: 'listManualReview',
      summary: 'The manual-review queue, oldest first',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:read:any' },
      query: ManualReviewQuery,
      responses: { 200: { description: 'A page of bookings in manual review', schema: pageOf(ManualReviewItemSchema) } },
    },
    requirePermission('payments:read:any'),
    async (req, res) => {
      const query = ManualReviewQuery.parse(req.query);
      res.setHeader('Cache-Control', 'no-store');
      res.json(await findManualReviewQueue(db, { ...query, configured: configured() }));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/payments/operations',
      operationId: 'listPaymentOperations',
      summary: 'Calls made to the payment provider, newest first, with their idempotency keys and provider ids',
      tags: ['admin', 'payments'],
      auth: { permission: 'payments:read:any' },
      query: PaymentOperationsQuery,
      responses: { 200: { description: 'A page of payment operations', schema: pageOf(PaymentOperationSchema) } },
    },
    requirePermission('payments:read:any'),
    async (req, res) => {
      const query = PaymentOperationsQuery.parse(req.query);
      res.setHeader('Cache-Control', 'no-store');
      res.json(await findPaymentOperations(db, { ...query, from: date(query.from), to: date(query.to) }));
    },
  );
}
