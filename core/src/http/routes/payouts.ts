import { z } from 'zod';
import { requireUser } from '../../auth/principal.ts';
import { findInstructorTransfers, getInstructorEarnings } from '../../payments/views/index.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';
import { ProviderFields } from './admin-payments.ts';

const Instant = z.iso.datetime({ offset: true });

export const EarningsQuery = z
  .object({
    period: z.enum(['month', 'week']).default('month').describe('Group by New York calendar month or ISO week (by lesson start)'),
    from: Instant.optional().describe('Lessons starting at or after (default: start of the period 5 months / 11 weeks ago)'),
    to: Instant.optional().describe('Lessons starting before (default: end of the current period); at most 400 days after from'),
  })
  .strict();

const EarningsLine = {
  lessons: z.number().int().describe('Completed lessons'),
  grossLessonPriceCents: z.number().int(),
  platformFeeCents: z.number().int(),
  netPayoutCents: z.number().int().describe('Lesson payouts plus late-cancellation compensation'),
  cancellationPayoutCents: z.number().int(),
  paidCents: z.number().int().describe('Transferred'),
  pendingCents: z.number().int().describe('Owed, not transferred yet'),
};

export const EarningsSchema = z
  .object({
    ...ProviderFields,
    instructorId: z.string(),
    period: z.enum(['month', 'week']),
    window: z.object({ from: z.string(), to: z.string() }),
    periods: z.array(z.object({ periodStart: z.string().describe('YYYY-MM-DD, New York'), ...EarningsLine })).describe('Newest first'),
    totals: z.object(EarningsLine),
    tier: z.object({
      feeBps: z.number().int().describe('Platform fee of a lesson booked now'),
      isFounding: z.boolean(),
      foundingNumber: z.number().int().nullable(),
      foundingFeeBps: z.number().int(),
      completedLessonsLast30Days: z.number().int(),
      lastLessonAt: z.string().nullable(),
      status: z.string(),
      explanation: z.string(),
      dropNotBefore: z.string().nullable(),
      nextTier: z.object({ feeBps: z.number().int(), lessonsNeeded: z.number().int() }).nullable(),
      ladder: z.array(z.object({ feeBps: z.number().int(), minLessons: z.number().int() })),
    }),
  })
  .meta({ id: 'InstructorEarnings' });

export const PayoutTransferSchema = z
  .object({
    ...ProviderFields,
    id: z.string(),
    kind: z.string().describe('transfer, advance-payout, tip-transfer, referral-payout or transfer-reversal'),
    status: z.enum(['pending', 'succeeded']),
    amountCents: z.number().int().nullable(),
    transferId: z.string().nullable(),
    bookingId: z.string().nullable(),
    serviceName: z.string().nullable(),
    lessonStartsAt: z.string().nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: 'PayoutTransfer' });

const TransfersQuery = z
  .object({
    limit: LimitParam.describe('Page size, 1–100 (default 20)'),
    cursor: CursorParam.describe('Opaque cursor from the previous page'),
  })
  .strict();

/** An instructor's own earnings, tier and transfers. */
export function payoutRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'get',
      path: '/payouts/earnings',
      operationId: 'getEarnings',
      summary: 'Your earnings per month or week, paid and pending, and your current fee tier or founding rate',
      tags: ['payouts'],
      auth: { permission: 'payouts:read:own' },
      query: EarningsQuery,
      responses: { 200: { description: 'Your earnings', schema: EarningsSchema }, 404: { description: 'No instructor profile' } },
    },
    requirePermission('payouts:read:own'),
    async (req, res) => {
      const query = EarningsQuery.parse(req.query);
      const { userId } = requireUser(req.principal);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(
        await getInstructorEarnings(db, userId, {
          now: deps.clock.now(),
          period: query.period,
          from: query.from === undefined ? undefined : new Date(query.from),
          to: query.to === undefined ? undefined : new Date(query.to),
          configured: { provider: deps.payments.name, offline: deps.payments.offline },
        }),
      );
    },
  );

  api.add(
    {
      method: 'get',
      path: '/payouts/transfers',
      operationId: 'listTransfers',
      summary: 'Money sent to your payout account, newest first',
      tags: ['payouts'],
      auth: { permission: 'payouts:read:own' },
      query: TransfersQuery,
      responses: { 200: { description: 'A page of transfers', schema: pageOf(PayoutTransferSchema) } },
    },
    requirePermission('payouts:read:own'),
    async (req, res) => {
      const query = TransfersQuery.parse(req.query);
      const { userId } = requireUser(req.principal);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await findInstructorTransfers(db, userId, query));
    },
  );
}
