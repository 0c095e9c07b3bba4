/** Payment providers: the offline one (embedded default) and Stripe; `createPaymentProvider` picks by configuration. */
export {
  createOfflinePaymentProvider,
  OFFLINE_AUTHORIZATION_VALIDITY_MS,
  OFFLINE_TEST_CARDS,
  offlineTestCardOf,
  type OfflineTestCard,
} from './offline-provider.ts';
export { createPaymentProvider } from './create-payment-provider.ts';
export { createStripePaymentProvider, type StripeEvent, type StripeProviderOptions, verifyStripeWebhook } from './stripe-provider.ts';
export { askProvider } from './provider-errors.ts';
export { callProviderRecorded, type OperationEntry, type OperationOutcome } from './record-operation.ts';
