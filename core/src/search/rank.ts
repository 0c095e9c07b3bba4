/**
 * Ranking signals and weights (spec: search.md §4). Pure functions: every input is a parameter.
 *
 * score = 0.35 relevance + 0.25 quality + 0.15 distance + 0.10 price fit + 0.10 freshness
 *       + 0.05 completeness + 0.10 audience match + 0.05 skill match, then × 1.5 for founding
 *       instructors.
 */
export const WEIGHTS = {
  relevance: 0.35,
  quality: 0.25,
  distance: 0.15,
  priceFit: 0.1,
  freshness: 0.1,
  completeness: 0.05,
  audienceMatch: 0.1,
  skillMatch: 0.05,
} as const;
export const FOUNDING_MULTIPLIER = 1.5;

/** The Bayesian prior counts as this many reviews (ratings show from 3 reviews, spec §4). */
export const PRIOR_REVIEW_WEIGHT = 3;
/** Used as the prior mean when the platform has no eligible reviews yet. */
export const DEFAULT_PRIOR_RATING = 4.5;
/** A review's weight halves every 12 months. */
export const REVIEW_HALF_LIFE_DAYS = 365.25;

export interface Signals {
  relevance: number;
  quality: number;
  distance: number;
  priceFit: number;
  freshness: number;
  completeness: number;
  audienceMatch: number;
  skillMatch: number;
}

/** The weight of a review `ageDays` old: 1 today, ½ after a year, ¼ after two. */
export function reviewWeight(ageDays: number): number {
  return 0.5 ** (Math.max(0, ageDays) / REVIEW_HALF_LIFE_DAYS);
}

/**
 * Bayesian average on 1–5 from recency-weighted reviews, pulled toward the prior mean by
 * PRIOR_REVIEW_WEIGHT phantom reviews, mapped to 0–1. No reviews: the prior itself.
 */
export function qualityScore(weightedRatingSum: number, weightSum: number, priorMean: number): number {
  const average = (PRIOR_REVIEW_WEIGHT * priorMean + weightedRatingSum) / (PRIOR_REVIEW_WEIGHT + weightSum);
  return clamp01((average - 1) / 4);
}

/** ≤ 1 km → 1.0, linear to 0.5 at 10 km, then linear to a floor of 0.2 at 30 km; unknown 0.7. */
export function distanceScore(distanceKm: number | null): number {
  if (distanceKm === null || !Number.isFinite(distanceKm)) return 0.7;
  if (distanceKm <= 1) return 1;
  if (distanceKm <= 10) return 1 - ((distanceKm - 1) / 9) * 0.5;
  if (distanceKm <= 30) return 0.5 - ((distanceKm - 10) / 20) * 0.3;
  return 0.2;
}

/** ≤ 70% of the budget → 1.0, linear to 0.7 at the budget, 0.5 above it; no budget 0.7. */
export function priceFitScore(hourlyRateCents: number, budgetCents: number | null): number {
  if (budgetCents === null || budgetCents <= 0) return 0.7;
  if (hourlyRateCents > budgetCents) return 0.5;
  const comfortable = budgetCents * 0.7;
  if (hourlyRateCents <= comfortable) return 1;
  return 1 - ((hourlyRateCents - comfortable) / (budgetCents - comfortable)) * 0.3;
}

const DAY_MS = 86_400_000;

/** Last active ≤ 1 day 1.0, ≤ 7 days 0.9, ≤ 30 days 0.7, ≤ 90 days 0.5, else (or never) 0.3. */
export function freshnessScore(lastActiveAt: Date | null, now: Date): number {
  if (!lastActiveAt) return 0.3;
  const days = (now.getTime() - lastActiveAt.getTime()) / DAY_MS;
  if (days <= 1) return 1;
  if (days <= 7) return 0.9;
  if (days <= 30) return 0.7;
  if (days <= 90) return 0.5;
  return 0.3;
}

export interface ProfileFacts {
  photoUrl: string | null;
  bio: string;
  backgroundCheckPassed: boolean;
  identityVerified: boolean;
  /** 0–1, null when unknown. */
  responseRate: number | null;
}

/** 0.2 each: photo, bio, passed background check, verified identity, response rate above 80%. */
export function completenessScore(profile: ProfileFacts): number {
  let score = 0;
  if (profile.photoUrl) score += 0.2;
  if (profile.bio.trim().length > 0) score += 0.2;
  if (profile.backgroundCheckPassed) score += 0.2;
  if (profile.identityVerified) score += 0.2;
  if (profile.responseRate !== null && profile.responseRate > 0.8) score += 0.2;
  return Math.round(score * 10) / 10;
}

/** The final score from the signals (founding instructors × 1.5). */
export function combineScore(signals: Signals, isFounding: boolean): number {
  const base =
    WEIGHTS.relevance * signals.relevance +
    WEIGHTS.quality * signals.quality +
    WEIGHTS.distance * signals.distance +
    WEIGHTS.priceFit * signals.priceFit +
    WEIGHTS.freshness * signals.freshness +
    WEIGHTS.completeness * signals.completeness +
    WEIGHTS.audienceMatch * signals.audienceMatch +
    WEIGHTS.skillMatch * signals.skillMatch;
  return base * (isFounding ? FOUNDING_MULTIPLIER : 1);
}

/** Great-circle distance in kilometres. */
export function haversineKm(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const radians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = radians(b.lat - a.lat);
  const dLng = radians(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.lat)) * Math.cos(radians(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
