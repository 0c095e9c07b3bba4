import { z } from 'zod';
import { createPayoutOnboardingLink, getPayoutAccount } from '../../payments/payout-accounts/index.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';

export const PayoutAccountSchema = z
  .object({
    accountId: z.string().nullable().describe('The connected account (Stripe Express) once created'),
    status: z.enum(['not_started', 'onboarding', 'pending_verification', 'active']),
    payoutsEnabled: z.boolean().describe('Transfers and payouts can reach the instructor'),
    detailsSubmitted: z.boolean(),
    chargesEnabled: z.boolean(),
    updatedAt: z.string().nullable().describe('When the state was last read from the provider'),
    provider: z.enum(['stripe', 'offline']),
    offline: z.boolean().describe('True when no real money moves (the embedded offline provider)'),
  })
  .meta({ id: 'PayoutAccount' });

const OnboardingLinkSchema = z
  .object({
    url: z.string().describe('Open it to finish onboarding; it works once and expires within minutes'),
    expiresAt: z.string(),
    account: PayoutAccountSchema,
  })
  .meta({ id: 'PayoutOnboardingLink' });

const OnboardingLinkBody = z
  .object({
    returnUrl: z
      .string()
      .max(2000)
      .optional()
      .describe("Where the provider sends the instructor afterwards (one of the platform's own sites)"),
    refreshUrl: z.string().max(2000).optional().describe('Where an expired link sends them to get a new one'),
  })
  .strict();

/** Instructor payout onboarding (Stripe Connect Express): the link and the account's state. Own account only. */
export function payoutAccountRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;
  const accountDeps = { payments: deps.payments, clock: deps.clock, allowedReturnOrigins: deps.config.corsOrigins };

  api.add(
    {
      method: 'post',
      path: '/payouts/onboarding-link',
      operationId: 'createPayoutOnboardingLink',
      summary: 'A one-time link to set up (or finish) your payout account; creates it on first use',
      tags: ['payouts'],
      auth: { permission: 'payouts:read:own' },
      body: OnboardingLinkBody,
      rateLimit: 'payment',
      responses: { 201: { description: 'The onboarding link and the account as it stands', schema: OnboardingLinkSchema } },
    },
    requirePermission('payouts:read:own'),
    async (req, res) => {
      const body = OnboardingLinkBody.parse(req.body ?? {});
      res.setHeader('Cache-Control', 'private, no-store');
      res.status(201).json(await createPayoutOnboardingLink(db, req.auditContext, body, accountDeps));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/payouts/account',
      operationId: 'getPayoutAccount',
      summary: 'Your payout account and whether payouts can reach you (re-read from the provider)',
      tags: ['payouts'],
      auth: { permission: 'payouts:read:own' },
      responses: { 200: { description: 'The payout account', schema: PayoutAccountSchema } },
    },
    requirePermission('payouts:read:own'),
    async (req, res) => {
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await getPayoutAccount(db, req.auditContext, accountDeps));
    },
  );
}
