import { describe, expect, it } from 'vitest';
import { seedVocabulary } from '../golden/seed-vocabulary.ts';
import { parseQuery } from '../parse/index.ts';
import type { LlmQueryOutput } from './llm-output.ts';
import { LLM_CONFIDENCE, mergeLlmOutput } from './merge-llm-output.ts';

const vocabulary = seedVocabulary();
const now = new Date('2026-11-23T15:00:00Z');
const context = { vocabulary, today: '2026-11-23' };
// The fast path: piano, kids, tomorrow 17:00–21:00, $60 budget, unsure because of "or".
const fast = parseQuery('cheap piano or guitar for my son tomorrow evening', { vocabulary, now });

const EMPTY: LlmQueryOutput = {
  serviceSlug: null,
  categorySlug: null,
  servicePhrase: null,
  maxPriceDollars: null,
  minPriceDollars: null,
  date: null,
  dateEnd: null,
  startTime: null,
  endTime: null,
  audience: null,
  age: null,
  skill: null,
  lessonType: null,
  location: null,
  nearMe: false,
  urgent: false,
};

function merge(overrides: Partial<LlmQueryOutput>) {
  return mergeLlmOutput(fast, { ...EMPTY, ...overrides }, context);
}

describe('mergeLlmOutput', () => {
  it('keeps every fast-path value the model left null and marks the source', () => {
    const merged = merge({});
    expect(merged).toEqual({ ...fast, source: 'llm', confidence: Math.max(fast.confidence, LLM_CONFIDENCE) });
  });

  it('takes the values the vocabulary and range checks confirm', () => {
    const merged = merge({
      serviceSlug: 'guitar',
      servicePhrase: 'Guitar lessons',
      maxPriceDollars: 75,
      date: '2026-11-28',
      dateEnd: '2026-11-29',
      startTime: '10:00',
      endTime: '12:30',
      skill: 'beginner',
      lessonType: 'online',
      location: 'Upper West Side',
      urgent: true,
    });
    expect(merged.serviceSlug).toBe('guitar');
    expect(merged.categorySlug).toBeNull();
    expect(merged.servicePhrase).toBe('guitar lessons');
    expect(merged.maxPriceCents).toBe(7500);
    expect(merged.priceIntent).toBeNull();
    expect([merged.date, merged.dateEnd]).toEqual(['2026-11-28', '2026-11-29']);
    expect(merged.timeWindow).toEqual({ startMinute: 600, endMinute: 750 });
    expect(merged.skill).toBe('beginner');
    expect(merged.lessonType).toBe('online');
    expect(merged.location).toEqual({ phrase: 'upper west side', nearMe: false });
    expect(merged.urgency).toBe('urgent');
  });

  it.each<[string, Partial<LlmQueryOutput>, (merged: ReturnType<typeof merge>) => unknown, unknown]>([
    ['a service that is not in the catalog', { serviceSlug: 'underwater-basket-weaving' }, (m) => m.serviceSlug, 'piano'],
    ['a category that is not in the catalog', { serviceSlug: null, categorySlug: 'astrology' }, (m) => m.categorySlug, null],
    ['a place that is no known region', { location: 'atlantis' }, (m) => m.location, null],
    ['a day in the past', { date: '2026-11-20' }, (m) => m.date, '2026-11-24'],
    ['a day more than a year ahead', { date: '2028-01-01' }, (m) => m.date, '2026-11-24'],
    ['a malformed day', { date: 'next tuesday' }, (m) => m.date, '2026-11-24'],
    ['a range of several months', { date: '2026-12-01', dateEnd: '2027-03-01' }, (m) => [m.date, m.dateEnd], ['2026-12-01', '2026-12-01']],
    ['an end before the start', { startTime: '18:00', endTime: '17:00' }, (m) => m.timeWindow, { startMinute: 1020, endMinute: 1260 }],
    ['a malformed time', { startTime: '7pm' }, (m) => m.timeWindow, { startMinute: 1020, endMinute: 1260 }],
    ['an absurd price', { maxPriceDollars: 100000 }, (m) => m.maxPriceCents, 6000],
    [
      'a minimum above the maximum',
      { minPriceDollars: 200, maxPriceDollars: 100 },
      (m) => [m.minPriceCents, m.maxPriceCents],
      [null, 6000],
    ],
    ['an impossible age', { age: 250 }, (m) => m.age, null],
  ])('ignores %s', (_label, overrides, pick, expected) => {
    expect(pick(merge(overrides))).toEqual(expected);
  });

  it('reports a category only when no service was named', () => {
    const categoryOnly = mergeLlmOutput(
      parseQuery('lessons or classes', { vocabulary, now }),
      { ...EMPTY, categorySlug: 'music' },
      context,
    );
    expect(categoryOnly.categorySlug).toBe('music');
    expect(merge({ serviceSlug: 'guitar', categorySlug: 'music' }).categorySlug).toBeNull();
  });

  it('reads "near me" and an age the fast path missed', () => {
    const merged = merge({ nearMe: true, age: 15 });
    expect(merged.location).toEqual({ phrase: 'near me', nearMe: true });
    expect(merged.age).toBe(15);
    expect(merged.audience).toBe('teens');
  });
});
