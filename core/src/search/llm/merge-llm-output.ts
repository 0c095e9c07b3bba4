import { DateTime } from 'luxon';
import type { ParsedQuery, SearchVocabulary, TimeWindow } from '../parsed-query.ts';
import { audienceForAge } from '../parse/extract-audience.ts';
import { normalizeText } from '../parse/normalize.ts';
import type { LlmQueryOutput } from './llm-output.ts';

/** Prices outside this range (dollars per hour) are not believed. */
const MAX_PLAUSIBLE_PRICE_DOLLARS = 1000;
/** Dates further ahead than this are not believed. */
const MAX_DAYS_AHEAD = 366;
/** A date range longer than this is not believed. */
const MAX_RANGE_DAYS = 31;
/** Confidence of a parse the LLM confirmed or completed. */
export const LLM_CONFIDENCE = 0.85;

function validDay(value: string | null, today: string): DateTime | null {
  if (value === null || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const day = DateTime.fromISO(value, { zone: 'UTC' });
  const start = DateTime.fromISO(today, { zone: 'UTC' });
  if (!day.isValid || !start.isValid) return null;
  const ahead = day.diff(start, 'days').days;
  return ahead >= 0 && ahead <= MAX_DAYS_AHEAD ? day : null;
}

function minuteOf(value: string | null): number | null {
  const match = value === null ? null : /^([01]?\d|2[0-4]):([0-5]\d)$/.exec(value);
  if (!match) return null;
  const minute = Number(match[1]) * 60 + Number(match[2]);
  return minute <= 24 * 60 ? minute : null;
}

function timeWindowOf(output: LlmQueryOutput): TimeWindow | null {
  const start = minuteOf(output.startTime);
  if (start === null) return null;
  const end = minuteOf(output.endTime) ?? Math.min(24 * 60, start + 60);
  return end > start ? { startMinute: start, endMinute: end } : null;
}

function priceCents(dollars: number | null): number | null {
  if (dollars === null || !Number.isFinite(dollars) || dollars <= 0 || dollars > MAX_PLAUSIBLE_PRICE_DOLLARS) return null;
  return Math.round(dollars * 100);
}

/**
 * Combines the fast-path parse with the model's answer, trusting the model only where the
 * vocabulary or a plain range check can confirm it: the service and category must exist in the
 * catalog, a location must be a known region phrase, dates must lie ahead (within a year),
 * prices and times must be sane. A field the model left out or got wrong keeps the fast path's
 * value. The result's source is 'llm'.
 */
export function mergeLlmOutput(
  fast: ParsedQuery,
  output: LlmQueryOutput,
  context: { vocabulary: SearchVocabulary; today: string },
): ParsedQuery {
  const { vocabulary, today } = context;
  const service = output.serviceSlug ? vocabulary.services.find((candidate) => candidate.slug === output.serviceSlug) : undefined;
  const category = output.categorySlug ? vocabulary.categories.find((candidate) => candidate.slug === output.categorySlug) : undefined;

  const serviceSlug = service?.slug ?? fast.serviceSlug;
  // As on the fast path, a category is reported only when no single service was named.
  const categorySlug = serviceSlug ? null : (category?.slug ?? fast.categorySlug);
  const servicePhrase = output.servicePhrase?.trim() ? output.servicePhrase.trim().toLowerCase().slice(0, 80) : fast.servicePhrase;

  const maxPriceCents = priceCents(output.maxPriceDollars) ?? fast.maxPriceCents;
  const minPriceCents = priceCents(output.minPriceDollars) ?? fast.minPriceCents;
  const pricesAgree = maxPriceCents === null || minPriceCents === null || minPriceCents <= maxPriceCents;

  const firstDay = validDay(output.date, today);
  let date = fast.date;
  let dateEnd = fast.dateEnd;
  if (firstDay) {
    const lastDay = validDay(output.dateEnd, today);
    const rangeDays = lastDay ? lastDay.diff(firstDay, 'days').days : 0;
    date = firstDay.toISODate();
    dateEnd = lastDay && rangeDays >= 0 && rangeDays <= MAX_RANGE_DAYS ? lastDay.toISODate() : date;
  }

  const regionPhrases = new Map(vocabulary.regionPhrases.map((phrase) => [normalizeText(phrase), phrase.toLowerCase()]));
  let location = fast.location;
  if (output.nearMe) location = { phrase: 'near me', nearMe: true };
  else if (output.location) {
    const known = regionPhrases.get(normalizeText(output.location));
    if (known) location = { phrase: known, nearMe: false };
  }

  const age = output.age !== null && output.age > 0 && output.age < 100 ? output.age : fast.age;

  return {
    ...fast,
    servicePhrase,
    serviceSlug,
    categorySlug,
    maxPriceCents: pricesAgree ? maxPriceCents : fast.maxPriceCents,
    minPriceCents: pricesAgree ? minPriceCents : fast.minPriceCents,
    priceIntent: priceCents(output.maxPriceDollars) !== null || priceCents(output.minPriceDollars) !== null ? null : fast.priceIntent,
    date,
    dateEnd,
    timeWindow: timeWindowOf(output) ?? fast.timeWindow,
    audience: output.audience ?? (age !== null && age !== fast.age ? audienceForAge(age) : fast.audience),
    age,
    skill: output.skill ?? fast.skill,
    lessonType: output.lessonType ?? fast.lessonType,
    location,
    urgency: output.urgent ? 'urgent' : fast.urgency,
    confidence: Math.max(fast.confidence, LLM_CONFIDENCE),
    source: 'llm',
  };
}
