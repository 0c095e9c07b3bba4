/** Students' saved cards (SetupIntents → PaymentMethods) and their customer at the provider. */
export {
  type CardSetup,
  createCardSetupIntent,
  ensurePaymentCustomer,
  findDefaultPaymentMethod,
  listPaymentMethods,
  type PaymentMethodsDeps,
  removePaymentMethod,
  saveCardFromSetupIntent,
  type SavedCard,
  savePaymentMethod,
  setDefaultPaymentMethod,
} from './payment-methods.ts';
