import { Type, type Static } from '@sinclair/typebox';
import {
  RedisClusterOptionsSchema,
  RedisUrlSchema,
  SwitchyardError,
  redisEndpointProblems,
  schemaProblems,
  timerDelaySchema,
  type Logger,
  type RedisClusterOptions,
} from '@switchyard/proxy-core';
import type { MemoryBudget } from '../memory/memory-budget';
import type { RedisCacheClient } from './redis-tier';

/** Defaults of {@link ResponseCacheOptions}, in one place. */
export const RESPONSE_CACHE_DEFAULTS = {
  /** How long an answer stays cached. */
  ttlMs: 3_600_000,
  /** Largest single entry held in memory or written to Redis. */
  maxEntryBytes: 1024 * 1024,
  /** Whose answers may be shared: each client key's own. */
  scope: 'key',
  /** Requests with temperature > 0 and no seed are not cached. */
  cacheNonDeterministic: false,
  /** Redis key prefix. */
  redisKeyPrefix: 'switchyard:cache:',
  /** Bodies at least this long are gzipped in Redis. */
  compressAboveBytes: 8 * 1024,
  /** Deadline of one Redis command (ioredis `commandTimeout`). */
  redisCommandTimeoutMs: 250,
  /** Consecutive failed Redis commands (errors or timeouts) after which the Redis tier is skipped. */
  redisBreakerFailureThreshold: 5,
  /** How long the Redis tier is skipped before one command probes it again, in milliseconds. */
  redisBreakerResetTimeoutMs: 10_000,
} as const;

const RedisBreakerSchema = Type.Object(
  {
    failureThreshold: Type.Optional(Type.Integer({ minimum: 1 })),
    resetTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/**
 * A time to live in milliseconds: a whole number at most 2^53 - 1. A larger one (`1e22`) is
 * still an integer to JavaScript, but is written as `1e+22`, which Redis refuses as a `PX`
 * value: every write failed and opened the breaker.
 */
const TtlMsSchema = (minimum: number) => Type.Integer({ minimum, maximum: Number.MAX_SAFE_INTEGER });

/** The serialisable options, validated once. */
export const ResponseCacheConfigSchema = Type.Object(
  {
    memory: Type.Object({ maxBytes: Type.Integer({ minimum: 1024 }) }, { additionalProperties: false }),
    ttlMs: Type.Optional(TtlMsSchema(1)),
    models: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1 }),
        Type.Object({ ttlMs: TtlMsSchema(0) }, { additionalProperties: false }),
      ),
    ),
    maxEntryBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    scope: Type.Optional(Type.Union([Type.Literal('key'), Type.Literal('customer'), Type.Literal('shared')])),
    namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    cacheNonDeterministic: Type.Optional(Type.Boolean()),
    redis: Type.Optional(
      Type.Union([
        Type.Object(
          {
            url: RedisUrlSchema,
            keyPrefix: Type.Optional(Type.String()),
            commandTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
            breaker: Type.Optional(RedisBreakerSchema),
          },
          { additionalProperties: false },
        ),
        Type.Object(
          {
            cluster: RedisClusterOptionsSchema,
            keyPrefix: Type.Optional(Type.String()),
            commandTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
            breaker: Type.Optional(RedisBreakerSchema),
          },
          { additionalProperties: false },
        ),
        Type.Object(
          {
            client: Type.Object({}, { additionalProperties: true }),
            keyPrefix: Type.Optional(Type.String()),
            commandTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
            breaker: Type.Optional(RedisBreakerSchema),
          },
          { additionalProperties: false },
        ),
      ]),
    ),
    compressAboveBytes: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

type ResponseCacheConfig = Static<typeof ResponseCacheConfigSchema>;

/** Options of {@link createResponseCache}. */
export interface ResponseCacheOptions {
  /** The memory tier; its byte ceiling is required, so an unbounded cache cannot be configured. */
  memory: {
    /** Ceiling of the memory tier in bytes (estimated size of the serialised entries). */
    maxBytes: number;
  };
  /** How long an answer stays cached, in milliseconds. @default 3600000 */
  ttlMs?: number;
  /** Per-model settings keyed by the requested model; `ttlMs: 0` turns caching off for that model. @default {} */
  models?: Record<string, { ttlMs: number }>;
  /**
   * Largest single entry, in bytes, measured in both tiers as the memory tier charges it (its key
   * and serialised JSON at 2 bytes per UTF-16 unit, plus 96): larger answers are neither kept in
   * memory nor written to Redis, and a stream whose entry grows past it is not recorded. A
   * `memory.maxBytes` below it is the limit instead, in both tiers. @default 1048576
   */
  maxEntryBytes?: number;
  /**
   * Whose answers may be shared: `key` (each client key, `metadata.apiKeyId`), `customer`
   * (every key bound to the customer, `metadata.keyCustomerId`; a customer id the client sent,
   * `metadata.customerId`, within its own key only; else the key), or `shared` (every caller of
   * this namespace).
   * @default "key"
   */
  scope?: 'key' | 'customer' | 'shared';
  /**
   * Separates caches sharing one Redis or memory budget (e.g. per environment); it names the
   * cache's accounts in the budget too. @default "default"
   */
  namespace?: string;
  /** Cache requests with temperature > 0 and no seed. @default false */
  cacheNonDeterministic?: boolean;
  /**
   * The shared Redis tier, off by default: a URL or a Redis Cluster's startup nodes (ioredis is
   * then loaded, and the cache closes the connection), or an ioredis `Redis` or `Cluster` instance
   * (not closed by the cache).
   */
  redis?: (
    | { url: string; cluster?: undefined; client?: undefined }
    | { cluster: RedisClusterOptions; url?: undefined; client?: undefined }
    | { client: RedisCacheClient; url?: undefined; cluster?: undefined }
  ) & {
    /** @default "switchyard:cache:" */
    keyPrefix?: string;
    /**
     * Deadline of one Redis command in milliseconds, at most `MAX_TIMER_MS` (a timer is armed with
     * it): ioredis's `commandTimeout` of the client the cache opens, and the cache's own deadline on
     * each command sent through a client it is given (whose own settings may have none). @default 250
     */
    commandTimeoutMs?: number;
    /**
     * After `failureThreshold` consecutive failed or timed-out commands the tier is skipped
     * (reads miss, writes are dropped) for `resetTimeoutMs`; then one command probes Redis,
     * and its success puts the tier back in use. @default { failureThreshold: 5, resetTimeoutMs: 10000 }
     */
    breaker?: { failureThreshold?: number; resetTimeoutMs?: number };
  };
  /** Bodies at least this many bytes are gzipped in Redis. @default 8192 */
  compressAboveBytes?: number;
  /**
   * The process-wide memory budget the memory tier and the streams being recorded reserve from,
   * each in an account of its own: `response-cache` and `response-cache-recordings`, suffixed
   * `:<namespace>` outside the default namespace. Caches of distinct namespaces share a budget;
   * a second open cache of one namespace is refused (`duplicate_registration`) until the first
   * is closed, which closes its accounts.
   * @default a budget of its own: `memory.maxBytes`, and 4 entries at the limit for the recordings
   */
  budget?: MemoryBudget;
  /** The clock for TTLs and the Redis breaker, in epoch milliseconds. @default Date.now */
  now?: () => number;
  /** Where the cache logs (the Redis tier opening and closing its circuit). @default a silent logger */
  logger?: Logger;
}

/** Every problem of response cache options, each starting with `prefix` and its path (`cache/ttlMs: ...` with prefix `cache`). */
export function responseCacheOptionsProblems(options: ResponseCacheOptions, prefix = ''): string[] {
  const { budget: _budget, now: _now, logger: _logger, ...config } = options;
  const problems = schemaProblems(
    ResponseCacheConfigSchema,
    config satisfies Partial<ResponseCacheConfig>,
    prefix,
  );
  // the schema takes any non-empty address: whether ioredis can use it is the core's one check
  if (typeof config.redis === 'object')
    problems.push(...redisEndpointProblems(config.redis, `${prefix}/redis`, true));
  if (typeof config.redis === 'object' && 'client' in config.redis)
    problems.push(...redisClientProblems(config.redis.client, `${prefix}/redis/client`));
  return problems;
}

/**
 * A given client without the commands the cache sends: the schema takes any object, and such a
 * client failed every command once running (the tier's breaker open, the cache memory-only
 * while it kept trying to write), rather than at start.
 */
function redisClientProblems(client: unknown, path: string): string[] {
  if (typeof client !== 'object' || client === null) return [];
  const commands = client as Record<string, unknown>;
  const missing = ['getBuffer', 'set', 'quit'].filter((name) => typeof commands[name] !== 'function');
  for (const optional of ['multi', 'del'])
    if (commands[optional] !== undefined && typeof commands[optional] !== 'function') missing.push(optional);
  if (missing.length === 0) return [];
  return [
    `${path}: ${missing.join(', ')} ${missing.length === 1 ? 'is not a function' : 'are not functions'}: give an ioredis Redis or Cluster instance`,
  ];
}

/** Checks options once and reports every problem in one `invalid_options` error. */
export function validateResponseCacheOptions(options: ResponseCacheOptions): void {
  const problems = responseCacheOptionsProblems(options);
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid response cache options:\n${problems.join('\n')}`);
}
