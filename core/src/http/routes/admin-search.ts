import { z } from 'zod';
import { ALIAS_SOURCES, ALIAS_STATUSES, createRegionAlias, findRegionAliases, reviewRegionAlias } from '../../search/aliases.ts';
import { findSearchGaps, findTopQueries, findUnresolvedPhrases, getSearchOverview } from '../../search/analytics.ts';
import { AppError } from '../../shared/errors.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { searchServiceOf } from './search.ts';

const READ = 'search_analytics:read';
const MANAGE = 'aliases:manage';
const Instant = z.iso.datetime({ offset: true });
const DAY_MS = 86_400_000;
/** Longest range one analytics request may cover. */
const MAX_RANGE_DAYS = 366;

const RangeQuery = z.object({
  from: Instant.optional().describe('ISO 8601 instant, inclusive; default 7 days before `to`'),
  to: Instant.optional().describe('ISO 8601 instant, exclusive; default the end of the current hour'),
});

export const TopQueriesQuery = RangeQuery.extend({
  limit: LimitParam.describe('Page size, 1–100 (default 20)'),
  cursor: CursorParam.describe('Opaque cursor from the previous page'),
  orderBy: z.enum(['searches', 'clicks', 'bookings', 'zero_results']).default('searches'),
  contains: z.string().min(1).max(100).optional().describe('Only queries containing this text'),
  minSearches: z.coerce.number().int().min(1).max(1_000_000).optional(),
}).strict();

export const GapsQuery = RangeQuery.extend({
  limit: LimitParam,
  cursor: CursorParam,
  only: z.enum(['zero', 'low']).default('low').describe('zero: no results at all; low: fewer than 5 (default, includes zero)'),
}).strict();

export const OverviewQuery = RangeQuery.strict();
export const UnresolvedQuery = z.object({ limit: LimitParam, cursor: CursorParam }).strict();
export const AliasesQuery = z
  .object({
    status: z.enum(ALIAS_STATUSES).optional().describe('Default: every status; `pending` is the review queue'),
    source: z.enum(ALIAS_SOURCES).optional(),
    phrase: z.string().min(1).max(100).optional().describe('Only aliases containing this text'),
    limit: LimitParam,
    cursor: CursorParam,
  })
  .strict();

const Slugs = z.array(z.string().min(1).max(100)).min(1).max(20);
export const CreateAliasBody = z
  .object({
    phrase: z.string().trim().min(1).max(100).describe('What people type ("bed stuy")'),
    regionSlugs: Slugs.describe('Region slugs it means; several make an ambiguous alias'),
    note: z.string().trim().max(500).optional(),
  })
  .strict();
export const ApproveAliasBody = z
  .object({ regionSlugs: Slugs.optional().describe('Correct the regions while approving'), note: z.string().trim().max(500).optional() })
  .strict();
export const RejectAliasBody = z.object({ note: z.string().trim().max(500).optional() }).strict();
const AliasIdParams = z.object({ id: z.string().min(1).max(64) }).strict();

const QueryStatsSchema = z.object({
  query: z.string(),
  searches: z.number().int(),
  zeroResultSearches: z.number().int(),
  lowResultSearches: z.number().int(),
  relaxedSearches: z.number().int(),
  averageResults: z.number(),
  averageTookMs: z.number(),
  clicks: z.number().int(),
  clickThroughRate: z.number().describe('Share of searches with at least one click'),
  bookings: z.number().int().describe('Bookings attributed to these searches (click on the instructor ≤ 72 h before)'),
  bookingConversionRate: z.number(),
});
const RangeFields = {
  total: z.number().int(),
  from: z.string(),
  to: z.string(),
  rolledUpThrough: z.string().nullable().describe('Hours before this come from the hourly rollup; later ones are live'),
};
const TopQueriesResponse = z
  .object({ items: z.array(QueryStatsSchema.meta({ id: 'SearchQueryStats' })), nextCursor: z.string().nullable(), ...RangeFields })
  .meta({ id: 'SearchTopQueries' });
const GapSchema = QueryStatsSchema.extend({
  lastReason: z.string().nullable(),
  locationPhrase: z.string().nullable(),
  locationTier: z.string().nullable(),
  relaxed: z.array(z.string()),
  suggestion: z.object({
    kind: z.enum(['location_alias', 'service_alias', 'supply', 'rephrase']),
    detail: z.string(),
    phrase: z.string().nullable(),
    serviceIds: z.array(z.string()),
    regionIds: z.array(z.string()),
  }),
}).meta({ id: 'SearchGap' });
const GapsResponse = z.object({ items: z.array(GapSchema), nextCursor: z.string().nullable(), ...RangeFields }).meta({ id: 'SearchGaps' });
const OverviewResponse = z
  .object({
    from: z.string(),
    to: z.string(),
    searches: z.number().int(),
    zeroResultRate: z.number(),
    lowResultRate: z.number(),
    clickThroughRate: z.number(),
    bookings: z.number().int(),
    bookingConversionRate: z.number(),
    averageTookMs: z.number(),
    distinctQueries: z.number().int(),
    unresolvedLocationPhrases: z.number().int(),
    pendingAliases: z.number().int(),
    rolledUpThrough: z.string().nullable(),
  })
  .meta({ id: 'SearchOverview' });
const UnresolvedResponse = z
  .object({
    items: z.array(
      z.object({
        phrase: z.string(),
        count: z.number().int(),
        firstSeenAt: z.string(),
        lastSeenAt: z.string(),
        lastQuery: z.string(),
        alias: z.object({ id: z.string(), status: z.string() }).nullable().describe('An alias for the phrase, if one exists now'),
      }),
    ),
    nextCursor: z.string().nullable(),
    total: z.number().int(),
  })
  .meta({ id: 'UnresolvedLocationPhrases' });
const AliasSchema = z
  .object({
    id: z.string(),
    phrase: z.string(),
    regions: z.array(z.object({ slug: z.string(), name: z.string().nullable(), id: z.string().nullable() })),
    source: z.enum(ALIAS_SOURCES),
    status: z.enum(ALIAS_STATUSES),
    evidence: z.object({ searches: z.number().int(), clicks: z.number().int(), clickShare: z.number().nullable() }),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
    reviewedAt: z.string().nullable(),
    reviewedBy: z.string().nullable(),
    reviewNote: z.string().nullable(),
  })
  .meta({ id: 'RegionAlias' });
const AliasesResponse = z
  .object({ items: z.array(AliasSchema), nextCursor: z.string().nullable(), total: z.number().int() })
  .meta({ id: 'RegionAliases' });

function rangeOf(query: { from?: string | undefined; to?: string | undefined }, now: Date): { from: Date; to: Date } {
  // by default through the end of the current hour, so the latest searches are in
  const to = query.to ? new Date(query.to) : new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 + 3_600_000);
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - 7 * DAY_MS);
  if (from >= to) throw new AppError('validation_error', '`from` must be before `to`.', 'from');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw new AppError('validation_error', `Ask for at most ${MAX_RANGE_DAYS} days at a time.`, 'from');
  }
  return { from, to };
}

/**
 * Search analytics and the alias review queue, for the console and the MCP copilot: every list
 * takes a time range (default: the last 7 days), pages with a cursor and says its total.
 */
export function adminSearchRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;
  const search = searchServiceOf(deps);
  const tags = ['admin', 'search'];

  api.add(
    {
      method: 'get',
      path: '/admin/search/overview',
      operationId: 'getSearchOverview',
      summary: 'Search totals for a time range: volume, zero-result rate, click-through, booking conversion',
      tags,
      auth: { permission: READ },
      query: OverviewQuery,
      responses: { 200: { description: 'Totals', schema: OverviewResponse } },
    },
    requirePermission(READ),
    async (req, res) => {
      const range = rangeOf(OverviewQuery.parse(req.query), deps.clock.now());
      await search.recorder.flush();
      res.setHeader('Cache-Control', 'no-store');
      res.json(await getSearchOverview(db, range));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/search/top-queries',
      operationId: 'listTopSearchQueries',
      summary: 'Top search queries with click-through and booking conversion',
      tags,
      auth: { permission: READ },
      query: TopQueriesQuery,
      responses: { 200: { description: 'A page of queries, busiest first', schema: TopQueriesResponse } },
    },
    requirePermission(READ),
    async (req, res) => {
      const query = TopQueriesQuery.parse(req.query);
      const range = rangeOf(query, deps.clock.now());
      await search.recorder.flush();
      res.setHeader('Cache-Control', 'no-store');
      res.json(
        await findTopQueries(db, {
          ...range,
          limit: query.limit,
          cursor: query.cursor,
          orderBy: query.orderBy,
          contains: query.contains,
          minSearches: query.minSearches,
        }),
      );
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/search/gaps',
      operationId: 'listSearchGaps',
      summary: 'Zero- and low-result queries with the suggested fix (alias, service alias or missing supply)',
      tags,
      auth: { permission: READ },
      query: GapsQuery,
      responses: { 200: { description: 'A page of queries, worst first', schema: GapsResponse } },
    },
    requirePermission(READ),
    async (req, res) => {
      const query = GapsQuery.parse(req.query);
      const range = rangeOf(query, deps.clock.now());
      await search.recorder.flush();
      res.setHeader('Cache-Control', 'no-store');
      res.json(await findSearchGaps(db, { ...range, limit: query.limit, cursor: query.cursor, only: query.only }));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/search/unresolved-locations',
      operationId: 'listUnresolvedLocations',
      summary: 'Location phrases no tier could resolve, most frequent first',
      tags,
      auth: { permission: READ },
      query: UnresolvedQuery,
      responses: { 200: { description: 'A page of phrases', schema: UnresolvedResponse } },
    },
    requirePermission(READ),
    async (req, res) => {
      const query = UnresolvedQuery.parse(req.query);
      await search.recorder.flush();
      res.setHeader('Cache-Control', 'no-store');
      res.json(await findUnresolvedPhrases(db, query));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/search/aliases',
      operationId: 'listRegionAliases',
      summary: 'Region aliases: the review queue (status=pending) and every seeded, learned and approved one',
      tags,
      auth: { permission: MANAGE },
      query: AliasesQuery,
      responses: { 200: { description: 'A page of aliases, newest first', schema: AliasesResponse } },
    },
    requirePermission(MANAGE),
    async (req, res) => {
      const query = AliasesQuery.parse(req.query);
      res.setHeader('Cache-Control', 'no-store');
      res.json(await findRegionAliases(db, query));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/admin/search/aliases',
      operationId: 'createRegionAlias',
      summary: 'Add an approved region alias (audited)',
      tags,
      auth: { permission: MANAGE },
      body: CreateAliasBody,
      responses: { 201: { description: 'The alias', schema: AliasSchema } },
    },
    requirePermission(MANAGE),
    async (req, res) => {
      const body = CreateAliasBody.parse(req.body);
      const alias = await createRegionAlias(db, req.auditContext, body, deps.clock.now());
      await search.invalidate();
      res.status(201).json(alias);
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    const Body = decision === 'approve' ? ApproveAliasBody : RejectAliasBody;
    api.add(
      {
        method: 'post',
        path: `/admin/search/aliases/:id/${decision}`,
        operationId: decision === 'approve' ? 'approveRegionAlias' : 'rejectRegionAlias',
        summary:
          decision === 'approve'
            ? 'Approve a pending alias, optionally correcting its regions (audited)'
            : 'Reject an alias; the phrase is never proposed again (audited)',
        tags,
        auth: { permission: MANAGE },
        params: AliasIdParams,
        body: Body,
        responses: { 200: { description: 'The alias after review', schema: AliasSchema } },
      },
      requirePermission(MANAGE),
      async (req, res) => {
        const { id } = AliasIdParams.parse(req.params);
        const body = Body.parse(req.body ?? {}) as { regionSlugs?: string[]; note?: string };
        const alias = await reviewRegionAlias(
          db,
          req.auditContext,
          { id, decision, regionSlugs: body.regionSlugs, note: body.note },
          deps.clock.now(),
        );
        await search.invalidate();
        res.json(alias);
      },
    );
  }
}
