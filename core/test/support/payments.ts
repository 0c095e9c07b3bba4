import type { TestApi } from './api.ts';

/** The offline test cards (see OFFLINE_TEST_CARDS in src/payments/providers/offline-provider.ts). */
export type OfflineTestCardId =
  | 'pm_offline_visa'
  | 'pm_offline_mastercard'
  | 'pm_offline_declined'
  | 'pm_offline_insufficient_funds'
  | 'pm_offline_requires_action'
  | 'pm_offline_capture_fails'
  | 'pm_offline_setup_declined'
  | `pm_offline_${string}`;

export interface SavedTestCard {
  /** Our saved card id (payment_methods.id). */
  id: string;
  /** The provider's id of the student's own card (pm_offline_visa_01J… offline). */
  providerPaymentMethodId: string;
  isDefault: boolean;
  last4: string;
}

/**
 * Gives a student a saved card through the real API (POST /api/v1/payments/methods), as the
 * storefront does. `token` is the student's access token (or `{ authorization }` headers).
 * Every test card saves except pm_offline_setup_declined; the declining ones (pm_offline_declined,
 * pm_offline_insufficient_funds, pm_offline_requires_action, pm_offline_capture_fails) decline
 * later, when the payment is authorized or captured. The first saved card is the default.
 */
export async function saveTestCard(
  api: TestApi,
  token: string | Record<string, string>,
  pm: OfflineTestCardId = 'pm_offline_visa',
): Promise<SavedTestCard> {
  const headers = typeof token === 'string' ? { authorization: `Bearer ${token}` } : token;
  const { status, body } = await api.request('/api/v1/payments/methods', { method: 'POST', headers, json: { paymentMethodId: pm } });
  if (status !== 201) throw new Error(`saving ${pm} failed: ${status} ${JSON.stringify(body)}`);
  const row = await api.database.db
    .selectFrom('paymentMethods')
    .select(['providerPaymentMethodId'])
    .where('id', '=', body.id)
    .executeTakeFirstOrThrow();
  return { id: body.id, providerPaymentMethodId: row.providerPaymentMethodId, isDefault: body.isDefault, last4: body.last4 };
}
