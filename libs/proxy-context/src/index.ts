// The public surface of @switchyard/proxy-context, listed by hand.

// everything at once
export { CONTEXT_DEFAULTS, contextPluginsOptionsProblems, createContextPlugins } from './context-plugins';
export type { ContextPlugins, ContextPluginsOptions } from './context-plugins';

// memory bounds
export { MemoryBudget } from './memory/memory-budget';
export type { MemoryAccount, MemoryAccountStats, MemoryBudgetStats } from './memory/memory-budget';

// response cache
export { ResponseCache, createResponseCache } from './cache/response-cache';
export type { CacheEvictionPublisher, ResponseCacheStats } from './cache/response-cache';
export { RESPONSE_CACHE_DEFAULTS, ResponseCacheConfigSchema } from './cache/response-cache-options';
export type { ResponseCacheOptions } from './cache/response-cache-options';
export type { RedisCacheClient, RedisCacheTransaction } from './cache/redis-tier';
export { cacheKey, canonicalJson } from './cache/cache-key';
export type { MemoryTierStats } from './cache/memory-tier';

// model catalog
export { BUILTIN_MODELS, MODEL_CATALOG_SOURCE } from './catalog/catalog-data';
export { ModelOverrideSchema, createModelCatalog } from './catalog/model-catalog';
export type { ModelCatalogOptions } from './catalog/model-catalog';

// context condenser
export { Condenser, SUMMARY_PURPOSE, createCondenser } from './condenser/condenser';
export type { ChatFunction, CondenserCache, CondenserStats } from './condenser/condenser';
export { CONDENSER_DEFAULTS, CondenserConfigSchema } from './condenser/condenser-options';
export type { CondenserOptions } from './condenser/condenser-options';
export { CONDENSE_STRATEGIES, isCondenseStrategy } from './condenser/condense-strategies';
export type { CondenseStrategy } from './condenser/condense-strategies';
export {
  TOKEN_ESTIMATES,
  countMessage,
  countRequest,
  tokenCounterFor,
  tokenizerFamily,
} from './condenser/token-counter';
export type { TokenEstimate } from './condenser/token-counter';
export type { CountOptions, TokenCounter, TokenizerFamily } from './condenser/token-counter';
