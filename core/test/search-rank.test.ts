import { describe, expect, it } from 'vitest';
import { editDistance, trigramSimilarity } from '../src/search/parse/similarity.ts';
import { normalizePhrase } from '../src/search/normalize.ts';
import {
  combineScore,
  completenessScore,
  distanceScore,
  freshnessScore,
  priceFitScore,
  qualityScore,
  reviewWeight,
  type Signals,
  WEIGHTS,
} from '../src/search/rank.ts';
import { pageOfResults, type SearchItem } from '../src/search/search-result.ts';

// Spec: search.md §4, one table per signal.
describe('ranking signals', () => {
  it.each([
    [null, 0.7],
    [0, 1],
    [1, 1],
    [5.5, 0.75],
    [10, 0.5],
    [20, 0.35],
    [30, 0.2],
    [45, 0.2],
  ])('distance %s km → %s', (km, expected) => {
    expect(distanceScore(km)).toBeCloseTo(expected, 6);
  });

  it.each([
    [9000, null, 0.7],
    [7000, 10_000, 1],
    [6000, 10_000, 1],
    [8500, 10_000, 0.85],
    [10_000, 10_000, 0.7],
    [10_001, 10_000, 0.5],
  ])('price %s¢ with budget %s¢ → %s', (rate, budget, expected) => {
    expect(priceFitScore(rate, budget)).toBeCloseTo(expected, 6);
  });

  const now = new Date('2027-03-02T15:00:00Z');
  const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
  it.each([
    [null, 0.3],
    [0.5, 1],
    [1, 1],
    [1.01, 0.9],
    [7, 0.9],
    [29, 0.7],
    [90, 0.5],
    [91, 0.3],
  ])('last active %s days ago → %s', (days, expected) => {
    expect(freshnessScore(days === null ? null : daysAgo(days), now)).toBe(expected);
  });

  it('completeness: 0.2 for each of photo, bio, background check, identity, response rate over 80%', () => {
    const empty = { photoUrl: null, bio: '  ', backgroundCheckPassed: false, identityVerified: false, responseRate: 0.8 };
    expect(completenessScore(empty)).toBe(0);
    expect(completenessScore({ ...empty, bio: 'Juilliard-trained' })).toBe(0.2);
    expect(completenessScore({ ...empty, responseRate: 0.81 })).toBe(0.2);
    expect(
      completenessScore({ photoUrl: 'https://x/p.jpg', bio: 'b', backgroundCheckPassed: true, identityVerified: true, responseRate: 0.95 }),
    ).toBe(1);
  });

  it('quality: Bayesian average with a 3-review prior, reviews halving in weight every 12 months', () => {
    expect(reviewWeight(0)).toBe(1);
    expect(reviewWeight(365.25)).toBeCloseTo(0.5, 6);
    expect(reviewWeight(730.5)).toBeCloseTo(0.25, 6);
    // no reviews: the prior itself (4.5 on 1–5 → 0.875)
    expect(qualityScore(0, 0, 4.5)).toBeCloseTo(0.875, 6);
    // one fresh 1-star review barely moves it: (3·4.5 + 1) / 4 = 3.625
    expect(qualityScore(1, 1, 4.5)).toBeCloseTo((3.625 - 1) / 4, 6);
    // many fresh 5-star reviews approach 5
    expect(qualityScore(5 * 30, 30, 4.5)).toBeGreaterThan(0.98);
    // the same five stars two years ago count a quarter as much
    expect(qualityScore(5 * 0.25, 0.25, 3)).toBeLessThan(qualityScore(5, 1, 3));
  });

  it('combines with the spec weights and boosts founding instructors × 1.5', () => {
    expect(Object.values(WEIGHTS).reduce((sum, weight) => sum + weight, 0)).toBeCloseTo(1.15, 6);
    const signals: Signals = {
      relevance: 1,
      quality: 0.8,
      distance: 0.7,
      priceFit: 1,
      freshness: 0.9,
      completeness: 0.6,
      audienceMatch: 1,
      skillMatch: 0,
    };
    const base = 0.35 * 1 + 0.25 * 0.8 + 0.15 * 0.7 + 0.1 * 1 + 0.1 * 0.9 + 0.05 * 0.6 + 0.1 * 1 + 0.05 * 0;
    expect(combineScore(signals, false)).toBeCloseTo(base, 10);
    expect(combineScore(signals, true)).toBeCloseTo(base * 1.5, 10);
  });
});

describe('matching helpers', () => {
  it('normalizes phrases the way names are compared', () => {
    expect(normalizePhrase("  Hell's   Kitchen ")).toBe('hells kitchen');
    expect(normalizePhrase('Bed-Stuy')).toBe('bed stuy');
    expect(normalizePhrase('Español')).toBe('espanol');
    expect(normalizePhrase('St. George')).toBe('st george');
  });

  it('scores typos like pg_trgm and counts transpositions as one edit', () => {
    expect(trigramSimilarity('piano', 'piano')).toBe(1);
    expect(trigramSimilarity('upper west sid', 'upper west side')).toBeGreaterThan(0.7);
    expect(trigramSimilarity('zqxj', 'piano')).toBe(0);
    expect(editDistance('paino', 'piano')).toBe(1);
    expect(editDistance('gutiar', 'guitar')).toBe(1);
    expect(editDistance('spansh', 'spanish')).toBe(1);
    expect(editDistance('chess', 'cello')).toBe(4);
  });
});

describe('result pages', () => {
  const item = (id: string, score: number, rate: number, rating: number | null, unmet: SearchItem['unmet'] = []): SearchItem =>
    ({ instructor: { id }, score, hourlyRateCents: rate, rating, reviewCount: rating === null ? 0 : 5, unmet }) as unknown as SearchItem;
  const items = [
    item('a', 0.9, 12_000, 4.5),
    item('b', 1.2, 9_000, null),
    item('c', 0.7, 9_000, 4.9, ['time']),
    item('d', 0.9, 15_000, 4.5),
  ];

  it('recommended puts results that meet every constraint first, then by score', () => {
    expect(pageOfResults(items, 'recommended', 10, undefined).items.map((entry) => entry.instructor.id)).toEqual(['b', 'a', 'd', 'c']);
  });

  it('price sorts cheapest first; rating puts unrated last', () => {
    expect(pageOfResults(items, 'price', 10, undefined).items.map((entry) => entry.instructor.id)).toEqual(['b', 'c', 'a', 'd']);
    expect(pageOfResults(items, 'rating', 10, undefined).items.map((entry) => entry.instructor.id)).toEqual(['c', 'a', 'd', 'b']);
  });

  it('pages with a cursor that belongs to one sort', () => {
    const first = pageOfResults(items, 'price', 2, undefined);
    expect(first.items.map((entry) => entry.instructor.id)).toEqual(['b', 'c']);
    const second = pageOfResults(items, 'price', 2, first.nextCursor ?? undefined);
    expect(second.items.map((entry) => entry.instructor.id)).toEqual(['a', 'd']);
    expect(second.nextCursor).toBeNull();
    expect(() => pageOfResults(items, 'rating', 2, first.nextCursor ?? undefined)).toThrow(/cursor/);
  });
});
