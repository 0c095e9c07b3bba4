import type { Cache } from '../shared/cache.ts';
import type { CatalogService, SearchCatalog } from './catalog.ts';
import { embedPhrase, serviceVectors } from './embeddings.ts';
import { meaningfulWords, normalizePhrase, stem } from './normalize.ts';
import { editDistance, trigramSimilarity } from './parse/similarity.ts';
import { cosineSimilarity, type SearchAi } from './search-ai.ts';

export type ServiceMatchKind = 'filter' | 'parser' | 'exact' | 'words' | 'category' | 'fuzzy' | 'embedding' | 'any';

export interface ServiceMatch {
  service: CatalogService;
  /** 0–1: how surely the query asked for this service (the ranking's relevance signal). */
  relevance: number;
  how: ServiceMatchKind;
}

export interface ServiceResolution {
  /** The phrase the service was read from, as the parser left it. */
  phrase: string | null;
  matches: ServiceMatch[];
  /** Set when the query named a category rather than one service. */
  categorySlug: string | null;
  /** Why nothing matched: the phrase has no lexical (or, for long phrases, semantic) match. */
  unmatched: boolean;
}

/** A typo close enough to count as a lexical match: trigram ≥ 0.45, or 1 edit (2 for long words). */
function fuzzyScore(word: string, phrase: string): number {
  const trigram = trigramSimilarity(word, phrase);
  if (word.length < 4 || phrase.length < 4) return trigram;
  const allowed = Math.max(word.length, phrase.length) >= 8 ? 2 : 1;
  const distance = editDistance(word, phrase);
  return distance <= allowed ? Math.max(trigram, 0.9 - 0.1 * distance) : trigram;
}
const FUZZY_MIN = 0.45;
const EMBEDDING_MIN = 0.5;

function uniqueBest(matches: ServiceMatch[]): ServiceMatch[] {
  const best = new Map<string, ServiceMatch>();
  for (const match of matches) {
    const current = best.get(match.service.id);
    if (!current || match.relevance > current.relevance) best.set(match.service.id, match);
  }
  return [...best.values()].sort((a, b) => b.relevance - a.relevance || a.service.slug.localeCompare(b.service.slug));
}

function categoryServices(catalog: SearchCatalog, categorySlug: string, relevance: number): ServiceMatch[] {
  return catalog.services
    .filter((service) => service.categorySlug === categorySlug)
    .map((service) => ({ service, relevance, how: 'category' as const }));
}

function categoryNamed(catalog: SearchCatalog, phrase: string): string | null {
  const candidates = [phrase, phrase.split(' ').map(stem).join(' ')];
  const category = catalog.categories.find((item) =>
    item.phrases.some((text) => candidates.includes(text) || candidates.includes(stem(text))),
  );
  return category?.slug ?? null;
}

export interface MatchServicesInput {
  servicePhrase: string | null;
  serviceSlug: string | null;
  categorySlug: string | null;
  /** Structured filter (slug or id): overrides the parse. */
  serviceFilter?: string | null | undefined;
}

/**
 * Which catalog services the query asks for (spec §3): the structured filter, else the parser's
 * own lexical match, else exact name/alias matches of the phrase or its words, a named category,
 * typo-tolerant trigram matches, and — only for phrases of three meaningful words or more, when
 * OpenAI is configured — embeddings. A one- or two-word phrase needs a lexical match.
 */
export async function matchServices(
  catalog: SearchCatalog,
  input: MatchServicesInput,
  deps: { ai?: SearchAi | undefined; cache: Cache },
): Promise<ServiceResolution> {
  const phrase = input.servicePhrase?.trim() || null;
  const none = (unmatched: boolean): ServiceResolution => ({ phrase, matches: [], categorySlug: null, unmatched });

  if (input.serviceFilter) {
    const service = catalog.servicesBySlug.get(input.serviceFilter) ?? catalog.servicesById.get(input.serviceFilter);
    return service ? { phrase, matches: [{ service, relevance: 1, how: 'filter' }], categorySlug: null, unmatched: false } : none(true);
  }
  if (input.serviceSlug) {
    const service = catalog.servicesBySlug.get(input.serviceSlug);
    if (service) return { phrase, matches: [{ service, relevance: 1, how: 'parser' }], categorySlug: null, unmatched: false };
  }

  const full = phrase ? normalizePhrase(phrase) : '';
  const words = phrase ? meaningfulWords(phrase) : [];
  const core = words.join(' ');

  const exact = catalog.services.filter((service) => (full && service.phrases.includes(full)) || (core && service.phrases.includes(core)));
  if (exact.length > 0) {
    return { phrase, matches: exact.map((service) => ({ service, relevance: 1, how: 'exact' })), categorySlug: null, unmatched: false };
  }

  const namedCategory = (full ? categoryNamed(catalog, full) : null) ?? (core ? categoryNamed(catalog, core) : null);
  if (namedCategory)
    return { phrase, matches: categoryServices(catalog, namedCategory, 0.7), categorySlug: namedCategory, unmatched: false };
  if (words.length === 0) {
    if (input.categorySlug) {
      return { phrase, matches: categoryServices(catalog, input.categorySlug, 0.7), categorySlug: input.categorySlug, unmatched: false };
    }
    // nothing but generic words ("a tutor", "lessons"): every service, none preferred
    return {
      phrase,
      matches: catalog.services.map((service) => ({ service, relevance: 0.5, how: 'any' as const })),
      categorySlug: null,
      unmatched: false,
    };
  }

  // word n-grams that name a service exactly ("jazz piano" → piano), longest first
  const wordMatches: ServiceMatch[] = [];
  for (let size = Math.min(3, words.length); size >= 1; size -= 1) {
    for (let start = 0; start + size <= words.length; start += 1) {
      const gram = words.slice(start, start + size).join(' ');
      for (const service of catalog.services) {
        if (service.phrases.includes(gram) || service.phrases.includes(stem(gram))) {
          wordMatches.push({ service, relevance: 0.75 + 0.2 * (size / words.length), how: 'words' });
        }
      }
    }
  }
  if (wordMatches.length > 0) return { phrase, matches: uniqueBest(wordMatches), categorySlug: null, unmatched: false };

  const fuzzy: ServiceMatch[] = [];
  for (const service of catalog.services) {
    let best = 0;
    for (const text of service.phrases) {
      best = Math.max(best, fuzzyScore(core, text));
      for (const word of words) if (!text.includes(' ')) best = Math.max(best, fuzzyScore(word, text) * (words.length > 1 ? 0.9 : 1));
    }
    if (best >= FUZZY_MIN) fuzzy.push({ service, relevance: 0.5 + 0.4 * best, how: 'fuzzy' });
  }
  if (fuzzy.length > 0) {
    const top = uniqueBest(fuzzy);
    const bestRelevance = top[0]?.relevance ?? 0;
    return {
      phrase,
      matches: top.filter((match) => match.relevance >= bestRelevance - 0.1).slice(0, 5),
      categorySlug: null,
      unmatched: false,
    };
  }

  if (input.categorySlug && catalog.categories.some((category) => category.slug === input.categorySlug)) {
    return { phrase, matches: categoryServices(catalog, input.categorySlug, 0.7), categorySlug: input.categorySlug, unmatched: false };
  }
  if (deps.ai && words.length >= 3) {
    const semantic = await embeddingMatches(deps.ai, deps.cache, catalog, core).catch(() => []);
    if (semantic.length > 0) return { phrase, matches: semantic, categorySlug: null, unmatched: false };
  }
  return none(true);
}

async function embeddingMatches(ai: SearchAi, cache: Cache, catalog: SearchCatalog, phrase: string): Promise<ServiceMatch[]> {
  const [query, vectors] = await Promise.all([embedPhrase(ai, cache, phrase), serviceVectors(ai, cache, catalog)]);
  const scored = vectors
    .map((entry) => ({ service: catalog.servicesById.get(entry.key), score: cosineSimilarity(query, entry.vector) }))
    .filter((entry): entry is { service: CatalogService; score: number } => entry.service !== undefined && entry.score >= EMBEDDING_MIN)
    .sort((a, b) => b.score - a.score)
    .slice(0, 3);
  return scored.map((entry) => ({ service: entry.service, relevance: Math.min(0.9, entry.score), how: 'embedding' as const }));
}
