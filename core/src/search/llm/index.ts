export {
  createQueryParser,
  DEFAULT_LLM_MAX_CONCURRENT,
  DEFAULT_LLM_MODEL,
  DEFAULT_LLM_TIME_BUDGET_MS,
  LLM_CACHE_TTL_SECONDS,
  type LlmOutcome,
  type QueryParser,
  type QueryParserOptions,
} from './create-query-parser.ts';
export { createLruCache, type LruCacheOptions, type QueryCache } from './query-cache.ts';
export { createSemaphore, type Semaphore } from './semaphore.ts';
export { LlmQueryOutput } from './llm-output.ts';
export { mergeLlmOutput, LLM_CONFIDENCE } from './merge-llm-output.ts';
