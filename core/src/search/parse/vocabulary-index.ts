import type { SearchVocabulary } from '../parsed-query.ts';
import { COMMON_WORDS, INTENT_WORDS, KEYWORDS, QUALITY_WORDS, SERVICE_NOUNS, STOP_WORDS, stem } from './lexicon.ts';
import { escapeRegExp, normalizeText, wordsOf } from './normalize.ts';

/** A catalog phrase (service name, alias, category name) in normalized, stemmed words. */
export interface CatalogTerm {
  kind: 'service' | 'category';
  /** Service slug, or category slug for kind 'category'. */
  slug: string;
  categorySlug: string;
  words: readonly string[];
  stems: readonly string[];
}

/** A word or phrase typo correction may correct to. */
export interface CorrectionTarget {
  words: readonly string[];
}

/** The vocabulary prepared for the parser; built once per SearchVocabulary object. */
export interface VocabularyIndex {
  vocabulary: SearchVocabulary;
  terms: readonly CatalogTerm[];
  /** Longest term length in words. */
  maxTermWords: number;
  /** Normalized region phrase → the vocabulary's own spelling. */
  regions: ReadonlyMap<string, string>;
  /** Every region phrase, longest first, as one alternation (no capture groups). */
  regionAlternation: string;
  /** Words that belong to the catalog or the region list. */
  vocabularyWords: ReadonlySet<string>;
  /** Words of region phrases. */
  regionWords: ReadonlySet<string>;
  /** Words the parser knows: never corrected into something else. */
  knownWords: ReadonlySet<string>;
  correctionTargets: readonly CorrectionTarget[];
  /** Multi-word targets written without spaces ("bayridge") → the phrase. */
  joinedTargets: ReadonlyMap<string, string>;
}

/**
 * Everyday names of the seeded categories. Applied only to slugs the vocabulary has, so a renamed
 * catalog loses a synonym rather than gaining a wrong one.
 */
const CATEGORY_SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  music: ['music', 'music lessons', 'instrument', 'instruments', 'musical instrument'],
  languages: ['language', 'languages', 'foreign language', 'language lessons'],
  tutoring: ['tutoring', 'tutor', 'tutors', 'academic tutoring', 'academic help'],
  'test-prep': ['test prep', 'test preparation', 'exam prep', 'test', 'tests', 'exam', 'standardized test'],
  'sports-fitness': ['sports', 'sport', 'athletics', 'workout', 'exercise'],
  arts: ['art', 'arts', 'crafts', 'art class', 'art lessons'],
  dance: ['dance', 'dancing', 'dance lessons', 'dance class'],
  'life-skills': ['life skills'],
};

const cache = new WeakMap<SearchVocabulary, VocabularyIndex>();

function phraseVariants(text: string): string[] {
  const variants = new Set<string>([normalizeText(text)]);
  const withoutParentheses = text.replace(/\([^)]*\)/g, ' ');
  if (withoutParentheses !== text) variants.add(normalizeText(withoutParentheses));
  return [...variants].filter((variant) => variant.length > 0);
}

/** Prepares (and memoizes) the lookup structures the parser needs for one vocabulary. */
export function indexVocabulary(vocabulary: SearchVocabulary): VocabularyIndex {
  const cached = cache.get(vocabulary);
  if (cached) return cached;

  const terms: CatalogTerm[] = [];
  const seen = new Set<string>();
  const addTerm = (kind: CatalogTerm['kind'], slug: string, categorySlug: string, phrase: string): void => {
    for (const variant of phraseVariants(phrase)) {
      const key = `${kind}:${slug}:${variant}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const words = wordsOf(variant);
      terms.push({ kind, slug, categorySlug, words, stems: words.map(stem) });
    }
  };
  for (const service of vocabulary.services) {
    addTerm('service', service.slug, service.categorySlug, service.name);
    addTerm('service', service.slug, service.categorySlug, service.slug.replace(/-/g, ' '));
    for (const alias of service.aliases) addTerm('service', service.slug, service.categorySlug, alias);
  }
  for (const category of vocabulary.categories) {
    addTerm('category', category.slug, category.slug, category.name);
    addTerm('category', category.slug, category.slug, category.slug.replace(/-/g, ' '));
    for (const synonym of CATEGORY_SYNONYMS[category.slug] ?? []) addTerm('category', category.slug, category.slug, synonym);
  }

  const regions = new Map<string, string>();
  for (const phrase of vocabulary.regionPhrases) {
    const normalized = normalizeText(phrase);
    if (normalized && !regions.has(normalized)) regions.set(normalized, phrase.toLowerCase());
  }
  const regionAlternation = [...regions.keys()]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|');

  const regionWords = new Set<string>();
  for (const phrase of regions.keys()) for (const word of wordsOf(phrase)) regionWords.add(word);
  const vocabularyWords = new Set<string>(regionWords);
  for (const term of terms) for (const word of term.words) vocabularyWords.add(word);

  const knownWords = new Set<string>([
    ...STOP_WORDS,
    ...INTENT_WORDS,
    ...SERVICE_NOUNS,
    ...QUALITY_WORDS,
    ...KEYWORDS,
    ...COMMON_WORDS,
    ...vocabularyWords,
  ]);

  const targets = new Map<string, CorrectionTarget>();
  for (const term of terms) targets.set(term.words.join(' '), { words: term.words });
  for (const phrase of regions.keys()) targets.set(phrase, { words: wordsOf(phrase) });
  // Query keywords are worth correcting too ("tomorow", "begginer"), but only the longer ones:
  // short keywords sit one typo away from ordinary words.
  for (const keyword of KEYWORDS) if (keyword.length >= 6) targets.set(keyword, { words: [keyword] });

  const joinedTargets = new Map<string, string>();
  for (const target of targets.values()) {
    if (target.words.length > 1) joinedTargets.set(target.words.join(''), target.words.join(' '));
  }

  const index: VocabularyIndex = {
    vocabulary,
    terms,
    maxTermWords: Math.max(1, ...terms.map((term) => term.words.length)),
    regions,
    regionAlternation,
    vocabularyWords,
    regionWords,
    knownWords,
    correctionTargets: [...targets.values()],
    joinedTargets,
  };
  cache.set(vocabulary, index);
  return index;
}
