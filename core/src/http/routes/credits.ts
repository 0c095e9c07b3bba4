import { z } from 'zod';
import { requireUser } from '../../auth/principal.ts';
import { adjustCredits, type CreditBalance, findCreditHistory, getCreditBalance } from '../../credits/index.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import { idempotency, idempotencyKeyHeaders } from '../idempotency.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';

const LEDGER_KINDS = ['grant', 'reserve', 'release', 'consume', 'expire', 'revoke', 'adjust'] as const;

export const CreditBalanceSchema = z
  .object({
    availableCents: z.number().int().describe('Spendable now'),
    reservedCents: z.number().int().describe('Held for upcoming lessons; does not expire while held'),
    balanceCents: z
      .number()
      .int()
      .describe('Available + reserved (+ credit past expiry the daily job has not removed yet) = the sum of the ledger'),
    expiringSoonCents: z.number().int().describe('Available credit that expires within expiringSoonDays'),
    expiringSoonDays: z.number().int(),
    nextExpiryAt: z.string().nullable(),
    currency: z.literal('usd'),
  })
  .meta({ id: 'CreditBalance' });

const CreditEntrySchema = z
  .object({
    id: z.string(),
    kind: z.enum(LEDGER_KINDS),
    amountCents: z.number().int().describe('Change of the balance (available + reserved)'),
    availableDeltaCents: z.number().int(),
    reservedDeltaCents: z.number().int(),
    reason: z.string(),
    bookingId: z.string().nullable(),
    lotId: z.string(),
    source: z.string().describe('Where the credit came from: cancellation, loyalty, referral, admin, reissue, promo'),
    lotExpiresAt: z.string(),
    at: z.string(),
  })
  .meta({ id: 'CreditEntry' });

const HistoryQuery = z
  .object({
    limit: LimitParam,
    cursor: CursorParam,
    bookingId: z.string().min(1).max(64).optional().describe('Only entries about this booking'),
  })
  .strict();

const UserIdParams = z.object({ id: z.string().min(1).max(64).describe('User id') }).strict();

export const AdjustCreditsBody = z
  .object({
    amountCents: z
      .number()
      .int()
      .min(-1_000_000)
      .max(1_000_000)
      .refine((value) => value !== 0, 'Use a positive amount to add credit and a negative one to remove it')
      .describe('Cents to add (+) or remove (−); removal is limited to the available credit'),
    reason: z.string().trim().min(3).max(500).describe('Why, for the audit log and the student’s history'),
    currency: z.string().max(8).optional().describe('Only "usd" is accepted'),
  })
  .strict();

const AdjustmentSchema = z
  .object({
    userId: z.string(),
    amountCents: z.number().int(),
    reason: z.string(),
    lots: z.array(z.object({ lotId: z.string(), amountCents: z.number().int() })),
    balance: CreditBalanceSchema,
    auditId: z.string(),
  })
  .meta({ id: 'CreditAdjustment' });

export function toBalanceResponse(balance: CreditBalance) {
  return { ...balance, nextExpiryAt: balance.nextExpiryAt?.toISOString() ?? null };
}

/** Student credit balance and history; admin adjustments. */
export function creditRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'get',
      path: '/credits',
      operationId: 'getCreditBalance',
      summary: 'Your credit balance: available, reserved for lessons, expiring soon',
      tags: ['credits'],
      auth: { permission: 'payments:read:own' },
      responses: { 200: { description: 'The balance', schema: CreditBalanceSchema } },
    },
    requirePermission('payments:read:own'),
    async (req, res) => {
      const { userId } = requireUser(req.principal);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(toBalanceResponse(await getCreditBalance(db, userId, deps.clock.now())));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/credits/history',
      operationId: 'listCreditHistory',
      summary: 'Your credit ledger, newest first: every grant, reservation, release, use and expiry with its reason',
      tags: ['credits'],
      auth: { permission: 'payments:read:own' },
      query: HistoryQuery,
      responses: { 200: { description: 'A page of ledger entries', schema: pageOf(CreditEntrySchema) } },
    },
    requirePermission('payments:read:own'),
    async (req, res) => {
      const { userId } = requireUser(req.principal);
      const query = HistoryQuery.parse(req.query);
      const page = await findCreditHistory(db, userId, query);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json({
        items: page.items.map((item) => ({ ...item, lotExpiresAt: item.lotExpiresAt.toISOString(), at: item.at.toISOString() })),
        nextCursor: page.nextCursor,
      });
    },
  );

  api.add(
    {
      method: 'post',
      path: '/admin/users/:id/credits',
      operationId: 'adjustUserCredits',
      summary: 'Add or remove a user’s credit (audited; never below zero)',
      tags: ['admin', 'credits'],
      auth: { permission: 'credits:adjust' },
      params: UserIdParams,
      headers: idempotencyKeyHeaders(),
      body: AdjustCreditsBody,
      rateLimit: 'payment',
      responses: { 201: { description: 'The adjustment and the balance after it', schema: AdjustmentSchema } },
    },
    requirePermission('credits:adjust'),
    idempotency(deps),
    async (req, res) => {
      const { id } = UserIdParams.parse(req.params);
      const body = AdjustCreditsBody.parse(req.body);
      const adjustment = await adjustCredits(db, req.auditContext, id, body, deps);
      res.status(201).json({ ...adjustment, balance: toBalanceResponse(adjustment.balance) });
    },
  );
}
