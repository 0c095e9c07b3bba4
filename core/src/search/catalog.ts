import type { DB } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { normalizePhrase } from './normalize.ts';
import type { SearchVocabulary } from './parsed-query.ts';

/** A catalog service with the phrases that name it, normalized. */
export interface CatalogService {
  id: string;
  slug: string;
  name: string;
  categoryId: string;
  categorySlug: string;
  categoryName: string;
  aliases: string[];
  audiences: string[];
  skillLevels: string[];
  /** Normalized name, slug words and aliases: exact matches on these are certain. */
  phrases: string[];
}

export interface CatalogCategory {
  id: string;
  slug: string;
  name: string;
  /** Normalized name and slug words ("sports fitness", "sports", "fitness"…). */
  phrases: string[];
}

export interface CatalogRegion {
  id: string;
  slug: string;
  name: string;
  kind: 'borough' | 'neighborhood';
  borough: string;
  parentId: string | null;
  centroid: { lat: number; lng: number };
  normalizedName: string;
}

export interface CatalogAlias {
  phrase: string;
  regionSlugs: string[];
  source: string;
}

export interface PriceThreshold {
  budgetMaxCents: number;
  affordableMaxCents: number;
  premiumMinCents: number;
}

/**
 * What search knows about the world, loaded from the database and shared by every request of a
 * process until the catalog changes. `fingerprint` changes whenever services, categories,
 * regions, aliases or instructors' offerings do.
 */
export interface SearchCatalog {
  fingerprint: string;
  services: CatalogService[];
  servicesById: Map<string, CatalogService>;
  servicesBySlug: Map<string, CatalogService>;
  categories: CatalogCategory[];
  regions: CatalogRegion[];
  regionsById: Map<string, CatalogRegion>;
  regionsBySlug: Map<string, CatalogRegion>;
  /** Approved aliases by normalized phrase. */
  aliases: Map<string, CatalogAlias>;
  priceThresholds: Record<string, PriceThreshold>;
  vocabulary: SearchVocabulary;
}

/** Used when a category has no live offerings to measure (spec: cheap ≈ $60, affordable ≈ $80). */
export const DEFAULT_PRICE_THRESHOLD: PriceThreshold = { budgetMaxCents: 6000, affordableMaxCents: 8000, premiumMinCents: 15000 };
/** The key of the all-categories row in `priceThresholds` (queries that name no service). */
export const ANY_CATEGORY = 'default';

/**
 * One cheap statement that changes whenever anything search depends on changes. Offerings and
 * profiles are summarized by count and latest update; the small reference tables in full.
 */
export async function catalogFingerprint(db: Kysely<DB>): Promise<string> {
  const { rows } = await sql<{ fingerprint: string }>`
    select md5(concat_ws('|',
      (select string_agg(id || ':' || name || ':' || is_active::text || ':' || array_to_string(aliases, ',') || ':' || category_id, ';' order by id) from services),
      (select string_agg(id || ':' || name || ':' || slug, ';' order by id) from service_categories),
      (select string_agg(id || ':' || name, ';' order by id) from regions),
      (select string_agg(phrase || ':' || status || ':' || array_to_string(region_slugs, ','), ';' order by phrase) from region_aliases),
      (select count(*) || ':' || coalesce(max(updated_at)::text, '') || ':' || coalesce(sum(hourly_rate_cents), 0) from instructor_services),
      (select count(*) || ':' || count(*) filter (where is_live) || ':' || coalesce(max(updated_at)::text, '') from instructor_profiles),
      (select count(*) from instructor_service_areas)
    )) as fingerprint
  `.execute(db);
  return rows[0]?.fingerprint ?? 'empty';
}

function roundToFiveDollars(cents: number): number {
  return Math.max(500, Math.round(cents / 500) * 500);
}

function slugWords(slug: string): string {
  return slug.replace(/-/g, ' ');
}

/** Loads the catalog (a handful of small queries); `fingerprint` is the value it was read under. */
export async function loadSearchCatalog(db: Kysely<DB>, fingerprint: string): Promise<SearchCatalog> {
  const [serviceRows, categoryRows, regionRows, aliasRows, priceRows] = await Promise.all([
    db
      .selectFrom('services as s')
      .innerJoin('serviceCategories as c', 'c.id', 's.categoryId')
      .where('s.isActive', '=', true)
      .select([
        's.id',
        's.slug',
        's.name',
        's.aliases',
        's.audiences',
        's.skillLevels',
        's.categoryId',
        'c.slug as categorySlug',
        'c.name as categoryName',
      ])
      .orderBy('s.slug')
      .execute(),
    db.selectFrom('serviceCategories').select(['id', 'slug', 'name']).orderBy('sortOrder').orderBy('slug').execute(),
    db.selectFrom('regions').select(['id', 'slug', 'name', 'kind', 'borough', 'parentId', 'centroid']).orderBy('slug').execute(),
    db.selectFrom('regionAliases').where('status', '=', 'approved').select(['phrase', 'regionSlugs', 'source']).orderBy('phrase').execute(),
    sql<{ categorySlug: string | null; p25: number; p50: number; p75: number }>`
      select c.slug as category_slug,
        percentile_disc(0.25) within group (order by o.hourly_rate_cents) as p25,
        percentile_disc(0.5) within group (order by o.hourly_rate_cents) as p50,
        percentile_disc(0.75) within group (order by o.hourly_rate_cents) as p75
      from instructor_services o
      join instructor_profiles p on p.user_id = o.instructor_id and p.is_live
      join services s on s.id = o.service_id
      join service_categories c on c.id = s.category_id
      where o.deleted_at is null and o.is_active
      group by grouping sets ((c.slug), ())
    `.execute(db),
  ]);

  const services: CatalogService[] = serviceRows.map((row) => {
    const phrases = new Set([normalizePhrase(row.name), slugWords(row.slug), ...row.aliases.map(normalizePhrase)]);
    phrases.delete('');
    return {
      id: row.id,
      slug: row.slug,
      name: row.name,
      categoryId: row.categoryId,
      categorySlug: row.categorySlug,
      categoryName: row.categoryName,
      aliases: row.aliases,
      audiences: row.audiences,
      skillLevels: row.skillLevels,
      phrases: [...phrases],
    };
  });
  const categories: CatalogCategory[] = categoryRows.map((row) => {
    const phrases = new Set([normalizePhrase(row.name), slugWords(row.slug), ...normalizePhrase(row.name).split(' ')]);
    for (const word of ['and', '']) phrases.delete(word);
    return { id: row.id, slug: row.slug, name: row.name, phrases: [...phrases] };
  });
  const regions: CatalogRegion[] = regionRows.map((row) => ({
    id: row.id,
    slug: row.slug,
    name: row.name,
    kind: row.kind as CatalogRegion['kind'],
    borough: row.borough,
    parentId: row.parentId,
    centroid: { lat: row.centroid.y, lng: row.centroid.x },
    normalizedName: normalizePhrase(row.name),
  }));
  const regionsBySlug = new Map(regions.map((region) => [region.slug, region]));
  const aliases = new Map<string, CatalogAlias>();
  for (const row of aliasRows) {
    // an alias whose regions are not loaded on this tier would resolve to nothing: leave it out
    const regionSlugs = row.regionSlugs.filter((slug) => regionsBySlug.has(slug));
    if (regionSlugs.length > 0) aliases.set(normalizePhrase(row.phrase), { phrase: row.phrase, regionSlugs, source: row.source });
  }

  const priceThresholds: Record<string, PriceThreshold> = {};
  for (const row of priceRows.rows) {
    priceThresholds[row.categorySlug ?? ANY_CATEGORY] = {
      budgetMaxCents: roundToFiveDollars(Number(row.p25)),
      affordableMaxCents: roundToFiveDollars(Number(row.p50)),
      premiumMinCents: roundToFiveDollars(Number(row.p75)),
    };
  }
  for (const category of categories) priceThresholds[category.slug] ??= priceThresholds[ANY_CATEGORY] ?? DEFAULT_PRICE_THRESHOLD;
  priceThresholds[ANY_CATEGORY] ??= DEFAULT_PRICE_THRESHOLD;

  const regionPhrases = new Set<string>();
  for (const region of regions) {
    regionPhrases.add(region.name.toLowerCase());
    regionPhrases.add(region.normalizedName);
  }
  for (const phrase of aliases.keys()) regionPhrases.add(phrase);

  const vocabulary: SearchVocabulary = {
    services: services.map((service) => ({
      slug: service.slug,
      name: service.name,
      categorySlug: service.categorySlug,
      aliases: service.aliases,
    })),
    categories: categories.map((category) => ({ slug: category.slug, name: category.name })),
    regionPhrases: [...regionPhrases].sort(),
    priceThresholds,
  };

  return {
    fingerprint,
    services,
    servicesById: new Map(services.map((service) => [service.id, service])),
    servicesBySlug: new Map(services.map((service) => [service.slug, service])),
    categories,
    regions,
    regionsById: new Map(regions.map((region) => [region.id, region])),
    regionsBySlug,
    aliases,
    priceThresholds,
    vocabulary,
  };
}

/** Hands out the current catalog, re-reading it when its fingerprint changes. */
export interface CatalogProvider {
  current(): Promise<SearchCatalog>;
  /** Forget what is loaded (after this process changed aliases): the next call re-reads. */
  invalidate(): void;
}

/**
 * Checks the fingerprint at most every `checkEveryMs` (one cheap statement), so a catalog change
 * made by any process reaches this one within that time; concurrent callers share one load.
 */
export function createCatalogProvider(db: Kysely<DB>, options: { checkEveryMs?: number; now?: () => number } = {}): CatalogProvider {
  const checkEveryMs = options.checkEveryMs ?? 5_000;
  const now = options.now ?? Date.now;
  let loaded: SearchCatalog | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<SearchCatalog> | undefined;

  async function refresh(): Promise<SearchCatalog> {
    const fingerprint = await catalogFingerprint(db);
    if (!loaded || loaded.fingerprint !== fingerprint) loaded = await loadSearchCatalog(db, fingerprint);
    checkedAt = now();
    return loaded;
  }

  return {
    async current() {
      if (loaded && now() - checkedAt < checkEveryMs) return loaded;
      pending ??= refresh().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      checkedAt = Number.NEGATIVE_INFINITY;
    },
  };
}
