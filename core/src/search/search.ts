import { type DB, newId } from '@instainstru/db';
import type { Kysely } from 'kysely';
import type { Interval } from '../availability/intervals.ts';
import { addDays, localDayAndMinute, PLATFORM_ZONE } from '../availability/local-time.ts';
import type { LocationType } from '../booking/booking-rules.ts';
import { displayName, displayRating } from '../instructors/instructor.ts';
import { type Cache, createCache } from '../shared/cache.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { Redis } from '../shared/redis.ts';
import { clampDays, firstBookableStart, type InstructorTime, loadInstructorsTime, utcWindows } from './availability-window.ts';
import { type Candidates, loadCandidates, type InstructorFacts, type Offering, platformMeanRating } from './candidates.ts';
import { ANY_CATEGORY, type CatalogProvider, createCatalogProvider, type SearchCatalog } from './catalog.ts';
import { matchServices, type ServiceResolution } from './match-services.ts';
import { normalizeQueryText } from './normalize.ts';
import type { Audience, LessonTypeFilter, LocationPhrase, ParsedQuery, SearchVocabulary, SkillLevel, TimeWindow } from './parsed-query.ts';
import {
  combineScore,
  completenessScore,
  distanceScore,
  freshnessScore,
  haversineKm,
  priceFitScore,
  qualityScore,
  type Signals,
} from './rank.ts';
import { resolveLocation, resolveNearMe, resolveRegionFilter, type ResolvedLocation } from './resolve-location.ts';
import {
  type CachedOutcome,
  digest,
  PARSE_TTL_SECONDS,
  readAvailabilityVersions,
  RESPONSE_TTL_SECONDS,
  SEARCH_CATALOG_NAMESPACE,
  versionsMatch,
} from './search-cache.ts';
import type { SearchAi } from './search-ai.ts';
import { createTtlMemo } from './ttl-memo.ts';
import { createSearchEventRecorder, type SearchEventRecorder } from './search-events.ts';
import {
  formatMinuteOfDay,
  type Notice,
  pageOfResults,
  type ParseSummary,
  RELAXABLE,
  type Relaxable,
  type RelaxedConstraint,
  type SearchItem,
  type SearchOutcome,
  type SearchPage,
  type SearchSort,
} from './search-result.ts';

/** The parser as search uses it (core/src/search/llm: regex fast path, LLM fallback). */
export interface QueryParser {
  parse(text: string, options: { now: Date }): Promise<ParsedQuery>;
}
/** Builds a parser for a vocabulary; called again when the catalog (its version) changes. */
export type QueryParserFactory = (vocabulary: SearchVocabulary, vocabularyVersion: string) => QueryParser;

/** Fewer results than this and constraints are relaxed (spec §3). */
export const MIN_RESULTS = 5;
/** With no date or time asked, "next available" looks this far ahead. */
export const LOOKAHEAD_DAYS = 14;
/** A time of day without a date means "one of the next 7 days". */
export const TIME_ONLY_DAYS = 7;
export const MAX_QUERY_LENGTH = 200;
/** How long answers cached in-process during a Redis outage live. */
export const DEGRADED_TTL_SECONDS = 30;
/** How long loaded candidates and open times are reused in-process (also bounded by their version keys). */
const MEMO_TTL_MS = 60_000;

/** Structured filters (query parameters): each replaces what the text said about it. */
export interface SearchFilters {
  service?: string | undefined;
  maxPriceCents?: number | undefined;
  date?: string | undefined;
  /** Minutes after local midnight. */
  timeStart?: number | undefined;
  timeEnd?: number | undefined;
  region?: string | undefined;
  audience?: Audience | undefined;
  skill?: SkillLevel | undefined;
  lessonType?: LessonTypeFilter | undefined;
}

export interface SearchRequest {
  q: string;
  sort: SearchSort;
  limit: number;
  cursor?: string | undefined;
  filters: SearchFilters;
  /** The signed-in user (near me uses their saved address), else null. */
  userId: string | null;
  /** An anonymous client's session id, for analytics. */
  sessionId: string | null;
  ipHash: string | null;
}

export interface SearchServiceDeps {
  db: Kysely<DB>;
  clock: Clock;
  logger: Logger;
  /** Search's own entries: answers, parses, embeddings. */
  cache: Cache;
  /** Where public availability keeps its per-instructor versions (read, never written here). */
  availabilityCache: Cache;
  redis: Redis | undefined;
  createParser: QueryParserFactory;
  ai?: SearchAi | undefined;
  /** Public availability horizon: nothing later counts as available. */
  horizonDays: number;
  recorder?: SearchEventRecorder;
  catalog?: CatalogProvider;
  /** Used while Redis is down (in-process, DEGRADED_TTL_SECONDS); made here when not given. */
  localCache?: Cache;
}

export interface SearchService {
  search(request: SearchRequest): Promise<SearchPage>;
  readonly recorder: SearchEventRecorder;
  readonly catalog: CatalogProvider;
  /** Every cached answer becomes stale (after this process changed aliases). */
  invalidate(): Promise<void>;
}

/** Local-time windows a search reads availability for, with the days they span. */
interface AvailabilityWindow {
  key: string;
  intervals: Interval[];
  fromDay: string;
  toDay: string;
}

/** What the query asks for once structured filters replaced parts of the parse. */
interface Effective {
  text: string;
  parsed: ParsedQuery | null;
  servicePhrase: string | null;
  serviceSlug: string | null;
  categorySlug: string | null;
  serviceFilter: string | null;
  maxPriceCents: number | null;
  minPriceCents: number | null;
  priceIntent: 'budget' | 'premium' | null;
  date: string | null;
  dateEnd: string | null;
  timeWindow: TimeWindow | null;
  audience: Audience | null;
  age: number | null;
  skill: SkillLevel | null;
  lessonType: LessonTypeFilter | null;
  location: LocationPhrase | null;
  regionFilter: string | null;
  urgency: 'urgent' | null;
  overridden: string[];
}

const IN_PERSON: readonly LocationType[] = ['student_location', 'instructor_location', 'neutral_location'];
const LESSON_TYPES: Record<LessonTypeFilter, readonly LocationType[]> = {
  online: ['online'],
  in_person: IN_PERSON,
  student_location: ['student_location'],
  instructor_location: ['instructor_location'],
};
const DAY_MS = 86_400_000;

function effectiveQuery(text: string, parsed: ParsedQuery | null, filters: SearchFilters): Effective {
  const overridden: string[] = [];
  const pick = <T>(name: string, fromFilter: T | undefined, fromText: T | null): T | null => {
    if (fromFilter === undefined) return fromText;
    overridden.push(name);
    return fromFilter;
  };
  const time =
    filters.timeStart !== undefined || filters.timeEnd !== undefined
      ? { startMinute: filters.timeStart ?? 0, endMinute: filters.timeEnd ?? 1440 }
      : undefined;
  const date = pick('date', filters.date, parsed?.date ?? null);
  return {
    text,
    parsed,
    servicePhrase: parsed?.servicePhrase ?? null,
    serviceSlug: filters.service ? null : (parsed?.serviceSlug ?? null),
    categorySlug: filters.service ? null : (parsed?.categorySlug ?? null),
    serviceFilter: pick('service', filters.service, null),
    maxPriceCents: pick('maxPriceCents', filters.maxPriceCents, parsed?.maxPriceCents ?? null),
    minPriceCents: filters.maxPriceCents !== undefined ? null : (parsed?.minPriceCents ?? null),
    priceIntent: filters.maxPriceCents !== undefined ? null : (parsed?.priceIntent ?? null),
    date,
    dateEnd: filters.date !== undefined ? filters.date : (parsed?.dateEnd ?? date),
    timeWindow: pick('time', time, parsed?.timeWindow ?? null),
    audience: pick('audience', filters.audience, parsed?.audience ?? null),
    age: filters.audience !== undefined ? null : (parsed?.age ?? null),
    skill: pick('skill', filters.skill, parsed?.skill ?? null),
    lessonType: pick('lessonType', filters.lessonType, parsed?.lessonType ?? null),
    location: filters.region !== undefined ? null : (parsed?.location ?? null),
    regionFilter: pick('region', filters.region, null),
    urgency: parsed?.urgency ?? null,
    overridden,
  };
}

function hasAnyConstraint(query: Effective): boolean {
  return (
    query.serviceFilter !== null ||
    query.maxPriceCents !== null ||
    query.minPriceCents !== null ||
    query.date !== null ||
    query.timeWindow !== null ||
    query.audience !== null ||
    query.skill !== null ||
    query.lessonType !== null ||
    query.location !== null ||
    query.regionFilter !== null ||
    query.categorySlug !== null
  );
}

function dollars(cents: number): string {
  return `$${(cents / 100).toFixed(cents % 100 === 0 ? 0 : 2)}`;
}

/** Makes the search use case for one process: catalog, parser, caches and the event recorder. */
export function createSearchService(deps: SearchServiceDeps): SearchService {
  const catalogProvider = deps.catalog ?? createCatalogProvider(deps.db);
  const recorder = deps.recorder ?? createSearchEventRecorder(deps.db, { logger: deps.logger });
  const localCache = deps.localCache ?? createCache({ redis: undefined, logger: deps.logger, maxEntries: 2_000 });
  // What a cold search loads most: the offerings and instructor facts of a set of services (keyed
  // by the catalog fingerprint, which moves with every offering, profile or area change; ratings
  // may be a minute late), and each instructor's open time per range of days (keyed by the
  // availability version every week save and booking change bumps).
  const candidateMemo = createTtlMemo<Promise<Candidates>>({ maxEntries: 500, ttlMs: MEMO_TTL_MS });
  const timeMemo = createTtlMemo<InstructorTime>({ maxEntries: 50_000, ttlMs: MEMO_TTL_MS });
  let localVersion = 0;
  let parser: { fingerprint: string; parser: QueryParser } | undefined;
  let prior: { value: number; at: number } | undefined;

  function parserFor(catalog: SearchCatalog): QueryParser {
    if (!parser || parser.fingerprint !== catalog.fingerprint) {
      parser = { fingerprint: catalog.fingerprint, parser: deps.createParser(catalog.vocabulary, catalog.fingerprint) };
    }
    return parser.parser;
  }

  async function priorRating(): Promise<number> {
    // the platform mean moves slowly; ten minutes old is fine
    if (!prior || Date.now() - prior.at > 600_000) prior = { value: await platformMeanRating(deps.db), at: Date.now() };
    return prior.value;
  }

  async function parse(
    cache: Cache,
    catalog: SearchCatalog,
    versionKey: string,
    text: string,
    normalized: string,
    now: Date,
  ): Promise<ParsedQuery> {
    const today = localDayAndMinute(now, PLATFORM_ZONE).day;
    // "tomorrow" means another day tomorrow: the local day is part of the key
    const key = `search:parse:${versionKey}:${today}:${digest(normalized)}`;
    const cached = await cache.get<ParsedQuery>(key);
    if (cached) return cached;
    const parsed = await parserFor(catalog).parse(text, { now });
    await cache.set(key, parsed, cache === deps.cache ? PARSE_TTL_SECONDS : DEGRADED_TTL_SECONDS);
    return parsed;
  }

  async function search(request: SearchRequest): Promise<SearchPage> {
    const started = performance.now();
    const now = deps.clock.now();
    const text = request.q.trim();
    if (text.length > MAX_QUERY_LENGTH) {
      throw new AppError('validation_error', `Keep the search under ${MAX_QUERY_LENGTH} characters.`, 'q');
    }
    const normalized = normalizeQueryText(text);
    const catalog = await catalogProvider.current();
    // Redis down: a short-lived cache in this process instead (bumps fail meanwhile anyway, so
    // what it serves is at most DEGRADED_TTL_SECONDS stale), never a Redis call per request
    const degraded = deps.redis !== undefined && deps.redis.status !== 'ready';
    const cache = degraded ? localCache : deps.cache;
    const namespaceVersion = degraded ? `local${localVersion}` : await deps.cache.version(SEARCH_CATALOG_NAMESPACE);
    const versionKey = `${catalog.fingerprint.slice(0, 16)}.${namespaceVersion}`;
    const parsed = normalized ? await parse(cache, catalog, versionKey, text, normalized, now) : null;
    const query = effectiveQuery(text, parsed, request.filters);

    const today = localDayAndMinute(now, PLATFORM_ZONE).day;
    const nearMeUser = query.location?.nearMe ? request.userId : null;
    const responseKey = `search:resp:${versionKey}:${today}:${digest({ query: { ...query, text: normalized, parsed: parsed ?? null }, nearMeUser })}`;

    let cached = false;
    let outcome: SearchOutcome | undefined;
    const hit = await cache.get<CachedOutcome>(responseKey);
    if (hit) {
      const current = degraded
        ? hit.versions
        : await readAvailabilityVersions(Object.keys(hit.versions), {
            redis: deps.redis,
            availabilityCache: deps.availabilityCache,
            logger: deps.logger,
          });
      if (versionsMatch(hit.versions, current)) {
        outcome = hit.outcome;
        cached = true;
      }
    }
    if (!outcome) {
      const computed = await compute(catalog, query, request.userId, now, degraded);
      outcome = computed.outcome;
      if (degraded) await localCache.set(responseKey, { outcome, versions: {} }, DEGRADED_TTL_SECONDS);
      else if (computed.versions) await deps.cache.set(responseKey, { outcome, versions: computed.versions }, RESPONSE_TTL_SECONDS);
    }

    const page = pageOfResults(outcome.items, request.sort, request.limit, request.cursor);
    const searchId = newId();
    const tookMs = Math.round((performance.now() - started) * 10) / 10;
    recorder.record({
      id: searchId,
      createdAt: now,
      rawQuery: text,
      normalizedQuery: normalized,
      parse: outcome.parse,
      parseSource: outcome.analytics.parseSource,
      serviceIds: outcome.analytics.serviceIds,
      locationPhrase: outcome.analytics.locationPhrase,
      locationTier: outcome.analytics.locationTier,
      regionIds: outcome.analytics.regionIds,
      resultCount: outcome.items.length,
      tookMs,
      cacheHit: cached,
      firstPage: request.cursor === undefined,
      sort: request.sort,
      relaxed: outcome.relaxed.map((entry) => entry.constraint),
      reason: outcome.reason?.code ?? null,
      userId: request.userId,
      sessionId: request.sessionId,
      ipHash: request.ipHash,
    });
    return {
      searchId,
      query: text,
      items: page.items,
      nextCursor: page.nextCursor,
      total: outcome.items.length,
      sort: request.sort,
      parse: outcome.parse,
      relaxed: outcome.relaxed,
      notices: outcome.notices,
      reason: outcome.reason,
      tookMs,
      cached,
    };
  }

  async function compute(
    catalog: SearchCatalog,
    query: Effective,
    userId: string | null,
    now: Date,
    degraded: boolean,
  ): Promise<{ outcome: SearchOutcome; versions: Record<string, number> | undefined }> {
    const notices: Notice[] = [];
    const services = await matchServices(
      catalog,
      {
        servicePhrase: query.servicePhrase,
        serviceSlug: query.serviceSlug,
        categorySlug: query.categorySlug,
        serviceFilter: query.serviceFilter,
      },
      { ai: deps.ai, cache: deps.cache },
    );

    let location: ResolvedLocation | null = null;
    if (query.regionFilter) {
      location = resolveRegionFilter(catalog, query.regionFilter);
      if (!location) throw new AppError('validation_error', 'Unknown region: use a region slug or id.', 'region');
    } else if (query.location?.nearMe) {
      location = await resolveNearMe(deps.db, catalog, userId);
      if (!userId) {
        notices.push({
          code: 'near_me_requires_sign_in',
          message: 'Sign in with a saved address to search near you; these results are not limited to one area.',
        });
      } else if (location.referencePoints.length === 0) {
        notices.push({
          code: 'no_saved_address',
          message: 'Save an address to search near you; these results are not limited to one area.',
        });
      }
    } else if (query.location?.phrase) {
      location = await resolveLocation(deps.db, catalog, query.location.phrase, {
        cache: deps.cache,
        logger: deps.logger,
        ai: deps.ai,
        now: () => now,
      });
      if (location.tier === null) {
        notices.push({
          code: 'location_not_found',
          message: `We could not place “${query.location.phrase}”, so these results are not limited to one area.`,
        });
      }
    }
    if (location && location.coverageRegionIds.length > 0 && query.lessonType === 'online') {
      notices.push({
        code: 'location_ignored_online',
        message: 'Online lessons work from anywhere, so the location was not used as a filter.',
      });
    }
    const parsedSource = query.parsed?.source ?? null;
    if (query.parsed && (parsedSource === 'regex_llm_unavailable' || parsedSource === 'regex_llm_failed')) {
      notices.push({
        code: 'partial_understanding',
        message:
          parsedSource === 'regex_llm_unavailable'
            ? 'This query was read by the quick parser only; some parts may not have been understood.'
            : 'The assistant that reads complex queries did not answer; the quick parser’s reading is shown.',
      });
    }

    const summary = summarize(query, services, location, catalog);
    const analytics = {
      serviceIds: services.matches.map((match) => match.service.id).slice(0, 50),
      locationPhrase: location?.nearMe ? 'near me' : (query.location?.phrase ?? null),
      locationTier: location?.tier ?? null,
      regionIds: location?.matched.map((region) => region.id) ?? [],
      parseSource: query.parsed?.source ?? (query.overridden.length > 0 ? 'filters' : null),
    };
    const empty = (reason: Notice): { outcome: SearchOutcome; versions: Record<string, number> } => ({
      outcome: { items: [], parse: summary, relaxed: [], notices, reason, analytics },
      versions: {},
    });

    if (!query.text && !hasAnyConstraint(query)) {
      return empty({ code: 'empty_query', message: 'Type what you would like to learn, for example “piano lessons in Park Slope”.' });
    }
    if (services.unmatched) {
      return empty({
        code: 'no_service_match',
        message: services.phrase
          ? `We could not find lessons matching “${services.phrase}”. Try the name of an instrument, language, subject or sport.`
          : 'We could not tell what you would like to learn. Try “guitar lessons” or “SAT prep”.',
      });
    }
    const onlyGeneric = services.matches.every((match) => match.how === 'any');
    if (!query.servicePhrase && !hasAnyConstraint(query)) {
      return empty({
        code: 'not_understood',
        message: 'We could not understand this search. Try “spanish tutor online tomorrow evening”.',
      });
    }

    // price words resolve through the category's thresholds when the parser could not place them
    const category = services.categorySlug ?? services.matches[0]?.service.categorySlug ?? ANY_CATEGORY;
    const thresholds = catalog.priceThresholds[onlyGeneric ? ANY_CATEGORY : category] ?? catalog.priceThresholds[ANY_CATEGORY];
    const maxPriceCents = query.maxPriceCents ?? (query.priceIntent === 'budget' ? (thresholds?.budgetMaxCents ?? null) : null);
    const minPriceCents = query.minPriceCents ?? (query.priceIntent === 'premium' ? (thresholds?.premiumMinCents ?? null) : null);
    summary.maxPriceCents = maxPriceCents;
    summary.minPriceCents = minPriceCents;

    const serviceIds = onlyGeneric ? null : services.matches.map((match) => match.service.id).sort();
    const candidateKey = `${catalog.fingerprint}|${serviceIds?.join(',') ?? '*'}`;
    let loadingCandidates = candidateMemo.get(candidateKey);
    if (!loadingCandidates) {
      loadingCandidates = loadCandidates(deps.db, serviceIds, now).catch((error: unknown) => {
        // a failed load must not be remembered
        candidateMemo.delete(candidateKey);
        throw error;
      });
      candidateMemo.set(candidateKey, loadingCandidates);
    }
    const candidates = await loadingCandidates;
    const lessonTypes = query.lessonType ? LESSON_TYPES[query.lessonType] : null;
    const offerings = candidates.offerings.filter(
      (offering) => !lessonTypes || offering.locationTypes.some((type) => lessonTypes.includes(type as LocationType)),
    );
    const instructorIds = [...new Set(offerings.map((offering) => offering.instructorId))];
    // versions before availability is read: a change made meanwhile leaves this answer stale, never wrong
    const versions = degraded
      ? undefined
      : await readAvailabilityVersions(instructorIds, {
          redis: deps.redis,
          availabilityCache: deps.availabilityCache,
          logger: deps.logger,
        });

    const nowMs = now.getTime();
    const today = localDayAndMinute(now, PLATFORM_ZONE).day;
    const lastDay = addDays(today, deps.horizonDays);
    const dateFrom = query.date;
    const dateTo = query.dateEnd ?? query.date;

    // Bitmaps are read per range of days, only for the windows a pass needs: a query about
    // tomorrow reads three days, and "next available" reads the second week only for those not
    // free in the first.
    const loadedTimes = new Map<string, { times: Map<string, InstructorTime>; ids: Set<string> }>();
    const ensureTimes = async (window: AvailabilityWindow, ids: readonly string[]) => {
      const range = `${window.fromDay}|${window.toDay}`;
      let entry = loadedTimes.get(range);
      if (!entry) {
        entry = { times: new Map(), ids: new Set() };
        loadedTimes.set(range, entry);
      }
      const memoKey = (id: string) => (versions ? `${id}|${range}|v${versions[id] ?? 0}` : null);
      const missing: string[] = [];
      for (const id of ids) {
        if (entry.ids.has(id)) continue;
        const key = memoKey(id);
        const remembered = key ? timeMemo.get(key) : undefined;
        if (remembered) {
          entry.ids.add(id);
          entry.times.set(id, remembered);
        } else {
          missing.push(id);
        }
      }
      if (missing.length === 0 || window.intervals.length === 0) return;
      const loaded = await loadInstructorsTime(deps.db, missing, window.fromDay, window.toDay, nowMs);
      for (const id of missing) {
        const time = loaded.get(id) ?? { openIntervals: [], busy: [] };
        entry.ids.add(id);
        entry.times.set(id, time);
        const key = memoKey(id);
        if (key) timeMemo.set(key, time);
      }
    };
    const windowsFor = (useDate: boolean, useTime: boolean): AvailabilityWindow | null => {
      const date = useDate && dateFrom ? dateFrom : null;
      const time = useTime ? query.timeWindow : null;
      if (!date && !time) return null;
      const days = date
        ? clampDays(date, dateTo ?? date, today, lastDay)
        : clampDays(today, addDays(today, TIME_ONLY_DAYS - 1), today, lastDay);
      return {
        key: `${date ? 'd' : ''}${time ? 't' : ''}`,
        intervals: utcWindows(days, time),
        fromDay: days[0] ?? today,
        toDay: days[days.length - 1] ?? today,
      };
    };
    const soonDays = Math.ceil(LOOKAHEAD_DAYS / 2);
    const soon: AvailabilityWindow = {
      key: 'soon',
      intervals: [{ startMs: nowMs, endMs: nowMs + soonDays * DAY_MS }],
      fromDay: today,
      toDay: addDays(today, soonDays),
    };
    const later: AvailabilityWindow = {
      key: 'later',
      intervals: [{ startMs: nowMs + soonDays * DAY_MS, endMs: nowMs + LOOKAHEAD_DAYS * DAY_MS }],
      fromDay: addDays(today, soonDays),
      toDay: addDays(today, LOOKAHEAD_DAYS),
    };
    const prior = await priorRating();
    const relevanceOf = new Map(services.matches.map((match) => [match.service.id, match.relevance]));
    const covers =
      location && location.coverageRegionIds.length > 0 && query.lessonType !== 'online' ? new Set(location.coverageRegionIds) : null;

    const startMemo = new Map<string, number | null>();
    /** Needs `ensureTimes(window, …)` for the offering's instructor first. */
    const firstStart = (offering: Offering, window: AvailabilityWindow, types: LocationType[]): number | null => {
      const key = `${offering.instructorServiceId}|${window.key}|${types.join(',')}`;
      if (!startMemo.has(key)) {
        const time = loadedTimes.get(`${window.fromDay}|${window.toDay}`)?.times.get(offering.instructorId) ?? {
          openIntervals: [],
          busy: [],
        };
        startMemo.set(key, firstBookableStart(window.intervals, nowMs, time, offering, types));
      }
      return startMemo.get(key) ?? null;
    };
    const typesOf = (offering: Offering): LocationType[] =>
      (offering.locationTypes as LocationType[]).filter((type) => !lessonTypes || lessonTypes.includes(type));
    const reachingTypes = (offering: Offering, instructor: InstructorFacts): LocationType[] =>
      typesOf(offering).filter((type) => {
        if (!covers) return true;
        if (type === 'online') return false;
        if (type === 'instructor_location') return instructor.studioRegionId !== null && covers.has(instructor.studioRegionId);
        return instructor.serviceAreaIds.some((id) => covers.has(id));
      });

    const asked: Record<Relaxable, boolean> = {
      time: query.timeWindow !== null,
      date: query.date !== null,
      skill: query.skill !== null,
      audience: query.audience !== null,
      location: covers !== null,
      price: maxPriceCents !== null || minPriceCents !== null,
    };
    const fullWindows = windowsFor(true, true);
    const dateWindows = windowsFor(true, false);

    type Match = { offering: Offering; instructor: InstructorFacts; startMs: number | null; unmet: Relaxable[] };
    const evaluate = async (active: Record<Relaxable, boolean>): Promise<Map<string, Match[]>> => {
      const window = windowsFor(active.date, active.time);
      await ensureTimes(window ?? soon, instructorIds);
      const matches = new Map<string, Match[]>();
      const notSoon: Match[] = [];
      for (const offering of offerings) {
        const instructor = candidates.instructors.get(offering.instructorId);
        if (!instructor) continue;
        if (active.price && maxPriceCents !== null && offering.hourlyRateCents > maxPriceCents) continue;
        if (active.price && minPriceCents !== null && offering.hourlyRateCents < minPriceCents) continue;
        if (active.audience && query.audience && !offering.audiences.includes(query.audience)) continue;
        if (active.skill && query.skill && !offering.skillLevels.includes(query.skill)) continue;
        const types = active.location ? reachingTypes(offering, instructor) : typesOf(offering);
        if (types.length === 0) continue;
        const startMs = firstStart(offering, window ?? soon, types);
        // with a date or time asked, being free then is a filter; otherwise only what we show
        if (window && startMs === null) continue;
        const match: Match = { offering, instructor, startMs, unmet: [] };
        if (!window && startMs === null) notSoon.push(match);
        const list = matches.get(offering.instructorId) ?? [];
        list.push(match);
        matches.set(offering.instructorId, list);
      }
      if (notSoon.length > 0) {
        await ensureTimes(later, [...new Set(notSoon.map((match) => match.offering.instructorId))]);
        for (const match of notSoon) {
          const types = active.location ? reachingTypes(match.offering, match.instructor) : typesOf(match.offering);
          match.startMs = firstStart(match.offering, later, types);
        }
      }
      return matches;
    };

    const active = { ...asked };
    const relaxed: RelaxedConstraint[] = [];
    let found = await evaluate(active);
    for (const constraint of RELAXABLE) {
      if (found.size >= MIN_RESULTS) break;
      if (!active[constraint]) continue;
      active[constraint] = false;
      relaxed.push({ constraint, detail: relaxDetail(constraint, query, summary, maxPriceCents, minPriceCents, found.size) });
      found = await evaluate(active);
    }
    const foundIds = [...found.keys()];
    if (fullWindows) await ensureTimes(fullWindows, foundIds);
    if (dateWindows) await ensureTimes(dateWindows, foundIds);

    const items: SearchItem[] = [];
    for (const matches of found.values()) {
      let best: { item: SearchItem; score: number } | undefined;
      for (const match of matches) {
        const item = toItem(match, catalog, {
          relevance: relevanceOf.get(match.offering.serviceId) ?? 0.5,
          prior,
          location: query.lessonType === 'online' ? null : location,
          maxPriceCents,
          audience: query.audience,
          skill: query.skill,
          now,
        });
        const checked = unmetBy(match, {
          asked,
          relaxed,
          query,
          maxPriceCents,
          minPriceCents,
          fullWindows,
          dateWindows,
          firstStart,
          typesOf,
          reachingTypes,
        });
        item.unmet = checked.unmet;
        if (checked.startMs !== match.startMs)
          item.nextAvailableAt = checked.startMs === null ? null : new Date(checked.startMs).toISOString();
        if (!best || item.score > best.score || (item.score === best.score && item.hourlyRateCents < best.item.hourlyRateCents)) {
          best = { item, score: item.score };
        }
      }
      if (best) items.push(best.item);
    }

    const reason: Notice | null =
      items.length === 0
        ? {
            code: 'no_results',
            message:
              offerings.length === 0
                ? `No instructor offers ${services.matches.length === 1 ? (services.matches[0]?.service.name ?? 'this') : 'these lessons'}${query.lessonType ? ' that way' : ''} yet.`
                : 'Nobody matched, even after relaxing the time, date, level, age group, area and price.',
          }
        : null;
    return { outcome: { items, parse: summary, relaxed, notices, reason, analytics }, versions };
  }

  return {
    search,
    recorder,
    catalog: catalogProvider,
    async invalidate() {
      catalogProvider.invalidate();
      localVersion += 1;
      await deps.cache.bump(SEARCH_CATALOG_NAMESPACE);
    },
  };
}

function relaxDetail(
  constraint: Relaxable,
  query: Effective,
  summary: ParseSummary,
  maxPriceCents: number | null,
  minPriceCents: number | null,
  /** How many instructors met every constraint still active before this one was relaxed. */
  foundBefore: number,
): string {
  // "Nobody" only when it is true: relaxing also happens with 1–4 matches (fewer than MIN_RESULTS).
  const who = foundBefore === 0 ? 'Nobody was' : `Only ${foundBefore} instructor${foundBefore === 1 ? ' was' : 's were'}`;
  switch (constraint) {
    case 'time':
      return `${who} free ${summary.timeWindow ? `${summary.timeWindow.start}–${summary.timeWindow.end}` : 'then'}${query.date ? ` on ${query.date}` : ' in the next days'}; showing other times.`;
    case 'date':
      return `${who} free on ${query.date === query.dateEnd || !query.dateEnd ? query.date : `${query.date}–${query.dateEnd}`}; showing other days.`;
    case 'skill':
      return `Few instructors list ${query.skill} lessons; showing every level.`;
    case 'audience':
      return `Few instructors list lessons for ${query.audience}; showing every age group.`;
    case 'location':
      return `Few instructors cover ${summary.location?.regionNames.join(', ') || 'that area'}; showing instructors in other areas (see each one’s distance).`;
    case 'price':
      return maxPriceCents !== null
        ? `Few instructors charge ${dollars(maxPriceCents)}/h or less; showing higher rates too.`
        : `Few instructors charge ${dollars(minPriceCents ?? 0)}/h or more; showing lower rates too.`;
  }
}

interface ItemContext {
  relevance: number;
  prior: number;
  location: ResolvedLocation | null;
  maxPriceCents: number | null;
  audience: Audience | null;
  skill: SkillLevel | null;
  now: Date;
}

function instructorBase(instructor: InstructorFacts, catalog: SearchCatalog): { lat: number; lng: number } | null {
  if (instructor.studio) return instructor.studio;
  const centroids = instructor.serviceAreaIds
    .map((id) => catalog.regionsById.get(id))
    .filter((region) => region !== undefined && region.kind === 'neighborhood')
    .map((region) => region!.centroid);
  if (centroids.length === 0) return null;
  return {
    lat: centroids.reduce((sum, point) => sum + point.lat, 0) / centroids.length,
    lng: centroids.reduce((sum, point) => sum + point.lng, 0) / centroids.length,
  };
}

function toItem(
  match: { offering: Offering; instructor: InstructorFacts; startMs: number | null },
  catalog: SearchCatalog,
  context: ItemContext,
): SearchItem {
  const { offering, instructor } = match;
  const service = catalog.servicesById.get(offering.serviceId);
  const base = instructorBase(instructor, catalog);
  const references = context.location?.referencePoints ?? [];
  const distanceKm =
    base && references.length > 0 ? Math.round(Math.min(...references.map((point) => haversineKm(point, base))) * 10) / 10 : null;
  const signals: Signals = {
    relevance: context.relevance,
    quality: qualityScore(instructor.weightedRatingSum, instructor.reviewWeightSum, context.prior),
    distance: distanceScore(distanceKm),
    priceFit: priceFitScore(offering.hourlyRateCents, context.maxPriceCents),
    freshness: freshnessScore(instructor.lastActiveAt, context.now),
    completeness: completenessScore(instructor),
    audienceMatch: context.audience && offering.audiences.includes(context.audience) ? 1 : 0,
    skillMatch: context.skill && offering.skillLevels.includes(context.skill) ? 1 : 0,
  };
  const score = combineScore(signals, instructor.isFounding);
  const round = (value: number) => Math.round(value * 10_000) / 10_000;
  return {
    instructor: {
      id: instructor.id,
      name: displayName(instructor.firstName, instructor.lastName),
      photoUrl: instructor.photoUrl,
      isFounding: instructor.isFounding,
      isVerified: instructor.isVerified,
      backgroundChecked: instructor.backgroundCheckPassed,
      yearsExperience: instructor.yearsExperience,
      bio: instructor.bio.length > 280 ? `${instructor.bio.slice(0, 277).trimEnd()}…` : instructor.bio,
    },
    service: {
      id: offering.serviceId,
      slug: service?.slug ?? '',
      name: service?.name ?? '',
      category: service?.categoryName ?? '',
    },
    hourlyRateCents: offering.hourlyRateCents,
    durations: offering.durations,
    lessonTypes: offering.locationTypes,
    rating: displayRating(instructor.ratingAverage, instructor.reviewCount),
    reviewCount: instructor.reviewCount,
    distanceKm,
    nextAvailableAt: match.startMs === null ? null : new Date(match.startMs).toISOString(),
    neighborhoods: instructor.serviceAreaIds
      .map((id) => catalog.regionsById.get(id)?.name)
      .filter((name): name is string => name !== undefined)
      .sort(),
    score: round(score),
    signals: {
      relevance: round(signals.relevance),
      quality: round(signals.quality),
      distance: round(signals.distance),
      priceFit: round(signals.priceFit),
      freshness: signals.freshness,
      completeness: signals.completeness,
      audienceMatch: signals.audienceMatch,
      skillMatch: signals.skillMatch,
      founding: instructor.isFounding,
    },
    unmet: [],
  };
}

/**
 * Which asked-for constraints a result misses (only relaxed ones can be missed), and the start
 * to show: inside the window asked for whenever the result has one there.
 */
function unmetBy(
  match: { offering: Offering; instructor: InstructorFacts; startMs: number | null },
  context: {
    asked: Record<Relaxable, boolean>;
    relaxed: RelaxedConstraint[];
    query: Effective;
    maxPriceCents: number | null;
    minPriceCents: number | null;
    fullWindows: AvailabilityWindow | null;
    dateWindows: AvailabilityWindow | null;
    firstStart: (offering: Offering, window: AvailabilityWindow, types: LocationType[]) => number | null;
    typesOf: (offering: Offering) => LocationType[];
    reachingTypes: (offering: Offering, instructor: InstructorFacts) => LocationType[];
  },
): { unmet: Relaxable[]; startMs: number | null } {
  const { offering, instructor } = match;
  const relaxed = new Set(context.relaxed.map((entry) => entry.constraint));
  const unmet: Relaxable[] = [];
  let startMs = match.startMs;
  const reaching = context.reachingTypes(offering, instructor);
  const types = reaching.length > 0 ? reaching : context.typesOf(offering);
  if (relaxed.has('time') || relaxed.has('date')) {
    const inFull = context.fullWindows ? context.firstStart(offering, context.fullWindows, types) : null;
    const inDate = context.dateWindows ? context.firstStart(offering, context.dateWindows, types) : null;
    if (context.asked.time && inFull === null) unmet.push('time');
    if (context.asked.date && inDate === null) unmet.push('date');
    startMs = inFull ?? inDate ?? startMs;
  }
  if (relaxed.has('skill') && context.query.skill && !offering.skillLevels.includes(context.query.skill)) unmet.push('skill');
  if (relaxed.has('audience') && context.query.audience && !offering.audiences.includes(context.query.audience)) unmet.push('audience');
  if (relaxed.has('location') && reaching.length === 0) unmet.push('location');
  if (
    relaxed.has('price') &&
    ((context.maxPriceCents !== null && offering.hourlyRateCents > context.maxPriceCents) ||
      (context.minPriceCents !== null && offering.hourlyRateCents < context.minPriceCents))
  ) {
    unmet.push('price');
  }
  return { unmet, startMs };
}

function summarize(query: Effective, services: ServiceResolution, location: ResolvedLocation | null, catalog: SearchCatalog): ParseSummary {
  const parsed = query.parsed;
  const names = location?.matched.map((region) => region.name) ?? [];
  return {
    text: parsed?.normalized ?? normalizeQueryText(query.text),
    service:
      services.matches.length === 0 && !services.phrase
        ? null
        : {
            phrase: services.phrase,
            matched: services.matches
              .filter((match) => match.how !== 'any')
              .slice(0, 20)
              .map((match) => ({
                id: match.service.id,
                slug: match.service.slug,
                name: match.service.name,
                relevance: Math.round(match.relevance * 1000) / 1000,
              })),
            category: services.categorySlug ? (catalog.categories.find((item) => item.slug === services.categorySlug)?.name ?? null) : null,
          },
    maxPriceCents: query.maxPriceCents,
    minPriceCents: query.minPriceCents,
    priceIntent: query.priceIntent,
    date: query.date,
    dateEnd: query.dateEnd,
    timeWindow: query.timeWindow
      ? { start: formatMinuteOfDay(query.timeWindow.startMinute), end: formatMinuteOfDay(query.timeWindow.endMinute) }
      : null,
    location:
      location || query.location
        ? {
            phrase: location?.phrase ?? query.location?.phrase ?? '',
            nearMe: location?.nearMe ?? query.location?.nearMe ?? false,
            regionIds: location?.matched.map((region) => region.id) ?? [],
            regionNames: names,
            tier: location?.tier ?? null,
          }
        : null,
    audience: query.audience,
    age: query.age,
    skill: query.skill,
    lessonType: query.lessonType,
    urgency: query.urgency,
    confidence: parsed?.confidence ?? (query.overridden.length > 0 ? 1 : 0),
    source: parsed?.source ?? 'filters',
    corrections: parsed?.corrections ?? [],
    overridden: query.overridden,
  };
}
