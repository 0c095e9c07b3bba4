import { type DB, newId } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import type { Cache } from '../shared/cache.ts';
import type { Logger } from '../shared/logger.ts';
import type { CatalogRegion, SearchCatalog } from './catalog.ts';
import { embedPhrase, regionVectors } from './embeddings.ts';
import { normalizePhrase } from './normalize.ts';
import { cosineSimilarity, type SearchAi } from './search-ai.ts';

/** How a location was understood; null when nothing answered. */
export type LocationTier = 'exact' | 'alias' | 'substring' | 'fuzzy' | 'embedding' | 'llm' | 'near_me' | 'filter';

export const FUZZY_MIN_SIMILARITY = 0.4;
export const EMBEDDING_MIN_SIMILARITY = 0.82;
/** Below this best trigram score the phrase is too far from any place for embeddings to help. */
export const EMBEDDING_SKIP_BELOW_FUZZY = 0.25;

export interface ResolvedLocation {
  /** As written ("upper west sid"), or "near me". */
  phrase: string;
  nearMe: boolean;
  tier: LocationTier | null;
  /** The regions the phrase named, before a borough is expanded. */
  matched: CatalogRegion[];
  /**
   * A service area naming any of these covers the place: each matched region, the neighborhoods
   * of a matched borough, and the borough of a matched neighborhood.
   */
  coverageRegionIds: string[];
  /** Where distances are measured from (a saved address, or the matched regions' centroids). */
  referencePoints: Array<{ lat: number; lng: number }>;
  /** Similarity behind a fuzzy or embedding match. */
  score: number | null;
}

export interface LocationDeps {
  cache: Cache;
  logger: Logger;
  ai?: SearchAi | undefined;
  now: () => Date;
}

function unresolved(phrase: string, nearMe = false): ResolvedLocation {
  return { phrase, nearMe, tier: null, matched: [], coverageRegionIds: [], referencePoints: [], score: null };
}

/** Builds the answer for a set of regions: coverage (boroughs expanded) and reference points. */
export function locationOf(
  catalog: SearchCatalog,
  phrase: string,
  tier: LocationTier,
  regions: readonly CatalogRegion[],
  score: number | null = null,
): ResolvedLocation {
  const matched = [...new Map(regions.map((region) => [region.id, region])).values()];
  const coverage = new Set<string>();
  for (const region of matched) {
    coverage.add(region.id);
    if (region.kind === 'borough') {
      for (const other of catalog.regions) if (other.parentId === region.id) coverage.add(other.id);
    } else if (region.parentId) {
      coverage.add(region.parentId);
    }
  }
  return {
    phrase,
    nearMe: false,
    tier,
    matched,
    coverageRegionIds: [...coverage],
    referencePoints: matched.map((region) => region.centroid),
    score,
  };
}

function bySlugs(catalog: SearchCatalog, slugs: readonly string[]): CatalogRegion[] {
  return slugs.map((slug) => catalog.regionsBySlug.get(slug)).filter((region): region is CatalogRegion => region !== undefined);
}

/** Tier 3: a region name inside the phrase ("park slope area"), or the phrase starting a name's word ("kips"). */
function substringMatch(catalog: SearchCatalog, phrase: string): CatalogRegion[] {
  const padded = ` ${phrase} `;
  const names: Array<{ text: string; regions: CatalogRegion[] }> = [
    ...catalog.regions.map((region) => ({ text: region.normalizedName, regions: [region] })),
    ...[...catalog.aliases.entries()]
      .filter(([text]) => text.length >= 3)
      .map(([text, alias]) => ({ text, regions: bySlugs(catalog, alias.regionSlugs) })),
  ];
  const inside = names.filter((name) => name.text.length >= 3 && padded.includes(` ${name.text} `));
  if (inside.length > 0) {
    // keep the most specific: drop a name contained in another match, and a borough whose neighborhood matched
    const kept = inside.filter(
      (name) => !inside.some((other) => other !== name && other.text.includes(name.text) && other.text !== name.text),
    );
    const regions = kept.flatMap((name) => name.regions);
    const neighborhoodBoroughs = new Set(regions.filter((region) => region.kind === 'neighborhood').map((region) => region.parentId));
    return regions.filter((region) => !(region.kind === 'borough' && neighborhoodBoroughs.has(region.id)));
  }
  if (phrase.length < 4) return [];
  const starts = catalog.regions.filter((region) => ` ${region.normalizedName}`.includes(` ${phrase}`));
  // "heights" starts a dozen names: too vague to pick for the searcher
  return starts.length <= 4 ? starts : [];
}

async function fuzzyMatch(db: Kysely<DB>, catalog: SearchCatalog, phrase: string): Promise<{ regions: CatalogRegion[]; score: number }> {
  const { rows } = await sql<{ kind: string; key: string; regionSlugs: string[] | null; score: number }>`
    select kind, key, region_slugs, score from (
      select 'region' as kind, slug as key, null::text[] as region_slugs, similarity(lower(name), ${phrase}) as score from regions
      union all
      select 'alias', phrase, region_slugs, similarity(phrase, ${phrase}) from region_aliases where status = 'approved'
    ) candidates
    order by score desc, key
    limit 3
  `.execute(db);
  const best = rows[0];
  if (!best) return { regions: [], score: 0 };
  const score = Number(best.score);
  const regions = best.kind === 'region' ? bySlugs(catalog, [best.key]) : bySlugs(catalog, best.regionSlugs ?? []);
  return { regions, score };
}

async function embeddingMatch(ai: SearchAi, deps: LocationDeps, catalog: SearchCatalog, phrase: string) {
  const [query, vectors] = await Promise.all([embedPhrase(ai, deps.cache, phrase), regionVectors(ai, deps.cache, catalog)]);
  let best: { slug: string; score: number } | undefined;
  for (const entry of vectors) {
    const score = cosineSimilarity(query, entry.vector);
    if (!best || score > best.score) best = { slug: entry.key, score };
  }
  return best;
}

/**
 * Tier 6. An answer is kept as a pending alias, which also caches it: the next search with the
 * phrase uses it without asking again, an admin approves it into a real alias or rejects it
 * (after which the phrase stays unresolved and the model is not asked again).
 */
async function llmMatch(db: Kysely<DB>, deps: LocationDeps, catalog: SearchCatalog, phrase: string): Promise<CatalogRegion[] | null> {
  const known = await db
    .selectFrom('regionAliases')
    .where('phrase', '=', phrase)
    .select(['status', 'source', 'regionSlugs'])
    .executeTakeFirst();
  // a cached model answer is used while it waits for review; a learned one waits unused; a rejected one is final
  if (known) return known.status === 'pending' && known.source === 'llm' ? bySlugs(catalog, known.regionSlugs) : null;
  if (!deps.ai) return null;
  const slugs = await deps.ai.pickRegions(
    phrase,
    catalog.regions.map((region) => ({ slug: region.slug, name: region.name, borough: region.borough })),
  );
  if (slugs.length === 0) return null;
  const now = deps.now();
  await db
    .insertInto('regionAliases')
    .values({
      id: newId(),
      phrase,
      regionSlugs: slugs,
      source: 'llm',
      status: 'pending',
      createdAt: now,
      createdBy: 'search-llm',
      updatedAt: now,
    })
    .onConflict((conflict) => conflict.column('phrase').doNothing())
    .execute();
  return bySlugs(catalog, slugs);
}

/**
 * Resolves a location phrase in six tiers, stopping at the first that answers (spec §2):
 * exact name → alias (seeded and learned, possibly ambiguous) → substring → fuzzy (pg_trgm
 * similarity ≥ 0.4) → embedding similarity ≥ 0.82 (OpenAI only; skipped when the best fuzzy
 * score is under 0.25) → LLM (OpenAI only; answers kept as pending aliases).
 */
export async function resolveLocation(
  db: Kysely<DB>,
  catalog: SearchCatalog,
  rawPhrase: string,
  deps: LocationDeps,
): Promise<ResolvedLocation> {
  const phrase = normalizePhrase(rawPhrase).replace(/^the /, '');
  if (!phrase) return unresolved(rawPhrase);

  const exact = catalog.regions.filter((region) => region.normalizedName === phrase || region.slug.replace(/-/g, ' ') === phrase);
  if (exact.length > 0) return locationOf(catalog, rawPhrase, 'exact', exact);

  const alias = catalog.aliases.get(phrase) ?? catalog.aliases.get(`the ${phrase}`);
  if (alias) return locationOf(catalog, rawPhrase, 'alias', bySlugs(catalog, alias.regionSlugs));

  const inside = substringMatch(catalog, phrase);
  if (inside.length > 0) return locationOf(catalog, rawPhrase, 'substring', inside);

  const fuzzy = await fuzzyMatch(db, catalog, phrase);
  if (fuzzy.score >= FUZZY_MIN_SIMILARITY && fuzzy.regions.length > 0)
    return locationOf(catalog, rawPhrase, 'fuzzy', fuzzy.regions, fuzzy.score);

  if (deps.ai && fuzzy.score >= EMBEDDING_SKIP_BELOW_FUZZY) {
    const best = await embeddingMatch(deps.ai, deps, catalog, phrase).catch((error: unknown) => {
      deps.logger.warn({ err: { message: (error as Error).message } }, 'search: embedding tier unavailable');
      return undefined;
    });
    if (best && best.score >= EMBEDDING_MIN_SIMILARITY) {
      return locationOf(catalog, rawPhrase, 'embedding', bySlugs(catalog, [best.slug]), best.score);
    }
  }

  const llm = await llmMatch(db, deps, catalog, phrase).catch((error: unknown) => {
    deps.logger.warn({ err: { message: (error as Error).message } }, 'search: LLM location tier unavailable');
    return null;
  });
  if (llm && llm.length > 0) return locationOf(catalog, rawPhrase, 'llm', llm);
  return unresolved(rawPhrase);
}

/**
 * "near me": the signed-in user's default saved address (else their latest one). The lesson
 * must be coverable there, and distances are measured from the address itself.
 */
export async function resolveNearMe(db: Kysely<DB>, catalog: SearchCatalog, userId: string | null): Promise<ResolvedLocation> {
  if (!userId) return unresolved('near me', true);
  const address = await db
    .selectFrom('userAddresses')
    .where('userId', '=', userId)
    .select(['regionId', 'location'])
    .orderBy('isDefault', 'desc')
    .orderBy('createdAt', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!address) return unresolved('near me', true);
  let regionId = address.regionId;
  if (!regionId) {
    const containing = await sql<{ id: string }>`
      select id from regions where kind = 'neighborhood' and boundary @> point(${address.location.x}, ${address.location.y}) limit 1
    `.execute(db);
    regionId = containing.rows[0]?.id ?? null;
  }
  const region = regionId ? catalog.regionsById.get(regionId) : undefined;
  const base = region ? locationOf(catalog, 'near me', 'near_me', [region]) : unresolved('near me', true);
  return { ...base, nearMe: true, tier: 'near_me', referencePoints: [{ lat: address.location.y, lng: address.location.x }] };
}

/** A `region` filter given as a slug or id (structured filters override the parse). */
export function resolveRegionFilter(catalog: SearchCatalog, value: string): ResolvedLocation | null {
  const region = catalog.regionsBySlug.get(value) ?? catalog.regionsById.get(value);
  return region ? locationOf(catalog, region.name, 'filter', [region]) : null;
}
