/**
 * The contract between the query parser (core/src/search/parse/) and retrieval
 * (core/src/search/*): what a sentence such as "cheap piano lessons for my 8 year old in the
 * upper west side tomorrow after 5pm" was understood to ask for. `null` means the query did not
 * say. Pure data, browser-safe: the storefront shows it as removable filter chips.
 */

export type Audience = 'kids' | 'teens' | 'adults';
export type SkillLevel = 'beginner' | 'intermediate' | 'advanced';
/** in_person covers "at my place", "at your studio" and a plain "in person". */
export type LessonTypeFilter = 'online' | 'in_person' | 'student_location' | 'instructor_location';
export type ParseSource = 'regex' | 'llm' | 'regex_llm_unavailable' | 'regex_llm_failed';

/** A local time-of-day window in minutes after midnight, America/New_York. end > start. */
export interface TimeWindow {
  startMinute: number;
  endMinute: number;
}

/** A location phrase as written, before resolution to regions (resolution needs the database). */
export interface LocationPhrase {
  /** The phrase as it appeared, lower-cased ("upper west side", "ues", "brooklyn"). */
  phrase: string;
  /** "near me" / "nearby": use the signed-in user's saved address. */
  nearMe: boolean;
}

export interface ParsedQuery {
  /** The query after normalization (lower case, collapsed spaces, typos corrected). */
  normalized: string;
  /** What is left once every filter was taken out: the service phrase ("piano", "spanish tutor"). */
  servicePhrase: string | null;
  /** Catalog service the phrase matched lexically (slug), when the parser could tell. */
  serviceSlug: string | null;
  /** Catalog category slug, when the phrase named a category ("music lessons", "tutoring"). */
  categorySlug: string | null;
  maxPriceCents: number | null;
  minPriceCents: number | null;
  /** A price word (cheap, premium…) that set the price through the per-category table. */
  priceIntent: 'budget' | 'premium' | null;
  /** Local calendar day 'YYYY-MM-DD' (America/New_York); for weekends/ranges, the first day. */
  date: string | null;
  /** Inclusive last day for ranges ("this weekend" → Saturday..Sunday); equals `date` otherwise. */
  dateEnd: string | null;
  timeWindow: TimeWindow | null;
  audience: Audience | null;
  /** Age when the query gave one ("for my 8 year old" → 8). */
  age: number | null;
  skill: SkillLevel | null;
  lessonType: LessonTypeFilter | null;
  location: LocationPhrase | null;
  urgency: 'urgent' | null;
  /** 0..1: how sure the parser is that it understood everything that matters. */
  confidence: number;
  source: ParseSource;
  /** Words the parser could not place (drives the LLM-fallback decision). */
  leftoverWords: string[];
  /** Typos corrected: [{from, to}]. */
  corrections: Array<{ from: string; to: string }>;
  /** Why the LLM fallback was (or would have been) consulted; empty when the fast path was sure. */
  llmReasons: string[];
}

/** What the parser knows about the world: catalog and region vocabulary, loaded once (and on catalog change). */
export interface SearchVocabulary {
  services: ReadonlyArray<{ slug: string; name: string; categorySlug: string; aliases: readonly string[] }>;
  categories: ReadonlyArray<{ slug: string; name: string }>;
  /** Region names (neighborhoods and boroughs) and every known alias phrase, lower-cased. */
  regionPhrases: readonly string[];
  /** Per-category hourly price thresholds in cents for price words. */
  priceThresholds: Readonly<Record<string, { budgetMaxCents: number; affordableMaxCents: number; premiumMinCents: number }>>;
}
