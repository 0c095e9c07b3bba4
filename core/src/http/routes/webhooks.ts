import express from 'express';
import { z } from 'zod';
import { receiveStripeWebhook } from '../../payments/webhooks/index.ts';
import { AppError } from '../../shared/errors.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';

const StripeEventBody = z
  .object({
    id: z.string().describe('evt_…'),
    object: z.literal('event'),
    type: z.string().describe('payment_intent.succeeded, charge.refunded, account.updated…'),
    data: z.object({ object: z.record(z.string(), z.unknown()) }),
  })
  .passthrough()
  .describe('A Stripe event, exactly as Stripe signed it (the signature covers the raw bytes)');

const WebhookReceiptSchema = z
  .object({
    received: z.literal(true),
    eventId: z.string(),
    type: z.string(),
    duplicate: z.boolean().describe('This event id was delivered before'),
    outcome: z.string().describe('applied, no_change, unmatched, ignored'),
  })
  .meta({ id: 'WebhookReceipt' });

const StripeSignatureHeaders = z.object({ 'Stripe-Signature': z.string().describe('t=…,v1=… (HMAC-SHA256 of the raw body)') });

/**
 * POST /webhooks/stripe. Mounted before the JSON body parser (app.ts): the signature is checked on
 * the raw bytes, so this route reads its own body.
 */
export function webhookRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;
  const webhookDeps = {
    payments: deps.payments,
    clock: deps.clock,
    webhookSecret: deps.config.payments.stripeWebhookSecret,
    faultSteps: deps.config.faultSteps,
    logger: deps.logger,
  };

  api.add(
    {
      method: 'post',
      path: '/webhooks/stripe',
      operationId: 'receiveStripeWebhook',
      summary: 'Stripe events (signed); each event id is applied once, in any order',
      tags: ['webhooks'],
      auth: 'public',
      headers: StripeSignatureHeaders,
      body: StripeEventBody,
      responses: {
        200: { description: 'Recorded (and applied, or a duplicate of one already applied)', schema: WebhookReceiptSchema },
      },
    },
    express.raw({ type: 'application/json', limit: '1mb' }),
    async (req, res) => {
      if (!Buffer.isBuffer(req.body)) throw new AppError('unsupported_media_type', 'Send the Stripe event as application/json.');
      const receipt = await receiveStripeWebhook(db, webhookDeps, { rawBody: req.body, signature: req.get('stripe-signature') });
      res.json({ received: true, ...receipt });
    },
  );
}
