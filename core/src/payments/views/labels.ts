/**
 * Small display helpers shared by the payment views (read-only; no rounding happens here —
 * amounts are already integer cents).
 */

export type ProviderName = 'stripe' | 'offline';

/** How a payment shows in every API response: which provider, and whether it is the offline one. */
export interface ProviderLabel {
  provider: ProviderName;
  offline: boolean;
}

/** The label of a stored row's provider, or the configured provider's when the row has none. */
export function labelOf(rowProvider: string | null | undefined, fallback: ProviderLabel): ProviderLabel {
  if (rowProvider === 'stripe' || rowProvider === 'offline') return { provider: rowProvider, offline: rowProvider === 'offline' };
  return fallback;
}

/** `$1,234.56` (or `−$1.00`) for sentences. */
export function usd(cents: number): string {
  const sign = cents < 0 ? '−' : '';
  const abs = Math.abs(cents);
  const dollars = Math.trunc(abs / 100).toLocaleString('en-US');
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, '0')}`;
}

/** "Ada L." — how one party of a booking sees the other. */
export function shortName(firstName: string, lastName: string): string {
  return lastName ? `${firstName} ${lastName.charAt(0)}.` : firstName;
}

export function iso(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}
