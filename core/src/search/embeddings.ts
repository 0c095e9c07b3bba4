import { createHash } from 'node:crypto';
import type { Cache } from '../shared/cache.ts';
import type { SearchCatalog } from './catalog.ts';
import { normalizePhrase } from './normalize.ts';
import type { SearchAi } from './search-ai.ts';

/** Spec §5: embeddings are cached 24 hours. */
export const EMBEDDING_TTL_SECONDS = 24 * 3600;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** The vector of one phrase, cached 24 h under the model name (a model change is a new key). */
export async function embedPhrase(ai: SearchAi, cache: Cache, phrase: string): Promise<number[]> {
  const key = `search:emb:${ai.embeddingModel}:${digest(normalizePhrase(phrase))}`;
  const cached = await cache.get<number[]>(key);
  if (cached) return cached;
  const [vector] = await ai.embed([phrase]);
  if (!vector) throw new Error('no embedding returned');
  await cache.set(key, vector, EMBEDDING_TTL_SECONDS);
  return vector;
}

export interface LabelledVector {
  /** A region slug or a service id. */
  key: string;
  vector: number[];
}

const memo = new Map<string, LabelledVector[]>();

/**
 * Vectors for a list of catalog phrases, cached 24 h under the catalog fingerprint (a catalog
 * change is a new key) and kept in this process while the fingerprint stands.
 */
async function embedCatalogPhrases(
  ai: SearchAi,
  cache: Cache,
  name: string,
  catalog: SearchCatalog,
  entries: ReadonlyArray<{ key: string; text: string }>,
): Promise<LabelledVector[]> {
  const key = `search:emb-${name}:${ai.embeddingModel}:${catalog.fingerprint}`;
  const local = memo.get(key);
  if (local) return local;
  let vectors = await cache.get<LabelledVector[]>(key);
  if (!vectors) {
    const embedded = await ai.embed(entries.map((entry) => entry.text));
    vectors = entries.map((entry, index) => ({ key: entry.key, vector: embedded[index] ?? [] }));
    await cache.set(key, vectors, EMBEDDING_TTL_SECONDS);
  }
  for (const stale of memo.keys()) if (stale.startsWith(`search:emb-${name}:`)) memo.delete(stale);
  memo.set(key, vectors);
  return vectors;
}

/** One vector per region name and per approved alias phrase (keyed by region slug; an alias may repeat slugs). */
export function regionVectors(ai: SearchAi, cache: Cache, catalog: SearchCatalog): Promise<LabelledVector[]> {
  const entries = catalog.regions.map((region) => ({ key: region.slug, text: `${region.name}, ${region.borough}, New York City` }));
  for (const alias of catalog.aliases.values()) {
    if (alias.regionSlugs.length === 1) entries.push({ key: alias.regionSlugs[0] ?? '', text: `${alias.phrase}, New York City` });
  }
  return embedCatalogPhrases(ai, cache, 'regions', catalog, entries);
}

/** One vector per service: its name, category and synonyms. */
export function serviceVectors(ai: SearchAi, cache: Cache, catalog: SearchCatalog): Promise<LabelledVector[]> {
  return embedCatalogPhrases(
    ai,
    cache,
    'services',
    catalog,
    catalog.services.map((service) => ({
      key: service.id,
      text: `${service.name} lessons (${service.categoryName}): ${service.aliases.join(', ')}`,
    })),
  );
}
