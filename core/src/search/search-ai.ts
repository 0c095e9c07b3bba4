import type OpenAI from 'openai';
import { z } from 'zod';

/**
 * The two things search asks OpenAI for beyond parsing: embeddings (tier 5 of location
 * resolution, service matching for long phrases) and, as the last location tier, which regions
 * a phrase means. Only built when OpenAI is configured; every call has a time budget and a
 * concurrency limit, and a failure is an ordinary "no answer" for the caller.
 */
export interface SearchAi {
  readonly embeddingModel: string;
  /** One vector per text, same order. */
  embed(texts: readonly string[]): Promise<number[][]>;
  /** Slugs of the regions the phrase means, chosen from `regions`; empty when it names none. */
  pickRegions(phrase: string, regions: ReadonlyArray<{ slug: string; name: string; borough: string }>): Promise<string[]>;
}

export interface SearchAiOptions {
  embeddingModel?: string;
  chatModel?: string;
  /** Per call (spec: the fallback runs under a per-request time budget). */
  timeoutMs?: number;
  /** Calls in flight at once; more are refused at once rather than queued. */
  maxConcurrent?: number;
}

export const EMBEDDING_DIMENSIONS = 256;

const RegionChoice = z.object({ regionSlugs: z.array(z.string().max(100)).max(20) }).strict();

/** Refuses instead of waiting: a search must not queue behind slow model calls. */
function limiter(max: number) {
  let active = 0;
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active >= max) throw new Error('search AI is busy');
    active += 1;
    try {
      return await work();
    } finally {
      active -= 1;
    }
  };
}

export function createSearchAi(client: OpenAI, options: SearchAiOptions = {}): SearchAi {
  const embeddingModel = options.embeddingModel ?? 'text-embedding-3-small';
  const chatModel = options.chatModel ?? 'gpt-4o-mini';
  const timeoutMs = options.timeoutMs ?? 2_000;
  const run = limiter(options.maxConcurrent ?? 4);
  const requestOptions = () => ({ timeout: timeoutMs, maxRetries: 0, signal: AbortSignal.timeout(timeoutMs) });

  return {
    embeddingModel,
    embed: (texts) =>
      run(async () => {
        if (texts.length === 0) return [];
        const response = await client.embeddings.create(
          { model: embeddingModel, input: [...texts], dimensions: EMBEDDING_DIMENSIONS, encoding_format: 'float' },
          requestOptions(),
        );
        const vectors: number[][] = Array.from({ length: texts.length }, () => []);
        for (const item of response.data) {
          if (item.index >= 0 && item.index < texts.length) vectors[item.index] = item.embedding;
        }
        if (vectors.some((vector) => vector.length === 0)) throw new Error('embedding response is missing vectors');
        return vectors;
      }),

    pickRegions: (phrase, regions) =>
      run(async () => {
        const allowed = new Set(regions.map((region) => region.slug));
        const listing = regions.map((region) => `${region.slug}: ${region.name} (${region.borough})`).join('\n');
        const completion = await client.chat.completions.create(
          {
            model: chatModel,
            temperature: 0,
            messages: [
              {
                role: 'system',
                content:
                  'You map a place phrase a New York City student typed to the regions below. Answer with the slugs ' +
                  'of every region the phrase clearly means (several if it spans them), or an empty list if it names ' +
                  'none of them or is not a place. Never invent slugs.\n\nRegions:\n' +
                  listing,
              },
              { role: 'user', content: phrase },
            ],
            response_format: {
              type: 'json_schema',
              json_schema: {
                name: 'region_choice',
                strict: true,
                schema: {
                  type: 'object',
                  properties: { regionSlugs: { type: 'array', items: { type: 'string' } } },
                  required: ['regionSlugs'],
                  additionalProperties: false,
                },
              },
            },
          },
          requestOptions(),
        );
        const content = completion.choices[0]?.message.content;
        if (!content) return [];
        const parsed = RegionChoice.safeParse(JSON.parse(content));
        if (!parsed.success) throw new Error('the model answered outside the region schema');
        return [...new Set(parsed.data.regionSlugs.filter((slug) => allowed.has(slug)))];
      }),
  };
}

export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const x = a[index] ?? 0;
    const y = b[index] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
