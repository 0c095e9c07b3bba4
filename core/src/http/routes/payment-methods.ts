import { z } from 'zod';
import { requireUser } from '../../auth/principal.ts';
import {
  createCardSetupIntent,
  listPaymentMethods,
  removePaymentMethod,
  savePaymentMethod,
  setDefaultPaymentMethod,
} from '../../payments/payment-methods/index.ts';
import type { ApiDeps } from '../deps.ts';
import { idempotency, idempotencyKeyHeaders } from '../idempotency.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';

const ProviderLabel = {
  provider: z.enum(['stripe', 'offline']).describe('Which payment provider holds the card'),
  offline: z.boolean().describe('True when no real money moves (the embedded offline provider)'),
};

export const SavedCardSchema = z
  .object({
    id: z.string(),
    brand: z.string().describe('visa, mastercard, amex…'),
    last4: z.string(),
    expMonth: z.number().int().nullable(),
    expYear: z.number().int().nullable(),
    isDefault: z.boolean().describe('Used for lesson payments'),
    createdAt: z.string(),
    ...ProviderLabel,
  })
  .meta({ id: 'SavedCard' });

const SavedCardListSchema = z.object({ items: z.array(SavedCardSchema), ...ProviderLabel }).meta({ id: 'SavedCardList' });

const CardSetupSchema = z
  .object({
    setupIntentId: z.string(),
    clientSecret: z.string().describe('Confirm the SetupIntent with this in the browser (Stripe.js)'),
    status: z.string(),
    testCards: z.array(z.string()).describe('Offline only: test card ids to save with POST /payments/methods {paymentMethodId}'),
    ...ProviderLabel,
  })
  .meta({ id: 'CardSetup' });

export const SavePaymentMethodBody = z
  .object({
    setupIntentId: z.string().min(1).max(255).optional().describe('A SetupIntent the browser confirmed'),
    paymentMethodId: z
      .string()
      .min(1)
      .max(255)
      .regex(/^pm_\w+$/, 'Use a payment method id such as pm_…')
      .optional()
      .describe('A card the client already holds (confirmed server-side); offline: a test card such as pm_offline_visa'),
  })
  .strict()
  .refine((body) => (body.setupIntentId === undefined) !== (body.paymentMethodId === undefined), {
    message: 'Send exactly one of setupIntentId and paymentMethodId',
    path: ['setupIntentId'],
  });

const CardIdParams = z.object({ id: z.string().min(1).max(64).describe('Saved card id') }).strict();

/** Students' saved cards: list, add (SetupIntent), make default, remove. Own cards only. */
export function paymentMethodRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;
  const cardDeps = { payments: deps.payments, clock: deps.clock };
  const label = { provider: deps.payments.name, offline: deps.payments.offline };

  api.add(
    {
      method: 'get',
      path: '/payments/methods',
      operationId: 'listPaymentMethods',
      summary: 'Your saved cards',
      tags: ['payments'],
      auth: { permission: 'payments:read:own' },
      responses: { 200: { description: 'Saved cards, the default first', schema: SavedCardListSchema } },
    },
    requirePermission('payments:read:own'),
    async (req, res) => {
      const { userId } = requireUser(req.principal);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json({
        items: (await listPaymentMethods(db, userId)).map((card) => ({ ...card, offline: card.provider === 'offline' })),
        ...label,
      });
    },
  );

  api.add(
    {
      method: 'post',
      path: '/payments/methods/setup-intent',
      operationId: 'createCardSetupIntent',
      summary: 'Start saving a card: a SetupIntent for off-session payments (creates your customer on first use)',
      tags: ['payments'],
      auth: { permission: 'payments:read:own' },
      rateLimit: 'payment',
      responses: {
        201: { description: 'Confirm it in the browser, then POST /payments/methods {setupIntentId}', schema: CardSetupSchema },
      },
    },
    requirePermission('payments:read:own'),
    async (req, res) => {
      res.setHeader('Cache-Control', 'private, no-store');
      res.status(201).json(await createCardSetupIntent(db, req.auditContext, cardDeps));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/payments/methods',
      operationId: 'savePaymentMethod',
      summary: 'Save a card after its SetupIntent succeeded (or confirm one with a card id)',
      tags: ['payments'],
      auth: { permission: 'payments:read:own' },
      headers: idempotencyKeyHeaders(),
      body: SavePaymentMethodBody,
      rateLimit: 'payment',
      responses: { 201: { description: 'The saved card (the first becomes the default)', schema: SavedCardSchema } },
    },
    requirePermission('payments:read:own'),
    idempotency(deps),
    async (req, res) => {
      const body = SavePaymentMethodBody.parse(req.body ?? {});
      const card = await savePaymentMethod(db, req.auditContext, body, cardDeps);
      res.status(201).json({ ...card, offline: card.provider === 'offline' });
    },
  );

  api.add(
    {
      method: 'post',
      path: '/payments/methods/:id/default',
      operationId: 'setDefaultPaymentMethod',
      summary: 'Use this card for lesson payments',
      tags: ['payments'],
      auth: { permission: 'payments:read:own' },
      params: CardIdParams,
      rateLimit: 'payment',
      responses: { 200: { description: 'The card, now the default', schema: SavedCardSchema } },
    },
    requirePermission('payments:read:own'),
    async (req, res) => {
      const { id } = CardIdParams.parse(req.params);
      const card = await setDefaultPaymentMethod(db, req.auditContext, id);
      res.json({ ...card, offline: card.provider === 'offline' });
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/payments/methods/:id',
      operationId: 'removePaymentMethod',
      summary: 'Remove a saved card (refused while it pays for a lesson not yet settled)',
      tags: ['payments'],
      auth: { permission: 'payments:read:own' },
      params: CardIdParams,
      rateLimit: 'payment',
      responses: { 204: { description: 'Removed; it can never be charged again' } },
    },
    requirePermission('payments:read:own'),
    async (req, res) => {
      const { id } = CardIdParams.parse(req.params);
      await removePaymentMethod(db, req.auditContext, id, cardDeps);
      res.status(204).end();
    },
  );
}
