import type { SearchVocabulary } from '../parsed-query.ts';

export interface PriceThreshold {
  /** "cheap", "budget", "inexpensive": at most this hourly rate. */
  budgetMaxCents: number;
  /** "affordable", "reasonably priced": at most this hourly rate. */
  affordableMaxCents: number;
  /** "premium", "luxury", "high-end", "top": at least this hourly rate. */
  premiumMinCents: number;
}

/**
 * Default hourly thresholds for price words, per category slug, with `default` for queries
 * whose category is unknown. Seeded rates start at $80/h in person and $60/h online (spec §1:
 * cheap ≈ $60, affordable ≈ $80); test prep and life skills (public speaking) run higher.
 */
export const DEFAULT_PRICE_THRESHOLDS: Readonly<Record<string, PriceThreshold>> = {
  default: { budgetMaxCents: 6000, affordableMaxCents: 8000, premiumMinCents: 15000 },
  music: { budgetMaxCents: 6000, affordableMaxCents: 8000, premiumMinCents: 15000 },
  languages: { budgetMaxCents: 6000, affordableMaxCents: 8000, premiumMinCents: 12000 },
  tutoring: { budgetMaxCents: 6000, affordableMaxCents: 8000, premiumMinCents: 15000 },
  'test-prep': { budgetMaxCents: 9000, affordableMaxCents: 11000, premiumMinCents: 20000 },
  'sports-fitness': { budgetMaxCents: 6000, affordableMaxCents: 8000, premiumMinCents: 14000 },
  arts: { budgetMaxCents: 6000, affordableMaxCents: 8000, premiumMinCents: 14000 },
  dance: { budgetMaxCents: 6000, affordableMaxCents: 8000, premiumMinCents: 14000 },
  'life-skills': { budgetMaxCents: 7000, affordableMaxCents: 9000, premiumMinCents: 16000 },
};

/**
 * The thresholds that apply to a category: the vocabulary's own table first (an admin may tune
 * it), then the defaults, then the vocabulary's and the defaults' `default` rows.
 */
export function priceThresholdFor(vocabulary: SearchVocabulary, categorySlug: string | null): PriceThreshold {
  const fallback = DEFAULT_PRICE_THRESHOLDS.default as PriceThreshold;
  if (categorySlug) {
    const own = vocabulary.priceThresholds[categorySlug] ?? DEFAULT_PRICE_THRESHOLDS[categorySlug];
    if (own) return own;
  }
  return vocabulary.priceThresholds.default ?? fallback;
}
