import { Type, type Static } from '@sinclair/typebox';
import { timerDelaySchema } from '../options/max-timer';
import { RedisClusterOptionsSchema, RedisUrlSchema } from '../redis/redis-client';

/** Defaults of the retry, breaker and limiter options, in one place. */
export const RESILIENCE_DEFAULTS = {
  retry: {
    /** Retry rounds after the first pass over a route's targets and fallbacks. */
    maxRetries: 2,
    /** Base of the exponential backoff, in milliseconds. */
    baseDelayMs: 500,
    /** Cap of one backoff delay, in milliseconds (an upstream's `Retry-After` may ask for longer). */
    maxDelayMs: 8_000,
    /** Retries in progress may be at most this percentage of live requests (Envoy's retry budget). */
    budgetPercent: 20,
    /** Retries always allowed in progress at once, whatever the live request count. */
    minRetryConcurrency: 3,
  },
  breaker: {
    /** Whether each target gets a circuit breaker. */
    enabled: true,
    /** Failure percentage over the rolling window that opens the circuit. */
    errorThresholdPercentage: 50,
    /** Requests the rolling window must hold before the circuit may open. */
    volumeThreshold: 10,
    /** Length of the rolling window, in milliseconds. */
    rollingWindowMs: 10_000,
    /** Buckets of the rolling window. */
    rollingBuckets: 10,
    /** How long the circuit stays open before a single probe is let through, in milliseconds. */
    resetTimeoutMs: 30_000,
  },
  limiter: {
    /** Requests that may wait for a target's limiter at once; more are rejected. */
    maxQueue: 1_000,
    /** Longest a request waits for a target's limiter, in milliseconds. */
    maxWaitMs: 10_000,
  },
  redis: {
    /** Prefix of every limiter key in Redis. */
    keyPrefix: 'switchyard:limiter:',
    /** Time after which an unanswered Redis command counts as an outage, in milliseconds. */
    commandTimeoutMs: 500,
  },
  /** Longest silence between two chunks of a stream once content has started, in milliseconds. */
  streamIdleTimeoutMs: 30_000,
} as const;

/** Retries: exponential backoff with full jitter, bounded by a global budget. */
export const RetryOptionsSchema = Type.Object(
  {
    /** Retry rounds after the first pass. `0` disables retries (failover still happens). @default 2 */
    maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    /**
     * Backoff base in milliseconds: round n waits random(0, min(maxDelayMs, baseDelayMs * 2^n)).
     * At most `MAX_TIMER_MS`, like every delay a timer waits. @default 500
     */
    baseDelayMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
    /** Backoff cap in milliseconds, at most `MAX_TIMER_MS`. @default 8000 */
    maxDelayMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
    /**
     * Retries in progress (retry passes calling a target; not one waiting out its backoff, nor
     * one that calls no one) at most this percentage of live requests. @default 20
     */
    budgetPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** Retries always allowed at once. @default 3 */
    minRetryConcurrency: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** Circuit breakers, one per target (provider + upstream model). */
export const BreakerOptionsSchema = Type.Object(
  {
    /** @default true */
    enabled: Type.Optional(Type.Boolean()),
    /** Failure percentage that opens the circuit. @default 50 */
    errorThresholdPercentage: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    /** Minimum requests in the rolling window before the circuit may open. @default 10 */
    volumeThreshold: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Rolling window in milliseconds. @default 10000 */
    rollingWindowMs: Type.Optional(timerDelaySchema({ minimum: 10 })),
    /** Buckets of the rolling window (must divide it evenly). @default 10 */
    rollingBuckets: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Open time before the half-open probe, in milliseconds. @default 30000 */
    resetTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** Where shared (clustered) limits live. */
export const LimiterRedisOptionsSchema = Type.Object(
  {
    /**
     * A Redis URL (`redis://host:port/db`), or any address ioredis 5 reads (`host:port`, a Unix socket
     * path); or set `cluster`. ioredis 5 is loaded only when one is set.
     */
    url: Type.Optional(RedisUrlSchema),
    /** A Redis Cluster instead of `url`: limiter keys then carry a hash tag per target. */
    cluster: Type.Optional(RedisClusterOptionsSchema),
    /** Prefix of every key, so several gateways (or tests) can share one Redis. @default "switchyard:limiter:" */
    keyPrefix: Type.Optional(Type.String({ minLength: 1 })),
    /** Unanswered command time that counts as an outage, in milliseconds. @default 500 */
    commandTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 10 })),
  },
  { additionalProperties: false },
);

/** Upstream limiters, one per target that has `limits`. */
export const LimiterOptionsSchema = Type.Object(
  {
    /**
     * Requests that may wait at once per target (in this instance), for a slot or for tokens;
     * one more that would wait is rejected with `limiter_rejected` at once. A request that can
     * run at once never counts: 0 lets none wait. @default 1000
     */
    maxQueue: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Longest wait for a target's limiter in milliseconds, then `limiter_rejected`; 0: never wait (as `maxQueue: 0`). @default 10000 */
    maxWaitMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
    /** Share limits between gateway instances through Redis. @default none: limits are per instance */
    redis: Type.Optional(LimiterRedisOptionsSchema),
  },
  { additionalProperties: false },
);

/** Per-target limits (set on a route target). */
export const TargetLimitsSchema = Type.Object(
  {
    /** Upstream calls in flight at once (a stream holds its slot until it ends). */
    maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Upstream calls per minute. */
    requestsPerMinute: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Estimated tokens per minute (prompt estimate + requested max output). */
    tokensPerMinute: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** Retry options (see {@link RetryOptionsSchema}). */
export type RetryOptions = Static<typeof RetryOptionsSchema>;
/** Breaker options (see {@link BreakerOptionsSchema}). */
export type BreakerOptions = Static<typeof BreakerOptionsSchema>;
/** Limiter options (see {@link LimiterOptionsSchema}). */
export type LimiterOptions = Static<typeof LimiterOptionsSchema>;
/** Redis options of the limiter (see {@link LimiterRedisOptionsSchema}). */
export type LimiterRedisOptions = Static<typeof LimiterRedisOptionsSchema>;
/** Per-target limits (see {@link TargetLimitsSchema}). */
export type TargetLimits = Static<typeof TargetLimitsSchema>;
