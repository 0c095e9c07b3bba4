export type {
  Audience,
  LessonTypeFilter,
  LocationPhrase,
  ParsedQuery,
  ParseSource,
  SearchVocabulary,
  SkillLevel,
  TimeWindow,
} from './parsed-query.ts';
export {
  createSearchService,
  DEGRADED_TTL_SECONDS,
  LOOKAHEAD_DAYS,
  MAX_QUERY_LENGTH,
  MIN_RESULTS,
  type QueryParser,
  type QueryParserFactory,
  type SearchFilters,
  type SearchRequest,
  type SearchService,
  type SearchServiceDeps,
} from './search.ts';
export {
  pageOfResults,
  RELAXABLE,
  SEARCH_SORTS,
  type Notice,
  type ParseSummary,
  type Relaxable,
  type RelaxedConstraint,
  type SearchItem,
  type SearchOutcome,
  type SearchPage,
  type SearchSort,
} from './search-result.ts';
export { type CatalogProvider, createCatalogProvider, loadSearchCatalog, type SearchCatalog } from './catalog.ts';
export { resolveLocation, resolveNearMe, type LocationTier, type ResolvedLocation } from './resolve-location.ts';
export { matchServices, type ServiceMatch, type ServiceResolution } from './match-services.ts';
export * from './rank.ts';
export { createSearchAi, type SearchAi, type SearchAiOptions } from './search-ai.ts';
export {
  createSearchEventRecorder,
  recordSearchClick,
  type ClickInput,
  type SearchEvent,
  type SearchEventRecorder,
} from './search-events.ts';
export { ATTRIBUTION_WINDOW_HOURS } from './attribution.ts';
export {
  findSearchGaps,
  findTopQueries,
  findUnresolvedPhrases,
  getSearchOverview,
  rollupSearchAnalytics,
  ROLLUP_LOOKBACK_HOURS,
  type QueryStats,
  type SearchGap,
  type SearchOverview,
  type SuggestedFix,
  type UnresolvedPhrase,
} from './analytics.ts';
export { ALIAS_SOURCES, ALIAS_STATUSES, createRegionAlias, findRegionAliases, reviewRegionAlias, type RegionAlias } from './aliases.ts';
export { learnRegionAliases, LEARNING_RULES, type LearnedAlias, type LearningOutcome } from './alias-learning.ts';
