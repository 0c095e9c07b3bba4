import { describe, expect, it } from 'vitest';
import type { ParsedQuery } from '../parsed-query.ts';
import { needsLlm, parseQuery } from '../parse/index.ts';
import golden from './queries.json' with { type: 'json' };
import { seedVocabulary } from './seed-vocabulary.ts';

/** The golden exact-match rate must not fall below this. */
const REQUIRED_EXACT_MATCH_RATE = 0.95;

interface Expectation {
  service?: string;
  category?: string;
  maxPriceCents?: number;
  minPriceCents?: number;
  priceIntent?: 'budget' | 'premium';
  date?: string;
  dateEnd?: string;
  time?: string;
  audience?: string;
  age?: number;
  skill?: string;
  lessonType?: string;
  location?: string;
  nearMe?: boolean;
  urgency?: string;
}

const vocabulary = seedVocabulary();
const now = new Date(golden.now);

function clock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** The fields that matter, in the golden file's shape; null where the query said nothing. */
function comparable(parsed: ParsedQuery): Record<string, unknown> {
  return {
    service: parsed.serviceSlug,
    category: parsed.categorySlug,
    maxPriceCents: parsed.maxPriceCents,
    minPriceCents: parsed.minPriceCents,
    priceIntent: parsed.priceIntent,
    date: parsed.date,
    dateEnd: parsed.dateEnd,
    time: parsed.timeWindow ? `${clock(parsed.timeWindow.startMinute)}-${clock(parsed.timeWindow.endMinute)}` : null,
    audience: parsed.audience,
    age: parsed.age,
    skill: parsed.skill,
    lessonType: parsed.lessonType,
    location: parsed.location && !parsed.location.nearMe ? parsed.location.phrase : null,
    nearMe: parsed.location?.nearMe ?? false,
    urgency: parsed.urgency,
    needsLlm: needsLlm(parsed),
  };
}

function expected(expectation: Expectation): Record<string, unknown> {
  return {
    service: expectation.service ?? null,
    category: expectation.category ?? null,
    maxPriceCents: expectation.maxPriceCents ?? null,
    minPriceCents: expectation.minPriceCents ?? null,
    priceIntent: expectation.priceIntent ?? null,
    date: expectation.date ?? null,
    dateEnd: expectation.dateEnd ?? expectation.date ?? null,
    time: expectation.time ?? null,
    audience: expectation.audience ?? null,
    age: expectation.age ?? null,
    skill: expectation.skill ?? null,
    lessonType: expectation.lessonType ?? null,
    location: expectation.location ?? null,
    nearMe: expectation.nearMe ?? false,
    urgency: expectation.urgency ?? null,
    needsLlm: false,
  };
}

describe('golden queries (core/src/search/golden/queries.json)', () => {
  it('has at least 220 fast-path queries and a separate list of queries for the LLM', () => {
    expect(golden.queries.length).toBeGreaterThanOrEqual(220);
    expect(golden.llmQueries.length).toBeGreaterThan(0);
  });

  it(`parses at least ${REQUIRED_EXACT_MATCH_RATE * 100}% of the queries exactly as expected`, () => {
    const misses: string[] = [];
    for (const entry of golden.queries) {
      const actual = comparable(parseQuery(entry.q, { vocabulary, now, timeZone: golden.timeZone }));
      const wanted = expected(entry.expect as Expectation);
      const differences = Object.keys(wanted).filter((key) => JSON.stringify(actual[key]) !== JSON.stringify(wanted[key]));
      if (differences.length > 0) {
        misses.push(
          `  "${entry.q}": ${differences.map((key) => `${key} got ${JSON.stringify(actual[key])}, want ${JSON.stringify(wanted[key])}`).join('; ')}`,
        );
      }
    }
    const rate = (golden.queries.length - misses.length) / golden.queries.length;
    console.log(
      `golden exact-match rate: ${(rate * 100).toFixed(1)}% (${golden.queries.length - misses.length}/${golden.queries.length})` +
        (misses.length > 0 ? `\nmisses:\n${misses.join('\n')}` : ''),
    );
    expect(rate).toBeGreaterThanOrEqual(REQUIRED_EXACT_MATCH_RATE);
  });

  it.each(golden.llmQueries.map((entry) => [entry.q, entry.reasons] as const))('"%s" needs the LLM (%j)', (query, reasons) => {
    const parsed = parseQuery(query, { vocabulary, now, timeZone: golden.timeZone });
    expect(needsLlm(parsed)).toBe(true);
    expect([...parsed.llmReasons].sort()).toEqual([...reasons].sort());
  });
});
