import { z } from 'zod';
import { requireUser } from '../../auth/principal.ts';
import { PAYMENT_STATUSES } from '../../booking/index.ts';
import { findReceipts, getReceipt, RECEIPT_STATES } from '../../payments/views/index.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';
import { ProviderFields } from './admin-payments.ts';

export const ReceiptSchema = z
  .object({
    ...ProviderFields,
    bookingId: z.string(),
    serviceName: z.string(),
    instructorName: z.string().describe('First name and last initial'),
    startsAt: z.string(),
    durationMinutes: z.number().int(),
    bookingStatus: z.string(),
    paymentStatus: z.enum(PAYMENT_STATUSES),
    state: z.enum(RECEIPT_STATES).describe('Where the card stands'),
    lessonPriceCents: z.number().int(),
    studentFeeCents: z.number().int().describe('Booking-protection fee, 12% of the lesson price; credits never cover it'),
    creditsAppliedCents: z.number().int(),
    cardAmountCents: z.number().int().describe('Authorized (or to be): lesson − credits + fee'),
    cardChargedCents: z.number().int(),
    cardRefundedCents: z.number().int(),
    cardNetCents: z.number().int().describe('Charged less refunded'),
    creditReturnedCents: z.number().int().describe('Credit given back by a cancellation'),
    card: z.object({ brand: z.string(), last4: z.string() }).nullable(),
    authorizedAt: z.string().nullable(),
    chargedAt: z.string().nullable(),
    settlement: z.object({ outcome: z.string().nullable(), settledAt: z.string().nullable() }).nullable(),
  })
  .meta({ id: 'Receipt' });

const ReceiptsQuery = z
  .object({
    limit: LimitParam.describe('Page size, 1–100 (default 20)'),
    cursor: CursorParam.describe('Opaque cursor from the previous page'),
  })
  .strict();
const ReceiptParams = z.object({ bookingId: z.string().min(1).max(64).describe('Booking id') }).strict();

/** A student's receipts: what each lesson cost, what the card paid and got back, what came back as credit. */
export function studentPaymentRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'get',
      path: '/payments/receipts',
      operationId: 'listReceipts',
      summary: 'Your receipts, latest lesson first',
      tags: ['payments'],
      auth: { permission: 'payments:read:own' },
      query: ReceiptsQuery,
      responses: { 200: { description: 'A page of receipts', schema: pageOf(ReceiptSchema) } },
    },
    requirePermission('payments:read:own'),
    async (req, res) => {
      const query = ReceiptsQuery.parse(req.query);
      const { userId } = requireUser(req.principal);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await findReceipts(db, userId, query));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/payments/receipts/:bookingId',
      operationId: 'getReceipt',
      summary: 'The receipt of one of your lessons',
      tags: ['payments'],
      auth: { permission: 'payments:read:own' },
      params: ReceiptParams,
      responses: {
        200: { description: 'The receipt', schema: ReceiptSchema },
        404: { description: 'Not one of your bookings, or no payment yet' },
      },
    },
    requirePermission('payments:read:own'),
    async (req, res) => {
      const { bookingId } = ReceiptParams.parse(req.params);
      const { userId } = requireUser(req.principal);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await getReceipt(db, userId, bookingId));
    },
  );
}
