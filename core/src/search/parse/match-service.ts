import { INTENT_WORDS, QUALITY_WORDS, SERVICE_NOUNS, STOP_WORDS, stem } from './lexicon.ts';
import { wordsOf } from './normalize.ts';
import type { CatalogTerm, VocabularyIndex } from './vocabulary-index.ts';
import { BOUNDARY, TIME_BOUNDARY } from './working-text.ts';

export interface ServiceMatch {
  serviceSlug: string | null;
  /** The category the phrase named (only when no service matched). */
  categorySlug: string | null;
  /** Category of the matched service, or the named category: picks the price thresholds. */
  effectiveCategorySlug: string | null;
  /** Readable phrase: what is left, without filler ("i want", "someone who") or quality words. */
  servicePhrase: string | null;
  /** Meaningful words no step placed. */
  leftoverWords: string[];
  /** How many different services/categories the words named ("piano and guitar" → 2). */
  distinctSubjects: number;
  /** "and"/"also"/"plus" joins a subject to more words. */
  joinsSubjects: boolean;
  /** Residual words (boundaries removed), for the conditional check. */
  residualWords: string[];
}

/**
 * Words that make a person out of a subject ("guitarist", "violinist", "drummer",
 * "mathematics"): the service word plus one of these still names the service.
 */
const SUBJECT_SUFFIXES = ['ist', 'ists', 'er', 'ers', 'r', 'rs', 'mer', 'mers', 'ematics'];

/** Category synonyms that are just "a tutor": with a named service they add nothing. */
const GENERIC_CATEGORY_WORDS: ReadonlySet<string> = new Set(['tutor', 'tutors', 'tutoring', 'lessons', 'lesson', 'class', 'classes']);

interface Token {
  word: string;
  /** Terms matched by the window this token belongs to (same array for all its tokens). */
  terms: readonly CatalogTerm[] | null;
  matchId: number;
  segment: number;
}

function termsByStems(index: VocabularyIndex): Map<string, CatalogTerm[]> {
  const map = new Map<string, CatalogTerm[]>();
  for (const term of index.terms) {
    const key = term.stems.join(' ');
    const list = map.get(key);
    if (list) list.push(term);
    else map.set(key, [term]);
  }
  return map;
}

const lookupCache = new WeakMap<VocabularyIndex, Map<string, CatalogTerm[]>>();

function lookup(index: VocabularyIndex): Map<string, CatalogTerm[]> {
  let map = lookupCache.get(index);
  if (!map) {
    map = termsByStems(index);
    lookupCache.set(index, map);
  }
  return map;
}

function suffixMatch(word: string, index: VocabularyIndex): CatalogTerm[] | null {
  for (const term of index.terms) {
    if (term.kind !== 'service' || term.words.length !== 1) continue;
    const base = term.words[0] ?? '';
    if (base.length < 4 || !word.startsWith(base.slice(0, -1))) continue;
    // "drums" → "drummer", "piano" → "pianist", "cello" → "cellist"
    const bases = [base, base.replace(/[saeo]$/, '')];
    if (bases.some((candidate) => SUBJECT_SUFFIXES.some((suffix) => word === candidate + suffix))) return [term];
  }
  return null;
}

function tokenize(residual: string, index: VocabularyIndex): Token[] {
  const map = lookup(index);
  const tokens: Token[] = [];
  let matchId = 0;
  let segment = 0;
  for (const segmentText of residual.split(new RegExp(`[\\${BOUNDARY}${TIME_BOUNDARY}]`))) {
    segment += 1;
    const words = wordsOf(segmentText.trim());
    const stems = words.map(stem);
    let position = 0;
    while (position < words.length) {
      let matched = false;
      for (let size = Math.min(index.maxTermWords, words.length - position); size >= 1; size -= 1) {
        const terms = map.get(stems.slice(position, position + size).join(' '));
        if (!terms) continue;
        matchId += 1;
        for (const word of words.slice(position, position + size)) tokens.push({ word, terms, matchId, segment });
        position += size;
        matched = true;
        break;
      }
      if (matched) continue;
      const word = words[position] ?? '';
      const bySuffix = suffixMatch(word, index);
      matchId += 1;
      tokens.push({ word, terms: bySuffix, matchId, segment });
      position += 1;
    }
  }
  return tokens;
}

function isFiller(word: string): boolean {
  return STOP_WORDS.has(word) || INTENT_WORDS.has(word) || SERVICE_NOUNS.has(word) || QUALITY_WORDS.has(word);
}

/**
 * Matches what is left of the query against the catalog, longest phrase first (service names,
 * aliases and slugs; then category names): "spanish tutor" → spanish, "music lessons" → the
 * music category. Filler is ignored for matching but a readable phrase is kept.
 */
export function matchService(residual: string, index: VocabularyIndex): ServiceMatch {
  const tokens = tokenize(residual, index);
  const subjects: Array<{ kind: 'service' | 'category'; slug: string; categorySlug: string; words: string[] }> = [];
  const seenMatch = new Set<number>();
  for (const token of tokens) {
    if (!token.terms || seenMatch.has(token.matchId)) continue;
    seenMatch.add(token.matchId);
    const words = tokens.filter((other) => other.matchId === token.matchId).map((other) => other.word);
    const services = [...new Set(token.terms.filter((term) => term.kind === 'service').map((term) => term.slug))];
    const first = token.terms[0];
    if (!first) continue;
    if (services.length > 1) {
      // An alias two services share ("composition"): no single service, but still a subject.
      subjects.push({ kind: 'service', slug: '', categorySlug: '', words });
    } else if (services.length === 1) {
      const term = token.terms.find((candidate) => candidate.kind === 'service') ?? first;
      subjects.push({ kind: 'service', slug: term.slug, categorySlug: term.categorySlug, words });
    } else {
      subjects.push({ kind: 'category', slug: first.slug, categorySlug: first.slug, words });
    }
  }

  const services = subjects.filter((subject) => subject.kind === 'service');
  const primaryService = services.find((subject) => subject.slug !== '') ?? null;
  const namedCategories = subjects.filter(
    (subject) => subject.kind === 'category' && !(services.length > 0 && subject.words.every((word) => GENERIC_CATEGORY_WORDS.has(word))),
  );
  const subjectKeys = new Set<string>();
  for (const subject of services) subjectKeys.add(`service:${subject.slug || subject.words.join(' ')}`);
  // Next to a service, a category word is usually a descriptor ("chem tutor for the AP exam");
  // it is a second subject only when a conjunction joins things ("piano and dance lessons").
  const hasConjunction = tokens.some((token) => ['and', 'or', 'also', 'plus'].includes(token.word));
  for (const category of namedCategories) {
    if (services.some((service) => service.categorySlug === category.slug)) continue;
    if (services.length > 0 && !hasConjunction) continue;
    subjectKeys.add(`category:${category.slug}`);
  }

  const categorySlug = primaryService || services.length > 0 ? null : (namedCategories[0]?.slug ?? null);
  const effectiveCategorySlug = primaryService?.categorySlug ?? categorySlug;

  const leftoverWords = tokens.filter((token) => !token.terms && !isFiller(token.word)).map((token) => token.word);
  const isKept = (token: Token | undefined): boolean =>
    Boolean(token && (token.terms || !(STOP_WORDS.has(token.word) || INTENT_WORDS.has(token.word) || QUALITY_WORDS.has(token.word))));
  // A lone stop word between two kept words stays, so the phrase reads "rock and roll guitar".
  const readable = tokens.filter((token, position) => {
    if (isKept(token)) return true;
    const before = tokens[position - 1];
    const after = tokens[position + 1];
    return (
      STOP_WORDS.has(token.word) && isKept(before) && isKept(after) && before?.segment === token.segment && after?.segment === token.segment
    );
  });
  const hasSubstance = readable.some((token) => token.terms || !SERVICE_NOUNS.has(token.word));

  let joinsSubjects = false;
  tokens.forEach((token, position) => {
    if (!['and', 'also', 'plus'].includes(token.word)) return;
    const before = tokens.slice(0, position).filter((other) => other.terms || !isFiller(other.word));
    const after = tokens.slice(position + 1).filter((other) => other.terms || !isFiller(other.word));
    if (before.length === 0 || after.length === 0) return;
    // "and" between two subjects is counted by distinctSubjects ("salsa and bachata" is one);
    // between two unplaced words it is part of a name ("rock and roll guitar").
    const subjectBefore = Boolean(before.at(-1)?.terms);
    const subjectAfter = Boolean(after[0]?.terms);
    if (token.word !== 'and' || subjectBefore !== subjectAfter) joinsSubjects = true;
  });

  return {
    serviceSlug: primaryService?.slug ?? null,
    categorySlug,
    effectiveCategorySlug,
    servicePhrase: hasSubstance ? readable.map((token) => token.word).join(' ') : null,
    leftoverWords,
    distinctSubjects: subjectKeys.size,
    joinsSubjects,
    residualWords: tokens.map((token) => token.word),
  };
}
