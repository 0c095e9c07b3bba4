/** Stripe webhooks: signature check on the raw body, the event ledger, re-read and apply. */
export {
  FAULT_AFTER_RECORD,
  reapplyUnprocessedWebhookEvents,
  receiveStripeWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookDeps,
  type WebhookReceipt,
} from './stripe-webhooks.ts';
