// The public surface of @switchyard/proxy-context, listed by hand.

// memory bounds
export { MemoryBudget } from './memory/memory-budget';
export type { MemoryAccount, MemoryAccountStats, MemoryBudgetStats } from './memory/memory-budget';

// response cache
export { ResponseCache, createResponseCache } from './cache/response-cache';
export type { ResponseCacheStats } from './cache/response-cache';
export { RESPONSE_CACHE_DEFAULTS, ResponseCacheConfigSchema } from './cache/response-cache-options';
export type { ResponseCacheOptions } from './cache/response-cache-options';
export type { RedisCacheClient } from './cache/redis-tier';
export { cacheKey, canonicalJson } from './cache/cache-key';
export type { MemoryTierStats } from './cache/memory-tier';
