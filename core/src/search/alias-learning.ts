import { type DB, newId } from '@instainstru/db';
import { sql, type Transaction } from 'kysely';
import { normalizePhrase } from './normalize.ts';

/** Spec §5: ≥ 3 clicks, ≥ 70% to one region, over ≥ 5 searches; auto-approved at ≥ 90%. */
export const LEARNING_RULES = {
  minSearches: 5,
  minClicks: 3,
  minShare: 0.7,
  autoApproveShare: 0.9,
  /** Only the recent past teaches: what people meant last year may not be what they mean now. */
  lookbackDays: 30,
  /** More regions tied at the top share than this is too vague to be an alias. */
  maxRegions: 3,
} as const;

export type LearnedAlias = {
  phrase: string;
  regionSlugs: string[];
  searches: number;
  clicks: number;
  share: number;
  status: 'approved' | 'pending';
};

export interface LearningOutcome {
  learned: LearnedAlias[];
  /** Phrases with enough evidence whose clicks did not agree on a region. */
  inconclusive: Array<{ phrase: string; searches: number; clicks: number; share: number }>;
  /** Pending learned aliases whose evidence was refreshed. */
  refreshed: string[];
}

/**
 * search.alias-learning: location phrases that no exact name or alias resolved (unresolved, or
 * only by substring, fuzzy, embedding or LLM matching) are grouped; for each clicked result, the
 * regions the clicked instructor serves (service-area neighborhoods and their studio's) each get
 * the click. The region(s) with the highest share become the alias when the rules hold. Existing
 * phrases are never overwritten: rejected ones stay rejected, approved ones stay as they are.
 */
export async function learnRegionAliases(trx: Transaction<DB>, now: Date): Promise<LearningOutcome> {
  const since = new Date(now.getTime() - LEARNING_RULES.lookbackDays * 86_400_000);
  const { rows: events } = await sql<{ phrase: string; searches: number }>`
    select location_phrase as phrase, count(*) filter (where first_page)::int as searches
    from search_events
    where created_at >= ${since} and created_at <= ${now}
      and location_phrase is not null and location_phrase <> 'near me'
      and (location_tier is null or location_tier in ('substring', 'fuzzy', 'embedding', 'llm'))
    group by location_phrase
  `.execute(trx);
  const searchesByPhrase = new Map<string, number>();
  for (const row of events) {
    const phrase = normalizePhrase(row.phrase);
    if (phrase) searchesByPhrase.set(phrase, (searchesByPhrase.get(phrase) ?? 0) + row.searches);
  }
  const eligible = [...searchesByPhrase.entries()].filter(([, searches]) => searches >= LEARNING_RULES.minSearches);
  const outcome: LearningOutcome = { learned: [], inconclusive: [], refreshed: [] };
  if (eligible.length === 0) return outcome;

  const { rows: clicks } = await sql<{ phrase: string; clickId: string; instructorId: string; regionSlugs: string[] }>`
    select e.location_phrase as phrase, c.id as click_id, c.instructor_id,
      array(
        select r.slug from regions r
        where r.kind = 'neighborhood' and (
          r.id in (select a.region_id from instructor_service_areas a where a.instructor_id = c.instructor_id)
          or exists (select 1 from instructor_profiles p where p.user_id = c.instructor_id and p.studio_location is not null and r.boundary @> p.studio_location)
        )
      ) as region_slugs
    from search_clicks c
    join search_events e on e.id = c.search_id
    where e.created_at >= ${since} and e.created_at <= ${now}
      and e.location_phrase is not null
      and (e.location_tier is null or e.location_tier in ('substring', 'fuzzy', 'embedding', 'llm'))
  `.execute(trx);
  const clicksByPhrase = new Map<string, Array<{ regionSlugs: string[] }>>();
  for (const click of clicks) {
    const phrase = normalizePhrase(click.phrase);
    const list = clicksByPhrase.get(phrase) ?? [];
    list.push({ regionSlugs: click.regionSlugs });
    clicksByPhrase.set(phrase, list);
  }

  const existing = new Map(
    (
      await trx
        .selectFrom('regionAliases')
        .where(
          'phrase',
          'in',
          eligible.map(([phrase]) => phrase),
        )
        .select(['id', 'phrase', 'status', 'source'])
        .execute()
    ).map((row) => [row.phrase, row]),
  );

  for (const [phrase, searches] of eligible) {
    const phraseClicks = clicksByPhrase.get(phrase) ?? [];
    if (phraseClicks.length < LEARNING_RULES.minClicks) continue;
    const perRegion = new Map<string, number>();
    for (const click of phraseClicks) for (const slug of new Set(click.regionSlugs)) perRegion.set(slug, (perRegion.get(slug) ?? 0) + 1);
    const top = Math.max(0, ...perRegion.values());
    const share = Math.round((top / phraseClicks.length) * 1000) / 1000;
    const regionSlugs = [...perRegion.entries()]
      .filter(([, count]) => count === top)
      .map(([slug]) => slug)
      .sort();
    if (share < LEARNING_RULES.minShare || regionSlugs.length === 0 || regionSlugs.length > LEARNING_RULES.maxRegions) {
      outcome.inconclusive.push({ phrase, searches, clicks: phraseClicks.length, share });
      continue;
    }
    const status = share >= LEARNING_RULES.autoApproveShare ? 'approved' : 'pending';
    const known = existing.get(phrase);
    if (known) {
      if (known.status === 'pending' && known.source === 'learned') {
        await trx
          .updateTable('regionAliases')
          .set({
            searchCount: searches,
            clickCount: phraseClicks.length,
            clickShare: share.toFixed(3),
            regionSlugs,
            status,
            updatedAt: now,
          })
          .where('id', '=', known.id)
          .execute();
        outcome.refreshed.push(phrase);
      }
      continue;
    }
    await trx
      .insertInto('regionAliases')
      .values({
        id: newId(),
        phrase,
        regionSlugs,
        source: 'learned',
        status,
        searchCount: searches,
        clickCount: phraseClicks.length,
        clickShare: share.toFixed(3),
        createdAt: now,
        createdBy: 'search.alias-learning',
        reviewedAt: status === 'approved' ? now : null,
        reviewedBy: status === 'approved' ? 'search.alias-learning' : null,
        updatedAt: now,
      })
      .execute();
    outcome.learned.push({ phrase, regionSlugs, searches, clicks: phraseClicks.length, share, status });
  }
  return outcome;
}
