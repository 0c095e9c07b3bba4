import { z } from 'zod';
import { getBooking } from '../../booking/index.ts';
import { checkoutBooking, disputeNoShow, getBookingPaymentSummary, providerLabel } from '../../payments/index.ts';
import type { ApiDeps } from '../deps.ts';
import { idempotency, idempotencyKeyHeaders } from '../idempotency.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { BookingDetailSchema } from './bookings.ts';
import { invalidateAvailability } from './public-availability.ts';

const BookingIdParams = z.object({ id: z.string().min(1).max(64).describe('Booking id') }).strict();

export const CheckoutBody = z
  .object({
    paymentMethodId: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe('A saved card (our id or the provider’s pm_… id); your default card otherwise'),
    applyCredits: z.boolean().optional().describe('Spend your credit on the lesson price (default true; never on the booking fee)'),
  })
  .strict();

const Iso = z.string().nullable();

export const BookingPaymentSchema = z
  .object({
    provider: z.enum(['stripe', 'offline']),
    offline: z.boolean().describe('True on the embedded default: no real money moves'),
    bookingId: z.string(),
    cardAmountCents: z.number().int().describe('(lesson price − credits) + booking fee'),
    creditsAppliedCents: z.number().int(),
    card: z.object({ brand: z.string(), last4: z.string() }).nullable(),
    authorizeAt: z.string().describe('When the card is authorized: at checkout, or 24 hours before the lesson'),
    authorizedAt: Iso,
    authorizationExpiresAt: Iso.describe('When the hold on the card lapses (the provider’s capture_before)'),
    authAttempts: z.number().int(),
    nextAuthAttemptAt: Iso,
    lastFailure: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
    capturedCents: z.number().int(),
    capturedAt: Iso,
    refundedCents: z.number().int(),
    settlementOutcome: z.string().nullable(),
    settledAt: Iso,
  })
  .meta({ id: 'BookingPayment' });

const CheckoutResponse = BookingDetailSchema.extend({
  payment: BookingPaymentSchema,
  checkout: z.object({ outcome: z.enum(['scheduled', 'authorized', 'unchanged']) }),
}).meta({ id: 'BookingCheckout' });

const DisputeBody = z.object({ reason: z.string().trim().min(1).max(1000).describe('What happened, for the admin who decides') }).strict();

/** Paying for a held booking, its payment state, and the instructor's side of a no-show report. */
export function checkoutRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;
  const label = providerLabel(deps.payments);

  api.add(
    {
      method: 'post',
      path: '/bookings/:id/checkout',
      operationId: 'checkoutBooking',
      summary:
        'Pay for a held booking: confirmed now (card authorized 24 h before), or authorized now when the lesson is less than 24 h away',
      tags: ['bookings', 'payments'],
      auth: { permission: 'bookings:create' },
      params: BookingIdParams,
      headers: idempotencyKeyHeaders({ required: true }),
      body: CheckoutBody,
      rateLimit: 'payment',
      responses: {
        200: { description: 'The booking and its payment', schema: CheckoutResponse },
        402: { description: 'The card was declined: check out again with another card (new Idempotency-Key)' },
        409: { description: 'The hold expired, or there is nothing to pay for' },
        503: { description: 'Another payment action on this booking is running, or the lock service is down (Retry-After)' },
      },
    },
    requirePermission('bookings:create'),
    idempotency(deps, { required: true }),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      const body = CheckoutBody.parse(req.body ?? {});
      const result = await checkoutBooking(db, req.auditContext, id, body, deps);
      const booking = await getBooking(db, req.principal, id);
      await invalidateAvailability(deps, booking.instructorId);
      res.json({ ...booking, ...label, payment: await getBookingPaymentSummary(db, id), checkout: { outcome: result.outcome } });
    },
  );

  api.add(
    {
      method: 'get',
      path: '/bookings/:id/payment',
      operationId: 'getBookingPayment',
      summary: 'The payment of one of your bookings (null before checkout)',
      tags: ['bookings', 'payments'],
      auth: { permission: 'bookings:read:own' },
      params: BookingIdParams,
      responses: { 200: { description: 'The payment', schema: BookingPaymentSchema.nullable() } },
    },
    requirePermission('bookings:read:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      await getBooking(db, req.principal, id); // 404 unless the caller may see the booking
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await getBookingPaymentSummary(db, id));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/bookings/:id/no-show/dispute',
      operationId: 'disputeNoShow',
      summary: 'Dispute a no-show report on a lesson you taught (within 24 hours of the report)',
      tags: ['bookings', 'payments'],
      auth: { permission: 'bookings:complete:own' },
      params: BookingIdParams,
      body: DisputeBody,
      responses: { 200: { description: 'The booking; its payment stays frozen until an admin decides', schema: BookingDetailSchema } },
    },
    requirePermission('bookings:complete:own'),
    async (req, res) => {
      const { id } = BookingIdParams.parse(req.params);
      const body = DisputeBody.parse(req.body);
      await disputeNoShow(db, req.auditContext, id, body, deps);
      res.json({ ...(await getBooking(db, req.principal, id)), ...label });
    },
  );
}
