import { PLATFORM_ZONE } from '../../availability/local-time.ts';
import type { ParsedQuery, SearchVocabulary } from '../parsed-query.ts';
import { correctTypos } from './correct-typos.ts';
import { extractAudience } from './extract-audience.ts';
import { extractDate } from './extract-date.ts';
import { extractLessonType } from './extract-lesson-type.ts';
import { extractLocation } from './extract-location.ts';
import { extractPrice } from './extract-price.ts';
import { extractSkill, extractUrgency } from './extract-skill.ts';
import { extractTimeOfDay } from './extract-time.ts';
import { matchService } from './match-service.ts';
import { normalizeText } from './normalize.ts';
import { priceThresholdFor } from './price-thresholds.ts';
import { indexVocabulary } from './vocabulary-index.ts';
import type { WorkingText } from './working-text.ts';

export interface ParseOptions {
  vocabulary: SearchVocabulary;
  now: Date;
  /** IANA zone dates are computed in; America/New_York unless told otherwise. */
  timeZone?: string;
}

/** Why the LLM fallback would be consulted (spec §1). */
export type LlmReason = 'many_leftover_words' | 'conditional' | 'several_services' | 'history';

/** Spec §1: more than this many meaningful words left over sends the query to the LLM. */
export const MAX_LEFTOVER_WORDS = 6;

const CONDITIONAL = /^(?:or|either|if|unless|otherwise)$/;
const HISTORY =
  /\b(?:again|last time|same (?:teacher|instructor|tutor|coach|trainer|person|one|as (?:before|last))|previous(?:ly)?|my (?:old|usual|regular|last|previous|former) (?:teacher|instructor|tutor|coach|trainer)|same (?:time|day|slot) as|usual|rebook|book again|i had before|we had before)\b/;

function roundConfidence(value: number): number {
  return Math.round(Math.min(1, Math.max(0.05, value)) * 100) / 100;
}

/**
 * Parses a free-text search ("cheap piano lessons for my 8 year old in the upper west side
 * tomorrow after 5pm") into filters, deterministically and without I/O (spec §1). Steps run in
 * the spec's order: typo correction → price → audience → time of day → date → lesson type →
 * location → skill → urgency; what is left is matched against the catalog as the service phrase.
 * `llmReasons` says whether the LLM fallback should look at the query too.
 */
export function parseQuery(text: string, options: ParseOptions): ParsedQuery {
  const index = indexVocabulary(options.vocabulary);
  const timeZone = options.timeZone ?? PLATFORM_ZONE;
  const { text: normalized, corrections } = correctTypos(normalizeText(text), index);
  const work: WorkingText = { text: normalized };

  const price = extractPrice(work);
  const audience = extractAudience(work);
  const time = extractTimeOfDay(work);
  const date = extractDate(work, options.now, timeZone, time.impliesToday);
  const lessonType = extractLessonType(work);
  const location = extractLocation(work, index);
  const skill = extractSkill(work);
  const urgency = extractUrgency(work);
  const service = matchService(work.text, index);

  let maxPriceCents = price.maxPriceCents;
  let minPriceCents = price.minPriceCents;
  let priceIntent: ParsedQuery['priceIntent'] = null;
  if (price.priceWord) {
    const threshold = priceThresholdFor(options.vocabulary, service.effectiveCategorySlug);
    if (price.priceWord === 'premium') {
      minPriceCents = threshold.premiumMinCents;
      priceIntent = 'premium';
    } else {
      maxPriceCents = price.priceWord === 'budget' ? threshold.budgetMaxCents : threshold.affordableMaxCents;
      priceIntent = 'budget';
    }
  }

  const llmReasons: LlmReason[] = [];
  if (service.leftoverWords.length > MAX_LEFTOVER_WORDS) llmReasons.push('many_leftover_words');
  if (service.residualWords.some((word) => CONDITIONAL.test(word))) llmReasons.push('conditional');
  if (service.distinctSubjects > 1 || service.joinsSubjects) llmReasons.push('several_services');
  if (HISTORY.test(normalized)) llmReasons.push('history');

  const understoodSubject = service.serviceSlug !== null || service.categorySlug !== null;
  let confidence = understoodSubject ? 0.95 : service.servicePhrase === null ? 0.6 : 0.35;
  confidence -= Math.min(0.4, 0.08 * service.leftoverWords.length);
  confidence -= 0.15 * llmReasons.length;
  confidence -= Math.min(0.15, 0.03 * corrections.length);
  if (normalized.length === 0) confidence = 0;

  return {
    normalized,
    servicePhrase: service.servicePhrase,
    serviceSlug: service.serviceSlug,
    categorySlug: service.categorySlug,
    maxPriceCents,
    minPriceCents,
    priceIntent,
    date: date.date,
    dateEnd: date.dateEnd,
    timeWindow: time.timeWindow,
    audience: audience.audience,
    age: audience.age,
    skill,
    lessonType,
    location,
    urgency,
    confidence: normalized.length === 0 ? 0 : roundConfidence(confidence),
    source: 'regex',
    leftoverWords: service.leftoverWords,
    corrections,
    llmReasons,
  };
}

/** True when the fast path was unsure (spec §1 conditions, listed in `parsed.llmReasons`). */
export function needsLlm(parsed: ParsedQuery): boolean {
  return parsed.llmReasons.length > 0;
}
