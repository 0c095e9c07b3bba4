export { parseQuery, needsLlm, MAX_LEFTOVER_WORDS, type ParseOptions, type LlmReason } from './parse-query.ts';
export { DEFAULT_PRICE_THRESHOLDS, priceThresholdFor, type PriceThreshold } from './price-thresholds.ts';
export { trigramSimilarity, trigrams, editDistance } from './similarity.ts';
export { normalizeText } from './normalize.ts';
