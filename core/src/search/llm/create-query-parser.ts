import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { PLATFORM_ZONE } from '../../availability/local-time.ts';
import type { ParsedQuery, SearchVocabulary } from '../parsed-query.ts';
import { needsLlm, parseQuery } from '../parse/parse-query.ts';
import { LlmQueryOutput } from './llm-output.ts';
import { mergeLlmOutput } from './merge-llm-output.ts';
import { buildMessages } from './prompt.ts';
import { createLruCache, type QueryCache } from './query-cache.ts';
import { createSemaphore } from './semaphore.ts';

/** Spec §5: a parsed query is cached for an hour. */
export const LLM_CACHE_TTL_SECONDS = 3600;
export const DEFAULT_LLM_TIME_BUDGET_MS = 1500;
export const DEFAULT_LLM_MAX_CONCURRENT = 4;
export const DEFAULT_LLM_MODEL = 'gpt-4o-mini';

/** What happened to one query on the way through (for metrics and logs). */
export type LlmOutcome =
  | 'not_needed' // the fast path was sure
  | 'unavailable' // no API key configured
  | 'busy' // every LLM slot was taken: skipped, not queued
  | 'cache_hit'
  | 'answered'
  | 'failed'; // HTTP error, timeout, refusal or output that failed validation

export interface QueryParserOptions {
  vocabulary: SearchVocabulary;
  /** Without it (or with an empty key) the fast path answers alone: source 'regex_llm_unavailable'. */
  openai?: { apiKey: string; baseURL?: string; model?: string };
  /** Defaults to an in-process LRU; pass a Redis-backed one to share answers between processes. */
  cache?: QueryCache;
  /** Changes when the catalog or regions change, so cached answers expire with them. Defaults to a hash of the vocabulary. */
  vocabularyVersion?: string;
  /** LLM calls in flight at once; requests beyond it skip the LLM. */
  maxConcurrent?: number;
  /** Whole budget of one LLM call (cache lookups included), in milliseconds. */
  timeBudgetMs?: number;
  timeZone?: string;
  onOutcome?: (outcome: LlmOutcome, detail: { query: string; durationMs: number; error?: unknown }) => void;
}

export interface QueryParser {
  parse(text: string, options: { now: Date }): Promise<ParsedQuery>;
}

function vocabularyHash(vocabulary: SearchVocabulary): string {
  return createHash('sha256').update(JSON.stringify(vocabulary)).digest('hex').slice(0, 16);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function withinBudget<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason;
  return await new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Builds the search query parser: the deterministic fast path (parseQuery) first, then — only
 * when it is unsure (needsLlm) — OpenAI structured output validated with zod, merged
 * conservatively. The LLM is guarded by a semaphore (busy → skipped, never queued), a time
 * budget (AbortSignal) and a cache keyed by vocabulary version, local day and normalized query.
 * Whatever goes wrong, the fast-path result stands and `source` says why.
 */
export function createQueryParser(options: QueryParserOptions): QueryParser {
  const { vocabulary } = options;
  const timeZone = options.timeZone ?? PLATFORM_ZONE;
  const timeBudgetMs = options.timeBudgetMs ?? DEFAULT_LLM_TIME_BUDGET_MS;
  const semaphore = createSemaphore(options.maxConcurrent ?? DEFAULT_LLM_MAX_CONCURRENT);
  const cache = options.cache ?? createLruCache();
  const version = options.vocabularyVersion ?? vocabularyHash(vocabulary);
  const model = options.openai?.model ?? DEFAULT_LLM_MODEL;
  const client = options.openai?.apiKey
    ? new OpenAI({
        apiKey: options.openai.apiKey,
        ...(options.openai.baseURL ? { baseURL: options.openai.baseURL } : {}),
        // A retry cannot fit in the budget; the fast path is the fallback.
        maxRetries: 0,
        timeout: timeBudgetMs,
      })
    : null;
  const responseFormat = zodResponseFormat(LlmQueryOutput, 'search_filters');

  const report = (outcome: LlmOutcome, query: string, startedAt: number, error?: unknown): void => {
    options.onOutcome?.(outcome, { query, durationMs: performance.now() - startedAt, ...(error === undefined ? {} : { error }) });
  };

  async function askModel(text: string, fast: ParsedQuery, today: DateTime, signal: AbortSignal): Promise<LlmQueryOutput> {
    if (!client) throw new Error('no OpenAI client');
    const completion = await client.chat.completions.create(
      {
        model,
        messages: buildMessages(text, fast, { vocabulary, today: today.toISODate() ?? '', weekday: today.weekdayLong ?? '', timeZone }),
        response_format: responseFormat,
        temperature: 0,
      },
      { signal, timeout: timeBudgetMs, maxRetries: 0 },
    );
    const message = completion.choices[0]?.message;
    if (!message || message.refusal || !message.content)
      throw new Error(`the model gave no answer${message?.refusal ? `: ${message.refusal}` : ''}`);
    return LlmQueryOutput.parse(JSON.parse(message.content));
  }

  return {
    async parse(text, { now }) {
      const startedAt = performance.now();
      const fast = parseQuery(text, { vocabulary, now, timeZone });
      if (!needsLlm(fast)) {
        report('not_needed', text, startedAt);
        return fast;
      }
      if (!client) {
        report('unavailable', text, startedAt);
        return { ...fast, source: 'regex_llm_unavailable' };
      }
      const today = DateTime.fromJSDate(now, { zone: timeZone }).startOf('day');
      const context = { vocabulary, today: today.toISODate() ?? '' };
      const cacheKey = `search:llm:v1:${version}:${model}:${context.today}:${fast.normalized}`;

      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error(`LLM time budget of ${timeBudgetMs} ms exceeded`)), timeBudgetMs);
      let release: (() => void) | null = null;
      try {
        const cached = await withinBudget(Promise.resolve(cache.get(cacheKey)), controller.signal).catch(() => null);
        if (cached) {
          const output = LlmQueryOutput.safeParse(parseJson(cached));
          if (output.success) {
            report('cache_hit', text, startedAt);
            return mergeLlmOutput(fast, output.data, context);
          }
        }
        release = semaphore.tryAcquire();
        if (!release) {
          report('busy', text, startedAt);
          return { ...fast, source: 'regex_llm_unavailable' };
        }
        const output = await askModel(text, fast, today, controller.signal);
        await withinBudget(Promise.resolve(cache.set(cacheKey, JSON.stringify(output), LLM_CACHE_TTL_SECONDS)), controller.signal).catch(
          () => undefined,
        );
        report('answered', text, startedAt);
        return mergeLlmOutput(fast, output, context);
      } catch (error) {
        report('failed', text, startedAt, error);
        return { ...fast, source: 'regex_llm_failed' };
      } finally {
        clearTimeout(timer);
        release?.();
      }
    },
  };
}
