import { type Kysely, sql } from 'kysely';

/**
 * Natural-language search (spec: search.md): location aliases, the search log with clicks,
 * unresolved location phrases, and the hourly rollup the admin analytics read.
 *
 * Region aliases name regions by **slug**, not id: region ids are ULIDs made by whoever loads the
 * regions (the demo seed, a production import), so only slugs are stable across tiers — and the
 * aliases every tier needs ("ues", "bed stuy", "lic"…) ship here, before any region exists.
 *
 * Search → booking attribution is computed at read time, not stored: a booking is attributed to
 * the latest click on that instructor by the same student (or by an anonymous session that the
 * student later searched from while signed in) in the 72 hours before the booking was made
 * (core/src/search/attribution.ts). Nothing in the booking path has to know about search.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- A phrase people use for one or more regions. More than one slug = ambiguous ("uptown"):
    -- the search covers all of them. Only 'approved' rows resolve queries; 'pending' rows wait for
    -- an admin (learned ones under 90% agreement, every LLM answer); 'rejected' rows are never
    -- proposed again.
    create table region_aliases (
      id text primary key,
      phrase text not null unique check (phrase = lower(phrase) and length(phrase) between 1 and 100),
      region_slugs text[] not null check (cardinality(region_slugs) between 1 and 20),
      source text not null check (source in ('seeded', 'learned', 'llm', 'admin')),
      status text not null check (status in ('approved', 'pending', 'rejected')),
      -- evidence for learned aliases: searches with the phrase, result clicks, and the share of
      -- clicks that went to instructors covering the chosen region(s)
      search_count integer not null default 0 check (search_count >= 0),
      click_count integer not null default 0 check (click_count >= 0),
      click_share numeric(4, 3) check (click_share between 0 and 1),
      created_at timestamptz not null default now(),
      created_by text,
      reviewed_at timestamptz,
      reviewed_by text,
      review_note text,
      updated_at timestamptz not null default now()
    );
    create index region_aliases_status_idx on region_aliases (status, created_at desc);
    create index region_aliases_phrase_trgm_idx on region_aliases using gin (phrase gin_trgm_ops);

    -- One row per search request (pages after the first carry first_page = false). user_id for
    -- signed-in callers, session_id for anonymous ones that send X-Session-Id, ip_hash always
    -- (a keyed hash, never the address). Written in small batches shortly after the answer.
    create table search_events (
      id text primary key,
      created_at timestamptz not null,
      raw_query text not null,
      normalized_query text not null,
      parse jsonb not null default '{}',
      parse_source text,
      service_ids text[] not null default '{}',
      location_phrase text,
      location_tier text,
      region_ids text[] not null default '{}',
      result_count integer not null check (result_count >= 0),
      took_ms integer not null check (took_ms >= 0),
      cache_hit boolean not null default false,
      first_page boolean not null default true,
      sort text not null default 'recommended',
      relaxed text[] not null default '{}',
      reason text,
      user_id text references users (id) on delete set null,
      session_id text,
      ip_hash text
    );
    create index search_events_created_idx on search_events (created_at);
    create index search_events_query_idx on search_events (normalized_query, created_at);
    create index search_events_location_idx on search_events (location_phrase, created_at) where location_phrase is not null;
    create index search_events_user_idx on search_events (user_id, created_at) where user_id is not null;
    create index search_events_session_idx on search_events (session_id) where session_id is not null;

    -- A result the searcher opened. search_id has no foreign key on purpose: events are written
    -- in batches, so a fast click may arrive before its search row.
    create table search_clicks (
      id text primary key,
      search_id text not null,
      instructor_id text not null references instructor_profiles (user_id) on delete cascade,
      service_id text references services (id),
      position integer not null check (position between 1 and 1000),
      user_id text references users (id) on delete set null,
      session_id text,
      ip_hash text,
      at timestamptz not null
    );
    create index search_clicks_search_idx on search_clicks (search_id);
    create index search_clicks_instructor_idx on search_clicks (instructor_id, at);
    create index search_clicks_user_idx on search_clicks (user_id, at) where user_id is not null;
    create index search_clicks_at_idx on search_clicks (at);

    -- Location phrases no tier could resolve: the admin "zero-result gaps" view.
    create table unresolved_location_phrases (
      phrase text primary key check (length(phrase) between 1 and 200),
      count integer not null default 1 check (count >= 1),
      first_seen_at timestamptz not null,
      last_seen_at timestamptz not null,
      last_query text not null
    );
    create index unresolved_location_phrases_count_idx on unresolved_location_phrases (count desc, last_seen_at desc);

    -- search.analytics-rollup: per hour and normalized query. Re-computed for the last 72 hours on
    -- every run, because bookings are attributed to clicks up to 72 hours later.
    create table search_query_stats_hourly (
      hour timestamptz not null,
      normalized_query text not null,
      searches integer not null,
      zero_result_searches integer not null,
      low_result_searches integer not null,
      relaxed_searches integer not null,
      result_count_sum bigint not null,
      took_ms_sum bigint not null,
      max_took_ms integer not null,
      clicks integer not null,
      searches_with_click integer not null,
      bookings integer not null,
      rolled_up_at timestamptz not null,
      primary key (hour, normalized_query)
    );
    create index search_query_stats_hourly_query_idx on search_query_stats_hourly (normalized_query, hour);
  `.execute(db);

  await seedRegionAliases(db);
}

/**
 * How New Yorkers name places, beyond the official names (which resolve by themselves).
 * Several slugs = an ambiguous phrase that covers all of them.
 */
const SEEDED_ALIASES: Record<string, readonly string[]> = {
  // Manhattan
  ues: ['upper-east-side'],
  'upper east': ['upper-east-side'],
  yorkville: ['upper-east-side'],
  'lenox hill': ['upper-east-side'],
  'carnegie hill': ['upper-east-side', 'east-harlem'],
  uws: ['upper-west-side'],
  'upper west': ['upper-west-side'],
  'lincoln square': ['upper-west-side'],
  les: ['lower-east-side'],
  fidi: ['financial-district'],
  'wall street': ['financial-district'],
  bpc: ['battery-park-city'],
  noho: ['greenwich-village', 'east-village'],
  nolita: ['soho', 'lower-east-side'],
  'the village': ['greenwich-village', 'west-village', 'east-village'],
  village: ['greenwich-village', 'west-village', 'east-village'],
  ev: ['east-village'],
  wv: ['west-village'],
  hk: ['hells-kitchen'],
  clinton: ['hells-kitchen'],
  'midtown east': ['midtown'],
  'midtown west': ['midtown'],
  'times square': ['midtown'],
  koreatown: ['midtown'],
  ktown: ['midtown'],
  nomad: ['flatiron', 'midtown'],
  'flatiron district': ['flatiron'],
  'union square': ['flatiron', 'gramercy', 'greenwich-village'],
  'stuy town': ['gramercy', 'east-village'],
  'stuyvesant town': ['gramercy', 'east-village'],
  morningside: ['morningside-heights'],
  columbia: ['morningside-heights'],
  'washington hts': ['washington-heights'],
  'wash heights': ['washington-heights'],
  wahi: ['washington-heights'],
  'spanish harlem': ['east-harlem'],
  'el barrio': ['east-harlem'],
  uptown: [
    'upper-west-side',
    'upper-east-side',
    'morningside-heights',
    'harlem',
    'east-harlem',
    'hamilton-heights',
    'washington-heights',
    'inwood',
  ],
  downtown: ['financial-district', 'battery-park-city', 'tribeca', 'soho', 'chinatown', 'lower-east-side'],
  'lower manhattan': ['financial-district', 'battery-park-city', 'tribeca', 'soho', 'chinatown', 'lower-east-side'],
  'the city': ['manhattan'],
  // Brooklyn
  bk: ['brooklyn'],
  bklyn: ['brooklyn'],
  'bed stuy': ['bedford-stuyvesant'],
  bedstuy: ['bedford-stuyvesant'],
  'bed stuyvesant': ['bedford-stuyvesant'],
  wburg: ['williamsburg'],
  billyburg: ['williamsburg'],
  'east williamsburg': ['williamsburg', 'bushwick'],
  'vinegar hill': ['dumbo'],
  'boerum hill': ['cobble-hill', 'downtown-brooklyn'],
  bococa: ['cobble-hill', 'carroll-gardens'],
  'prospect park': ['park-slope', 'prospect-heights', 'flatbush'],
  'the slope': ['park-slope'],
  pslope: ['park-slope'],
  'crown hts': ['crown-heights'],
  'prospect lefferts': ['flatbush'],
  'ditmas park': ['flatbush'],
  'downtown bk': ['downtown-brooklyn'],
  'bk heights': ['brooklyn-heights'],
  'boro park': ['borough-park'],
  coney: ['coney-island'],
  brighton: ['brighton-beach'],
  sheepshead: ['sheepshead-bay'],
  // Queens
  lic: ['long-island-city'],
  ditmars: ['astoria'],
  'jackson hts': ['jackson-heights'],
  rockaway: ['rockaway-beach'],
  rockaways: ['rockaway-beach'],
  'the rockaways': ['rockaway-beach'],
  // Bronx
  'the bronx': ['bronx'],
  bx: ['bronx'],
  'grand concourse': ['concourse'],
  'south bronx': ['mott-haven', 'concourse'],
  // Staten Island
  staten: ['staten-island'],
  si: ['staten-island'],
};

async function seedRegionAliases(db: Kysely<unknown>): Promise<void> {
  let index = 0;
  for (const [phrase, slugs] of Object.entries(SEEDED_ALIASES)) {
    index += 1;
    // Fixed ids: reference data must be identical on every tier.
    const id = `seeded-alias-${String(index).padStart(3, '0')}`;
    await sql`
      insert into region_aliases (id, phrase, region_slugs, source, status, created_by, reviewed_by, reviewed_at)
      values (${id}, ${phrase}, ${sql.val(slugs)}::text[], 'seeded', 'approved', 'migration', 'migration', now())
    `.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists search_query_stats_hourly, unresolved_location_phrases, search_clicks, search_events, region_aliases;
  `.execute(db);
}
