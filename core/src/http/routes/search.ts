import OpenAI from 'openai';
import { z } from 'zod';
import { createQueryParser } from '../../search/llm/index.ts';
import { createSearchAi, type SearchAi } from '../../search/search-ai.ts';
import { createSearchService, MAX_QUERY_LENGTH, type SearchService } from '../../search/search.ts';
import { recordSearchClick } from '../../search/search-events.ts';
import { RELAXABLE, SEARCH_SORTS } from '../../search/search-result.ts';
import { createCache } from '../../shared/cache.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { availabilityCache } from './public-availability.ts';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Use a date like 2027-03-14');
const ClockTime = z
  .string()
  .regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'Use a time like 17:00')
  .transform((value) => Number(value.slice(0, 2)) * 60 + Number(value.slice(3, 5)));

export const SearchQuery = z
  .object({
    q: z
      .string()
      .max(MAX_QUERY_LENGTH, `Keep the search under ${MAX_QUERY_LENGTH} characters.`)
      .default('')
      .describe('What the student typed'),
    sort: z.enum(SEARCH_SORTS).default('recommended').describe('recommended (default), price (lowest first) or rating (unrated last)'),
    limit: LimitParam,
    cursor: CursorParam,
    service: z.string().min(1).max(100).optional().describe('Service slug or id: replaces the service the text names'),
    maxPriceCents: z.coerce.number().int().min(0).max(1_000_000).optional().describe('Hourly budget in cents'),
    date: Day.optional().describe('Local day (America/New_York)'),
    timeStart: ClockTime.optional().describe('Earliest local start time, HH:MM'),
    timeEnd: ClockTime.optional().describe('Latest local start time, HH:MM (exclusive)'),
    region: z.string().min(1).max(100).optional().describe('Region slug or id (neighborhood or borough)'),
    audience: z.enum(['kids', 'teens', 'adults']).optional(),
    skill: z.enum(['beginner', 'intermediate', 'advanced']).optional(),
    lessonType: z.enum(['online', 'in_person', 'student_location', 'instructor_location']).optional(),
  })
  .strict()
  .refine((query) => query.timeStart === undefined || query.timeEnd === undefined || query.timeEnd > query.timeStart, {
    message: 'timeEnd must be after timeStart',
    path: ['timeEnd'],
  });

const SessionHeaders = z
  .object({ 'X-Session-Id': z.string().optional().describe('An anonymous client’s session id (8–64 of A–Z a–z 0–9 _ -), for analytics') })
  .strict();
const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;

const Notice = z.object({ code: z.string(), message: z.string() });
const Signals = z.object({
  relevance: z.number(),
  quality: z.number(),
  distance: z.number(),
  priceFit: z.number(),
  freshness: z.number(),
  completeness: z.number(),
  audienceMatch: z.number(),
  skillMatch: z.number(),
  founding: z.boolean(),
});

export const SearchItemSchema = z
  .object({
    instructor: z.object({
      id: z.string(),
      name: z.string().describe('First name and last initial'),
      photoUrl: z.string().nullable(),
      isFounding: z.boolean(),
      isVerified: z.boolean(),
      backgroundChecked: z.boolean(),
      yearsExperience: z.number().int(),
      bio: z.string(),
    }),
    service: z.object({ id: z.string(), slug: z.string(), name: z.string(), category: z.string() }),
    hourlyRateCents: z.number().int(),
    durations: z.array(z.number().int()),
    lessonTypes: z.array(z.string()),
    rating: z.number().nullable().describe('Shown from 3 reviews'),
    reviewCount: z.number().int(),
    distanceKm: z.number().nullable().describe('From the place asked for (or your saved address for "near me"); null when none'),
    nextAvailableAt: z.string().nullable().describe('First bookable start in the window asked for (else within 14 days), UTC'),
    neighborhoods: z.array(z.string()),
    score: z.number(),
    signals: Signals.describe('The ranking signals behind `score` (spec: search §4)'),
    unmet: z.array(z.enum(RELAXABLE)).describe('Constraints of the query this result does not meet (after relaxing)'),
  })
  .meta({ id: 'SearchResult' });

export const SearchParseSchema = z
  .object({
    text: z.string(),
    service: z
      .object({
        phrase: z.string().nullable(),
        matched: z.array(z.object({ id: z.string(), slug: z.string(), name: z.string(), relevance: z.number() })),
        category: z.string().nullable(),
      })
      .nullable(),
    maxPriceCents: z.number().int().nullable(),
    minPriceCents: z.number().int().nullable(),
    priceIntent: z.enum(['budget', 'premium']).nullable(),
    date: z.string().nullable(),
    dateEnd: z.string().nullable(),
    timeWindow: z.object({ start: z.string(), end: z.string() }).nullable(),
    location: z
      .object({
        phrase: z.string(),
        nearMe: z.boolean(),
        regionIds: z.array(z.string()),
        regionNames: z.array(z.string()),
        tier: z.string().nullable().describe('exact, alias, substring, fuzzy, embedding, llm, near_me or filter; null when unresolved'),
      })
      .nullable(),
    audience: z.enum(['kids', 'teens', 'adults']).nullable(),
    age: z.number().int().nullable(),
    skill: z.enum(['beginner', 'intermediate', 'advanced']).nullable(),
    lessonType: z.enum(['online', 'in_person', 'student_location', 'instructor_location']).nullable(),
    urgency: z.enum(['urgent']).nullable(),
    confidence: z.number(),
    source: z.string().describe('regex, llm, regex_llm_unavailable, regex_llm_failed, or filters'),
    corrections: z.array(z.object({ from: z.string(), to: z.string() })),
    overridden: z.array(z.string()).describe('Structured filters that replaced what the text said'),
  })
  .meta({ id: 'SearchParse' });

export const SearchResponse = z
  .object({
    searchId: z.string().describe('Send with result clicks'),
    query: z.string(),
    items: z.array(SearchItemSchema),
    nextCursor: z.string().nullable(),
    total: z.number().int(),
    sort: z.enum(SEARCH_SORTS),
    parse: SearchParseSchema,
    relaxed: z
      .array(z.object({ constraint: z.enum(RELAXABLE), detail: z.string() }))
      .describe('Constraints dropped, in order, to reach 5 results'),
    notices: z.array(Notice),
    reason: Notice.nullable().describe('Why there are no results (empty or not understood query, unknown service, nobody matched)'),
    tookMs: z.number(),
    cached: z.boolean(),
  })
  .meta({ id: 'SearchResults' });

const SearchIdParams = z.object({ searchId: z.string().min(1).max(64) }).strict();
export const SearchClickBody = z
  .object({
    instructorId: z.string().min(1).max(64),
    serviceId: z.string().min(1).max(64).optional(),
    position: z.number().int().min(1).max(1000).describe('1-based position in the results'),
  })
  .strict();
const SearchClickResponse = z.object({
  id: z.string(),
  searchId: z.string(),
  recorded: z.boolean().describe('false for a repeat of the same click'),
});

const services = new WeakMap<ApiDeps, SearchService>();

/** OpenAI for search, when OPENAI_API_KEY is configured (regex, trigram and aliases only otherwise). */
function openAiClient(deps: ApiDeps): OpenAI | undefined {
  const { apiKey, baseUrl } = deps.config.openai;
  if (!apiKey) return undefined;
  return new OpenAI({ apiKey, ...(baseUrl ? { baseURL: baseUrl } : {}), maxRetries: 0 });
}

/** The search use case of this app, built once (its catalog, caches and event writer are per process). */
export function searchServiceOf(deps: ApiDeps): SearchService {
  let service = services.get(deps);
  if (!service) {
    const openai = openAiClient(deps);
    const ai: SearchAi | undefined = openai ? createSearchAi(openai) : undefined;
    const cache = createCache({ redis: deps.redis, logger: deps.logger });
    service = createSearchService({
      db: deps.database.db,
      clock: deps.clock,
      logger: deps.logger,
      cache,
      availabilityCache: availabilityCache(deps),
      redis: deps.redis,
      ai,
      horizonDays: deps.config.availability.horizonDays,
      createParser: (vocabulary, vocabularyVersion) =>
        createQueryParser({
          vocabulary,
          vocabularyVersion,
          // LLM answers shared by every API process when Redis is configured (a miss when it is down)
          cache: { get: async (key) => (await cache.get<string>(key)) ?? null, set: (key, value, ttl) => cache.set(key, value, ttl) },
          ...(deps.config.openai.apiKey
            ? {
                openai: {
                  apiKey: deps.config.openai.apiKey,
                  ...(deps.config.openai.baseUrl ? { baseURL: deps.config.openai.baseUrl } : {}),
                },
              }
            : {}),
        }),
    });
    services.set(deps, service);
  }
  return service;
}

/** Public natural-language search and result clicks. */
export function searchRoutes(api: ApiRouter, deps: ApiDeps): void {
  const search = searchServiceOf(deps);
  const sessionOf = (value: string | undefined) => (value && SESSION_ID.test(value) ? value : null);

  api.add(
    {
      method: 'get',
      path: '/search',
      operationId: 'searchInstructors',
      summary: 'Find instructors from a sentence ("cheap spanish tutor online tomorrow evening"), with how it was understood',
      tags: ['search'],
      auth: 'public',
      query: SearchQuery,
      headers: SessionHeaders,
      responses: { 200: { description: 'Ranked instructors, the parse, relaxed constraints', schema: SearchResponse } },
    },
    async (req, res) => {
      const query = SearchQuery.parse(req.query);
      const page = await search.search({
        q: query.q,
        sort: query.sort,
        limit: query.limit,
        cursor: query.cursor,
        filters: {
          service: query.service,
          maxPriceCents: query.maxPriceCents,
          date: query.date,
          timeStart: query.timeStart,
          timeEnd: query.timeEnd,
          region: query.region,
          audience: query.audience,
          skill: query.skill,
          lessonType: query.lessonType,
        },
        userId: req.principal.kind === 'user' ? req.principal.userId : null,
        sessionId: sessionOf(req.get('x-session-id')),
        ipHash: req.auditContext.ipHash ?? null,
      });
      // every answer carries its own searchId (clicks, attribution) and "near me" depends on who asks
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(page);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/search/:searchId/click',
      operationId: 'recordSearchClick',
      summary: 'Record that a search result was opened (analytics, learned aliases, booking attribution)',
      tags: ['search'],
      auth: 'public',
      params: SearchIdParams,
      headers: SessionHeaders,
      body: SearchClickBody,
      responses: { 201: { description: 'Recorded (or already recorded)', schema: SearchClickResponse } },
    },
    async (req, res) => {
      const { searchId } = SearchIdParams.parse(req.params);
      const body = SearchClickBody.parse(req.body);
      const click = await recordSearchClick(
        deps.database.db,
        search.recorder,
        {
          searchId,
          instructorId: body.instructorId,
          serviceId: body.serviceId ?? null,
          position: body.position,
          userId: req.principal.kind === 'user' ? req.principal.userId : null,
          sessionId: sessionOf(req.get('x-session-id')),
          ipHash: req.auditContext.ipHash ?? null,
        },
        deps.clock.now(),
      );
      res.status(201).json({ id: click.id, searchId, recorded: !click.duplicate });
    },
  );
}
