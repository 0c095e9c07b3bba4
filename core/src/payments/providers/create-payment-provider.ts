import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import type { PaymentsConfig } from '../../config.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { PaymentProvider } from '../provider.ts';
import { createOfflinePaymentProvider } from './offline-provider.ts';
import { createStripePaymentProvider } from './stripe-provider.ts';

/**
 * The payment provider of this process, built once at start-up: Stripe when configured
 * (STRIPE_SECRET_KEY, or PAYMENTS_PROVIDER=stripe), the offline provider otherwise. Says in the log
 * which one is in use — never the key.
 */
export function createPaymentProvider(
  config: PaymentsConfig,
  db: Kysely<DB>,
  options: { clock?: Clock; logger?: Logger } = {},
): PaymentProvider {
  if (config.provider === 'stripe') {
    if (!config.stripeSecretKey) throw new Error('PAYMENTS_PROVIDER=stripe needs STRIPE_SECRET_KEY');
    const mode = config.stripeSecretKey.includes('_live_') ? 'live' : 'test';
    options.logger?.info(
      {
        paymentsProvider: 'stripe',
        mode,
        apiBaseUrl: config.stripeApiBaseUrl ?? 'https://api.stripe.com',
        webhooks: Boolean(config.stripeWebhookSecret),
      },
      `payments: Stripe (${mode} mode)`,
    );
    if (!config.stripeWebhookSecret)
      options.logger?.warn('STRIPE_WEBHOOK_SECRET is not set: POST /api/v1/webhooks/stripe refuses every event');
    return createStripePaymentProvider({
      secretKey: config.stripeSecretKey,
      apiBaseUrl: config.stripeApiBaseUrl,
      timeoutMs: config.stripeTimeoutMs,
      maxNetworkRetries: config.stripeMaxNetworkRetries,
    });
  }
  options.logger?.info({ paymentsProvider: 'offline' }, 'payments: OFFLINE provider (no money moves; set STRIPE_SECRET_KEY to use Stripe)');
  return createOfflinePaymentProvider(db, options.clock ? { clock: options.clock } : {});
}
