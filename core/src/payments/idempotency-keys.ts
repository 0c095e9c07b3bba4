/**
 * The one way to name a payment operation: `{purpose}:{subject}:{attempt}` — for example
 * `authorize:01J…:1`, `capture:01J…:2`, `transfer:01J…:1`. The same action retried after a crash
 * uses the same key (same attempt), so the provider answers with the first result; a deliberate
 * new attempt (a retry after a decline) increments the attempt. Stripe forgets keys after 24 h and
 * rejects a reused key with different parameters, so a key always carries the same amounts.
 */
export type PaymentPurpose =
  | 'customer'
  | 'setup-intent'
  | 'setup-intent-confirm'
  | 'authorize'
  | 'capture'
  | 'cancel-authorization'
  | 'refund'
  | 'transfer'
  | 'transfer-reversal'
  | 'advance-payout'
  | 'tip-charge'
  | 'tip-transfer'
  | 'referral-payout'
  | 'connected-account';

export function idempotencyKey(purpose: PaymentPurpose, subjectId: string, attempt = 1): string {
  if (!Number.isInteger(attempt) || attempt < 1) throw new Error(`attempt must be a positive integer, got ${attempt}`);
  return `${purpose}:${subjectId}:${attempt}`;
}
