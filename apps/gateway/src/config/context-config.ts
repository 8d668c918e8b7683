import type { AppOptions } from '@switchyard/proxy-api';
import { redisEndpointOf, timerDelaySchema, type RedisClusterOptions } from '@switchyard/proxy-core';
import { Type, type Static } from '@sinclair/typebox';
import { namesRedisAddress } from './redis-address';

const Strategy = Type.Union([
  Type.Literal('middle-out'),
  Type.Literal('drop-oldest'),
  Type.Literal('truncate-long'),
  Type.Literal('summarize'),
]);

/** The `cache` section: the response cache, on by default (memory tier; Redis tier when `redis` is set). */
export const CacheConfigSchema = Type.Object(
  {
    /** @default true */
    enabled: Type.Optional(Type.Boolean()),
    /** Ceiling of the memory tier in bytes. @default 67108864 */
    maxBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    /** @default 3600000 */
    ttlMs: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Per model alias; `ttlMs: 0` turns caching off for it. */
    models: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Object({ ttlMs: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
      ),
    ),
    /** @default "key" */
    scope: Type.Optional(Type.Union([Type.Literal('key'), Type.Literal('customer'), Type.Literal('shared')])),
    namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** @default false */
    cacheNonDeterministic: Type.Optional(Type.Boolean()),
    /** @default 1048576 */
    maxEntryBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    /** @default 8192 */
    compressAboveBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Use the `redis` section as a shared tier. @default true when `redis` is set */
    redis: Type.Optional(Type.Boolean()),
    /**
     * Longest wait on one command of the Redis tier, in milliseconds; a command past it is a miss
     * (read) or a dropped write and counts as a failure for `redisBreaker`. Apart from
     * `redis.commandTimeoutMs` (limits, budgets): a cache lookup sits on every request's path.
     * @default 250
     */
    redisCommandTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    /** The Redis tier's breaker: skip Redis (serve from memory) after `failureThreshold` failed commands in a row, for `resetTimeoutMs`. @default { failureThreshold: 5, resetTimeoutMs: 10000 } */
    redisBreaker: Type.Optional(
      Type.Object(
        {
          failureThreshold: Type.Optional(Type.Integer({ minimum: 1 })),
          resetTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/**
 * `cache` settings that would be ignored: `redis: true`, `compressAboveBytes` (only the Redis
 * tier gzips), `redisCommandTimeoutMs` and `redisBreaker` are for the Redis tier, which exists
 * only when the top-level `redis` section has an address (in the file, or from REDIS_URL /
 * REDIS_CLUSTER_NODES, `redisInEnv`, which fill it at start); `limiter.redis` is the upstream
 * limiter's own. A warning, not a refusal: one file may serve an environment with a Redis and
 * one without. With the cache or its Redis tier turned off (`enabled: false`, `redis: false`)
 * the switch is the reason they do not apply, and `switchedOffWarnings` gives it (or, for a
 * switch the environment turns, says nothing).
 */
export function cacheWarnings(value: unknown, redisInEnv: boolean): string[] {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const cache = record['cache'];
  if (typeof cache !== 'object' || cache === null) return [];
  const fields = cache as Record<string, unknown>;
  if (fields['enabled'] === false || fields['redis'] === false) return [];
  if (namesRedisAddress(record['redis']) || redisInEnv) return [];
  const limiter = record['limiter'];
  const limiterRedis =
    typeof limiter === 'object' &&
    limiter !== null &&
    (limiter as Record<string, unknown>)['redis'] !== undefined;
  const none = limiterRedis
    ? 'the cache uses the top-level redis section (redis.url, redis.cluster, REDIS_URL or REDIS_CLUSTER_NODES), not limiter.redis, and it has no address'
    : 'no Redis is configured (redis.url, redis.cluster, REDIS_URL or REDIS_CLUSTER_NODES)';
  return (['redis', 'compressAboveBytes', 'redisCommandTimeoutMs', 'redisBreaker'] as const)
    .filter((name) => fields[name] !== undefined)
    .map(
      (name) =>
        `/cache/${name}: ${name === 'redis' ? 'asks for a Redis tier' : "is for the cache's Redis tier"}, and ${none}`,
    );
}

/** The `condenser` section: fits long conversations into the model's window (on by default). */
export const CondenserConfigSchema = Type.Object(
  {
    /** @default true */
    enabled: Type.Optional(Type.Boolean()),
    /** Condense overflowing requests without being asked. @default true */
    auto: Type.Optional(Type.Boolean()),
    /** @default "middle-out" */
    strategy: Type.Optional(Strategy),
    /** @default 1024 */
    outputReserveTokens: Type.Optional(Type.Integer({ minimum: 0 })),
    models: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Object(
          { strategy: Type.Optional(Strategy), maxInputTokens: Type.Optional(Type.Integer({ minimum: 1 })) },
          { additionalProperties: false },
        ),
      ),
    ),
    /** The model alias `summarize` asks. */
    summary: Type.Optional(
      Type.Object(
        { model: Type.String({ minLength: 1 }), maxTokens: Type.Optional(Type.Integer({ minimum: 16 })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The `catalog` section: model facts overriding or adding to the shipped data, keyed by model id or alias. */
export const CatalogConfigSchema = Type.Object(
  {
    models: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Object(
          {
            provider: Type.Optional(Type.String({ minLength: 1 })),
            contextWindow: Type.Optional(Type.Integer({ minimum: 1 })),
            maxOutputTokens: Type.Optional(Type.Integer({ minimum: 1 })),
            inputModalities: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
            outputModalities: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
            supportsTools: Type.Optional(Type.Boolean()),
            pricing: Type.Optional(
              Type.Object(
                {
                  inputPerMTokUsd: Type.Number({ minimum: 0 }),
                  outputPerMTokUsd: Type.Number({ minimum: 0 }),
                  cachedInputPerMTokUsd: Type.Optional(Type.Number({ minimum: 0 })),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

/** The `memory` section: one budget for the caches and queues of the process. */
export const MemoryConfigSchema = Type.Object(
  {
    /** @default 268435456 */
    budgetBytes: Type.Integer({ minimum: 1024 * 1024, maximum: Number.MAX_SAFE_INTEGER }),
  },
  { additionalProperties: false },
);

/** Gateway defaults of the context sections. */
export const CONTEXT_CONFIG_DEFAULTS = {
  /** Memory tier of the cache. */
  cacheMaxBytes: 64 * 1024 * 1024,
} as const;

/** The config sections this module reads. */
export interface ContextConfigSections {
  cache?: Static<typeof CacheConfigSchema>;
  condenser?: Static<typeof CondenserConfigSchema>;
  catalog?: Static<typeof CatalogConfigSchema>;
  memory?: Static<typeof MemoryConfigSchema>;
  redis?: { url?: string; cluster?: RedisClusterOptions; keyPrefix?: string };
}

/** The app's `context` options from the config file: cache and condenser on unless disabled. */
export function contextOptionsFromConfig(config: ContextConfigSections): AppOptions['context'] {
  const {
    enabled: cacheEnabled,
    maxBytes,
    redis: useRedis,
    redisBreaker,
    redisCommandTimeoutMs,
    ...cache
  } = config.cache ?? {};
  const { enabled: condenserEnabled, ...condenser } = config.condenser ?? {};
  const redis =
    config.redis !== undefined && useRedis !== false
      ? {
          ...redisEndpointOf(config.redis),
          keyPrefix: `${config.redis.keyPrefix ?? 'switchyard:'}cache:`,
          ...(redisCommandTimeoutMs === undefined ? {} : { commandTimeoutMs: redisCommandTimeoutMs }),
          ...(redisBreaker === undefined ? {} : { breaker: redisBreaker }),
        }
      : undefined;
  return {
    ...(config.memory === undefined ? {} : { memoryBudget: config.memory.budgetBytes }),
    catalog: { models: config.catalog?.models ?? {} },
    ...(cacheEnabled === false
      ? {}
      : {
          cache: {
            ...cache,
            memory: { maxBytes: maxBytes ?? CONTEXT_CONFIG_DEFAULTS.cacheMaxBytes },
            ...(redis === undefined ? {} : { redis }),
          },
        }),
    ...(condenserEnabled === false ? {} : { condenser }),
  };
}
