import { z } from 'zod';
import { AppError } from '../shared/errors.ts';
import { decodeCursor, encodeCursor } from '../shared/pagination.ts';
import type { Audience, LessonTypeFilter, ParseSource, SkillLevel } from './parsed-query.ts';
import type { Signals } from './rank.ts';

export const SEARCH_SORTS = ['recommended', 'price', 'rating'] as const;
export type SearchSort = (typeof SEARCH_SORTS)[number];

/** Constraints relaxation may drop, in the order it drops them (spec §3). The service never. */
export const RELAXABLE = ['time', 'date', 'skill', 'audience', 'location', 'price'] as const;
export type Relaxable = (typeof RELAXABLE)[number];

export interface SearchItem {
  instructor: {
    id: string;
    name: string;
    photoUrl: string | null;
    isFounding: boolean;
    isVerified: boolean;
    backgroundChecked: boolean;
    yearsExperience: number;
    bio: string;
  };
  service: { id: string; slug: string; name: string; category: string };
  hourlyRateCents: number;
  durations: number[];
  lessonTypes: string[];
  rating: number | null;
  reviewCount: number;
  distanceKm: number | null;
  /** The first bookable start in the requested window (or, with no date or time asked, the next 14 days). */
  nextAvailableAt: string | null;
  /** Names of the neighborhoods the instructor travels to. */
  neighborhoods: string[];
  score: number;
  signals: Signals & { founding: boolean };
  /** Which of the query's constraints this result does not meet (only after relaxing). */
  unmet: Relaxable[];
}

export interface ParseSummary {
  text: string;
  service: {
    phrase: string | null;
    matched: Array<{ id: string; slug: string; name: string; relevance: number }>;
    category: string | null;
  } | null;
  maxPriceCents: number | null;
  minPriceCents: number | null;
  priceIntent: 'budget' | 'premium' | null;
  date: string | null;
  dateEnd: string | null;
  timeWindow: { start: string; end: string } | null;
  location: {
    phrase: string;
    nearMe: boolean;
    regionIds: string[];
    regionNames: string[];
    tier: string | null;
  } | null;
  audience: Audience | null;
  age: number | null;
  skill: SkillLevel | null;
  lessonType: LessonTypeFilter | null;
  urgency: 'urgent' | null;
  confidence: number;
  source: ParseSource | 'filters';
  corrections: Array<{ from: string; to: string }>;
  /** Structured filters that replaced what the text said. */
  overridden: string[];
}

export interface Notice {
  code: string;
  message: string;
}

export interface RelaxedConstraint {
  constraint: Relaxable;
  detail: string;
}

/** The whole answer before paging: what the response cache keeps. */
export interface SearchOutcome {
  items: SearchItem[];
  parse: ParseSummary;
  relaxed: RelaxedConstraint[];
  notices: Notice[];
  reason: Notice | null;
  /** For analytics: matched service ids, the location as resolved. */
  analytics: {
    serviceIds: string[];
    locationPhrase: string | null;
    locationTier: string | null;
    regionIds: string[];
    parseSource: string | null;
  };
}

export interface SearchPage {
  searchId: string;
  query: string;
  items: SearchItem[];
  nextCursor: string | null;
  total: number;
  sort: SearchSort;
  parse: ParseSummary;
  relaxed: RelaxedConstraint[];
  notices: Notice[];
  reason: Notice | null;
  tookMs: number;
  cached: boolean;
}

type SortKey = [number, number, string];

function sortKey(item: SearchItem, sort: SearchSort): SortKey {
  switch (sort) {
    case 'price':
      return [item.hourlyRateCents, -item.score, item.instructor.id];
    case 'rating':
      // nulls last; more reviews first among equal ratings
      return [item.rating === null ? 1 : -item.rating, -item.reviewCount, item.instructor.id];
    default:
      // results that meet every constraint first, then the score
      return [item.unmet.length, -item.score, item.instructor.id];
  }
}

function compareKeys(a: SortKey, b: SortKey): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

const SearchCursor = z.object({ a: z.number(), b: z.number(), id: z.string(), s: z.enum(SEARCH_SORTS) });

/** Sorts the full result list and cuts one page after the cursor (a keyset on the sort key). */
export function pageOfResults(
  items: readonly SearchItem[],
  sort: SearchSort,
  limit: number,
  cursor: string | undefined,
): { items: SearchItem[]; nextCursor: string | null } {
  const after = decodeCursor(cursor, SearchCursor);
  if (after && after.s !== sort)
    throw new AppError('validation_error', 'This cursor belongs to another sort order; start again.', 'cursor');
  const keyed = items.map((item) => ({ item, key: sortKey(item, sort) })).sort((x, y) => compareKeys(x.key, y.key));
  const afterKey: SortKey | null = after ? [after.a, after.b, after.id] : null;
  const remaining = afterKey ? keyed.filter((entry) => compareKeys(entry.key, afterKey) > 0) : keyed;
  const page = remaining.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((entry) => entry.item),
    nextCursor: remaining.length > limit && last ? encodeCursor({ a: last.key[0], b: last.key[1], id: last.key[2], s: sort }) : null,
  };
}

export function formatMinuteOfDay(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
