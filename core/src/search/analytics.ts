import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../shared/pagination.ts';
import { attributedBookings } from './attribution.ts';
import { MIN_RESULTS } from './search.ts';

type Db = Kysely<DB> | Transaction<DB>;

const HOUR_MS = 3_600_000;
/** The rollup recomputes this far back: bookings are attributed to clicks up to 72 hours later. */
export const ROLLUP_LOOKBACK_HOURS = 72;

function hourFloor(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * Per hour and normalized query, over events in [from, to): searches (first pages), zero- and
 * low-result searches, relaxed ones, result and latency sums, clicks (on any page of the
 * search), searches with a click, and attributed bookings. The rollup job and the live part of
 * the admin reads share this one statement.
 */
function aggregateStatement(from: Date, to: Date) {
  return sql`
    with ev as (
      select id, date_trunc('hour', created_at) as hour, normalized_query, result_count, took_ms, relaxed, first_page
      from search_events where created_at >= ${from} and created_at < ${to}
    ),
    clicks as (
      select c.search_id, count(*)::int as n from search_clicks c join ev on ev.id = c.search_id group by c.search_id
    ),
    booked as (
      select a.search_id, count(*)::int as n from (${attributedBookings(from, to)}) a join ev on ev.id = a.search_id group by a.search_id
    )
    select ev.hour, ev.normalized_query,
      count(*) filter (where ev.first_page)::int as searches,
      count(*) filter (where ev.first_page and ev.result_count = 0)::int as zero_result_searches,
      count(*) filter (where ev.first_page and ev.result_count < ${MIN_RESULTS})::int as low_result_searches,
      count(*) filter (where ev.first_page and cardinality(ev.relaxed) > 0)::int as relaxed_searches,
      coalesce(sum(ev.result_count) filter (where ev.first_page), 0)::bigint as result_count_sum,
      coalesce(sum(ev.took_ms) filter (where ev.first_page), 0)::bigint as took_ms_sum,
      coalesce(max(ev.took_ms) filter (where ev.first_page), 0)::int as max_took_ms,
      coalesce(sum(clicks.n), 0)::int as clicks,
      count(clicks.search_id)::int as searches_with_click,
      coalesce(sum(booked.n), 0)::int as bookings
    from ev
    left join clicks on clicks.search_id = ev.id
    left join booked on booked.search_id = ev.id
    group by ev.hour, ev.normalized_query
  `;
}

/**
 * search.analytics-rollup: recomputes the hourly rows of the last 72 complete hours (late clicks
 * and bookings still change them) and replaces them in one transaction.
 */
export async function rollupSearchAnalytics(trx: Transaction<DB>, now: Date): Promise<{ from: string; to: string; rows: number }> {
  const to = hourFloor(now);
  const from = new Date(to.getTime() - ROLLUP_LOOKBACK_HOURS * HOUR_MS);
  await trx.deleteFrom('searchQueryStatsHourly').where('hour', '>=', from).where('hour', '<', to).execute();
  const inserted = await sql<{ n: number }>`
    with rows as (${aggregateStatement(from, to)}),
    written as (
      insert into search_query_stats_hourly (hour, normalized_query, searches, zero_result_searches, low_result_searches,
        relaxed_searches, result_count_sum, took_ms_sum, max_took_ms, clicks, searches_with_click, bookings, rolled_up_at)
      select hour, normalized_query, searches, zero_result_searches, low_result_searches, relaxed_searches, result_count_sum,
        took_ms_sum, max_took_ms, clicks, searches_with_click, bookings, ${now}
      from rows
      returning 1
    )
    select count(*)::int as n from written
  `.execute(trx);
  return { from: from.toISOString(), to: to.toISOString(), rows: inserted.rows[0]?.n ?? 0 };
}

/** Rolled-up hours end here: later events are aggregated live. Null when nothing was rolled up. */
async function rolledUpThrough(db: Db): Promise<Date | null> {
  const row = await db
    .selectFrom('searchQueryStatsHourly')
    .select(sql<Date | null>`max(hour) + interval '1 hour'`.as('through'))
    .executeTakeFirst();
  return row?.through ?? null;
}

/**
 * Hourly rows for [from, to): rolled-up hours where the rollup has them, live aggregation for
 * the rest — so the admin view is never behind, and cheap over long ranges.
 */
async function combinedStats(db: Db, from: Date, to: Date) {
  const through = await rolledUpThrough(db);
  const liveFrom = through && through > from ? (through < to ? through : to) : from;
  return {
    through,
    statement: sql`
      select hour, normalized_query, searches, zero_result_searches, low_result_searches, relaxed_searches, result_count_sum,
        took_ms_sum, max_took_ms, clicks, searches_with_click, bookings
      from search_query_stats_hourly where hour >= ${from} and hour < ${liveFrom}
      union all
      select * from (${aggregateStatement(liveFrom, to)}) live
    `,
  };
}

export interface QueryStats {
  query: string;
  searches: number;
  zeroResultSearches: number;
  lowResultSearches: number;
  relaxedSearches: number;
  averageResults: number;
  averageTookMs: number;
  clicks: number;
  /** Share of searches with at least one click. */
  clickThroughRate: number;
  bookings: number;
  /** Attributed bookings per search. */
  bookingConversionRate: number;
}

interface StatsRow {
  normalizedQuery: string;
  searches: number;
  zeroResultSearches: number;
  lowResultSearches: number;
  relaxedSearches: number;
  resultCountSum: number;
  tookMsSum: number;
  clicks: number;
  searchesWithClick: number;
  bookings: number;
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0;
}

function toQueryStats(row: StatsRow): QueryStats {
  const searches = Number(row.searches);
  return {
    query: row.normalizedQuery,
    searches,
    zeroResultSearches: Number(row.zeroResultSearches),
    lowResultSearches: Number(row.lowResultSearches),
    relaxedSearches: Number(row.relaxedSearches),
    averageResults: ratio(Number(row.resultCountSum), searches),
    averageTookMs: Math.round(ratio(Number(row.tookMsSum), searches) * 10) / 10,
    clicks: Number(row.clicks),
    clickThroughRate: ratio(Number(row.searchesWithClick), searches),
    bookings: Number(row.bookings),
    bookingConversionRate: ratio(Number(row.bookings), searches),
  };
}

const OffsetCursor = z.object({ o: z.number().int().min(0) });

export interface StatsPage<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
  from: string;
  to: string;
  /** Hours before this come from the hourly rollup, later ones were aggregated live. */
  rolledUpThrough: string | null;
}

export interface TopQueriesInput {
  from: Date;
  to: Date;
  limit: number;
  cursor?: string | undefined;
  /** Order by volume (default), clicks, bookings or zero-result searches. */
  orderBy?: 'searches' | 'clicks' | 'bookings' | 'zero_results' | undefined;
  /** Only queries containing this text. */
  contains?: string | undefined;
  minSearches?: number | undefined;
}

const ORDER_COLUMNS = {
  searches: 'searches',
  clicks: 'clicks',
  bookings: 'bookings',
  zero_results: 'zero_result_searches',
} as const;

/** Top queries by volume with click-through and booking conversion, for a time range. */
export async function findTopQueries(db: Db, input: TopQueriesInput): Promise<StatsPage<QueryStats>> {
  const offset = decodeCursor(input.cursor, OffsetCursor)?.o ?? 0;
  const { through, statement } = await combinedStats(db, input.from, input.to);
  const order = sql.raw(ORDER_COLUMNS[input.orderBy ?? 'searches']);
  const contains = input.contains ? `%${input.contains.toLowerCase().replace(/[%_\\]/g, (ch) => `\\${ch}`)}%` : null;
  const { rows } = await sql<StatsRow & { total: number }>`
    with stats as (${statement}),
    grouped as (
      select normalized_query, sum(searches)::int as searches, sum(zero_result_searches)::int as zero_result_searches,
        sum(low_result_searches)::int as low_result_searches, sum(relaxed_searches)::int as relaxed_searches,
        sum(result_count_sum)::bigint as result_count_sum, sum(took_ms_sum)::bigint as took_ms_sum, sum(clicks)::int as clicks,
        sum(searches_with_click)::int as searches_with_click, sum(bookings)::int as bookings
      from stats
      group by normalized_query
      having sum(searches) >= ${input.minSearches ?? 1}
        and (${contains}::text is null or normalized_query like ${contains})
    )
    select counted.total, page.* from (select count(*)::int as total from grouped) counted
    left join lateral (
      select * from grouped order by ${order} desc, searches desc, normalized_query limit ${input.limit + 1} offset ${offset}
    ) page on true
    order by page.${order} desc, page.searches desc, page.normalized_query
  `.execute(db);
  const total = rows[0]?.total ?? 0;
  const found = rows.filter((row) => row.normalizedQuery !== null);
  const hasMore = found.length > input.limit;
  return {
    items: found.slice(0, input.limit).map(toQueryStats),
    nextCursor: hasMore ? encodeCursor({ o: offset + input.limit }) : null,
    total,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    rolledUpThrough: through?.toISOString() ?? null,
  };
}

export interface SuggestedFix {
  kind: 'location_alias' | 'service_alias' | 'supply' | 'rephrase';
  detail: string;
  /** The phrase an alias would name (location or service). */
  phrase: string | null;
  serviceIds: string[];
  regionIds: string[];
}

export interface SearchGap extends QueryStats {
  /** What the latest such search looked like. */
  lastReason: string | null;
  locationPhrase: string | null;
  locationTier: string | null;
  relaxed: string[];
  suggestion: SuggestedFix;
}

/**
 * Zero- and low-result queries (fewer than 5 results on the first page) in a time range, worst
 * first, each with the fix it suggests: an alias for a place nobody could resolve, a service
 * alias for an unknown lesson, or more supply where the service and place were understood.
 */
export async function findSearchGaps(
  db: Db,
  input: { from: Date; to: Date; limit: number; cursor?: string | undefined; only?: 'zero' | 'low' | undefined },
): Promise<StatsPage<SearchGap>> {
  const offset = decodeCursor(input.cursor, OffsetCursor)?.o ?? 0;
  const { through, statement } = await combinedStats(db, input.from, input.to);
  const column = input.only === 'zero' ? sql.raw('zero_result_searches') : sql.raw('low_result_searches');
  const { rows } = await sql<
    StatsRow & {
      total: number;
      reason: string | null;
      locationPhrase: string | null;
      locationTier: string | null;
      serviceIds: string[] | null;
      regionIds: string[] | null;
      relaxed: string[] | null;
      servicePhrase: string | null;
    }
  >`
    with stats as (${statement}),
    grouped as (
      select normalized_query, sum(searches)::int as searches, sum(zero_result_searches)::int as zero_result_searches,
        sum(low_result_searches)::int as low_result_searches, sum(relaxed_searches)::int as relaxed_searches,
        sum(result_count_sum)::bigint as result_count_sum, sum(took_ms_sum)::bigint as took_ms_sum, sum(clicks)::int as clicks,
        sum(searches_with_click)::int as searches_with_click, sum(bookings)::int as bookings
      from stats group by normalized_query
      having sum(${column}) > 0
    ),
    page as (
      select * from grouped order by ${column} desc, searches desc, normalized_query limit ${input.limit + 1} offset ${offset}
    )
    select (select count(*)::int from grouped) as total, page.*, latest.reason, latest.location_phrase, latest.location_tier, latest.service_ids, latest.region_ids, latest.relaxed,
      latest.parse -> 'service' ->> 'phrase' as service_phrase
    from page
    left join lateral (
      select e.reason, e.location_phrase, e.location_tier, e.service_ids, e.region_ids, e.relaxed, e.parse from search_events e
      where e.normalized_query = page.normalized_query and e.first_page and e.created_at >= ${input.from} and e.created_at < ${input.to}
      order by e.created_at desc limit 1
    ) latest on true
    order by page.${column} desc, page.searches desc, page.normalized_query
  `.execute(db);
  const total =
    rows[0]?.total ??
    (
      await sql<{ n: number }>`with stats as (${statement}) select count(*)::int as n from (
      select normalized_query from stats group by normalized_query having sum(${column}) > 0) gaps`.execute(db)
    ).rows[0]?.n ??
    0;
  const hasMore = rows.length > input.limit;
  return {
    items: rows.slice(0, input.limit).map((row) => {
      const stats = toQueryStats(row);
      const gap = {
        lastReason: row.reason,
        locationPhrase: row.locationPhrase,
        locationTier: row.locationTier,
        relaxed: row.relaxed ?? [],
      };
      return { ...stats, ...gap, suggestion: suggestFix(row, gap) };
    }),
    nextCursor: hasMore ? encodeCursor({ o: offset + input.limit }) : null,
    total,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    rolledUpThrough: through?.toISOString() ?? null,
  };
}

function suggestFix(
  row: { normalizedQuery: string; serviceIds: string[] | null; regionIds: string[] | null; servicePhrase: string | null },
  gap: { lastReason: string | null; locationPhrase: string | null; locationTier: string | null; relaxed: string[] },
): SuggestedFix {
  const serviceIds = row.serviceIds ?? [];
  const regionIds = row.regionIds ?? [];
  if (gap.locationPhrase && gap.locationTier === null && gap.locationPhrase !== 'near me') {
    return {
      kind: 'location_alias',
      detail: `No place matched “${gap.locationPhrase}”: add a region alias for it (POST /api/v1/admin/search/aliases).`,
      phrase: gap.locationPhrase,
      serviceIds,
      regionIds,
    };
  }
  if (gap.lastReason === 'no_service_match') {
    const phrase = row.servicePhrase ?? row.normalizedQuery;
    return {
      kind: 'service_alias',
      detail: `No service matched “${phrase}”: add it as an alias of an existing service, or add the service to the catalog.`,
      phrase,
      serviceIds,
      regionIds,
    };
  }
  if (gap.lastReason === 'empty_query' || gap.lastReason === 'not_understood') {
    return {
      kind: 'rephrase',
      detail: 'The query did not say what to learn; nothing to fix in the catalog.',
      phrase: null,
      serviceIds,
      regionIds,
    };
  }
  const relaxedNote = gap.relaxed.length > 0 ? ` Searches had to drop: ${gap.relaxed.join(', ')}.` : '';
  return {
    kind: 'supply',
    detail: `The service${regionIds.length > 0 ? ' and place' : ''} were understood but few instructors match: recruit instructors for this service${
      regionIds.length > 0 ? ' in this area' : ''
    }.${relaxedNote}`,
    phrase: null,
    serviceIds,
    regionIds,
  };
}

export interface SearchOverview {
  from: string;
  to: string;
  searches: number;
  zeroResultRate: number;
  lowResultRate: number;
  clickThroughRate: number;
  bookings: number;
  bookingConversionRate: number;
  averageTookMs: number;
  distinctQueries: number;
  unresolvedLocationPhrases: number;
  pendingAliases: number;
  rolledUpThrough: string | null;
}

/** Totals for a time range: the headline numbers of the search analytics view. */
export async function getSearchOverview(db: Db, input: { from: Date; to: Date }): Promise<SearchOverview> {
  const { through, statement } = await combinedStats(db, input.from, input.to);
  const { rows } = await sql<{
    searches: number;
    zero: number;
    low: number;
    withClick: number;
    bookings: number;
    tookSum: number;
    distinctQueries: number;
  }>`
    with stats as (${statement})
    select coalesce(sum(searches), 0)::int as searches, coalesce(sum(zero_result_searches), 0)::int as zero,
      coalesce(sum(low_result_searches), 0)::int as low, coalesce(sum(searches_with_click), 0)::int as with_click,
      coalesce(sum(bookings), 0)::int as bookings, coalesce(sum(took_ms_sum), 0)::bigint as took_sum,
      count(distinct normalized_query) filter (where searches > 0)::int as distinct_queries
    from stats
  `.execute(db);
  const totals = rows[0] ?? { searches: 0, zero: 0, low: 0, withClick: 0, bookings: 0, tookSum: 0, distinctQueries: 0 };
  const [unresolved, pending] = await Promise.all([
    db
      .selectFrom('unresolvedLocationPhrases')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('regionAliases')
      .where('status', '=', 'pending')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  const searches = Number(totals.searches);
  return {
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    searches,
    zeroResultRate: ratio(Number(totals.zero), searches),
    lowResultRate: ratio(Number(totals.low), searches),
    clickThroughRate: ratio(Number(totals.withClick), searches),
    bookings: Number(totals.bookings),
    bookingConversionRate: ratio(Number(totals.bookings), searches),
    averageTookMs: Math.round(ratio(Number(totals.tookSum), searches) * 10) / 10,
    distinctQueries: Number(totals.distinctQueries),
    unresolvedLocationPhrases: unresolved.n,
    pendingAliases: pending.n,
    rolledUpThrough: through?.toISOString() ?? null,
  };
}

export interface UnresolvedPhrase {
  phrase: string;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  lastQuery: string;
  /** An alias (any status) now exists for the phrase. */
  alias: { id: string; status: string } | null;
}

const UnresolvedCursor = z.object({ c: z.number().int(), p: z.string() });

/** Location phrases no tier resolved, most frequent first. */
export async function findUnresolvedPhrases(
  db: Db,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ items: UnresolvedPhrase[]; nextCursor: string | null; total: number }> {
  const after = decodeCursor(input.cursor, UnresolvedCursor);
  let query = db
    .selectFrom('unresolvedLocationPhrases as u')
    .leftJoin('regionAliases as a', 'a.phrase', 'u.phrase')
    .select(['u.phrase', 'u.count', 'u.firstSeenAt', 'u.lastSeenAt', 'u.lastQuery', 'a.id as aliasId', 'a.status as aliasStatus'])
    .orderBy('u.count', 'desc')
    .orderBy('u.phrase')
    .limit(input.limit + 1);
  if (after)
    query = query.where((eb) => eb.or([eb('u.count', '<', after.c), eb.and([eb('u.count', '=', after.c), eb('u.phrase', '>', after.p)])]));
  const [rows, total] = await Promise.all([
    query.execute(),
    db
      .selectFrom('unresolvedLocationPhrases')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  const hasMore = rows.length > input.limit;
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((row) => ({
      phrase: row.phrase,
      count: row.count,
      firstSeenAt: row.firstSeenAt.toISOString(),
      lastSeenAt: row.lastSeenAt.toISOString(),
      lastQuery: row.lastQuery,
      alias: row.aliasId && row.aliasStatus ? { id: row.aliasId, status: row.aliasStatus } : null,
    })),
    nextCursor: hasMore && last ? encodeCursor({ c: last.count, p: last.phrase }) : null,
    total: total.n,
  };
}
