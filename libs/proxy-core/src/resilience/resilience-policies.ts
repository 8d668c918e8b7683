import type { Logger } from '../options/logger';
import { RecencyMap } from '../router/recency-map';
import type { RouteTargetLimits } from '../router/route-types';
import { createCircuitBreaker, type CircuitBreaker, type CircuitBreakerSettings } from './circuit-breaker';
import { createLimiterLink, type LimiterLink } from './limiter-link';
import { redisEndpointOf } from '../redis/redis-client';
import { breakerStateChannel, type BreakerStateMessage, type ResilienceCounters, type ResilienceEvent, type ResilienceStats } from './resilience-events';
import { RESILIENCE_DEFAULTS, type BreakerOptions, type LimiterOptions, type RetryOptions } from './resilience-options';
import { RetryBudget } from './retry-budget';
import { BottleneckTargetLimiter, type TargetLimiter } from './target-limiter';

/** Retry settings with defaults applied. */
export type RetrySettings = Required<RetryOptions>;

/** Options of {@link ResiliencePolicies}. */
export interface ResiliencePoliciesOptions {
  retry?: RetryOptions;
  breaker?: BreakerOptions;
  limiter?: LimiterOptions;
  logger: Logger;
  emit: (event: ResilienceEvent) => void;
  /**
   * How many breakers to keep before closed ones, least recently used first, are dropped:
   * clients can name any `provider/<model>`, and each name would otherwise keep a breaker (and
   * its timer) for good. A dropped closed breaker loses only its rolling counts.
   * @default 10000
   */
  maxBreakers?: number;
  /**
   * The configured limits of each target (`provider/model`), from the route table: a target
   * listed here is limited from its first request, whichever route (or a direct
   * `provider/model` request) it comes through.
   * @default none
   */
  targetLimits?: ReadonlyMap<string, Readonly<RouteTargetLimits>>;
  /**
   * The targets (`provider/model`) of the configured routes. A breaker state change says
   * whether its target is one (`configured` on `switchyard:breaker:state`): any other target
   * was named by a client (a direct `provider/<model>`) or a `resolveRoute` tap.
   * @default none
   */
  configuredTargets?: ReadonlySet<string>;
}

/** The default of {@link ResiliencePoliciesOptions.maxBreakers}. */
const MAX_BREAKERS = 10_000;

/**
 * The gateway's resilience state: one breaker and (when limited) one limiter per target,
 * the retry budget, the Redis link and the counters. Policies are created on first use.
 */
export class ResiliencePolicies {
  readonly retry: RetrySettings;
  readonly budget: RetryBudget;
  readonly counters: ResilienceCounters = { breakerRejections: 0, breakerOpens: 0, limiterRejections: 0, retries: 0, retryBudgetExhausted: 0, fallbacks: 0 };
  readonly #breakerSettings: CircuitBreakerSettings | undefined;
  readonly #limiterSettings: { maxQueue: number; maxWaitMs: number };
  readonly #breakers: RecencyMap<CircuitBreaker>;
  readonly #limiters = new Map<string, TargetLimiter>();
  readonly #link: LimiterLink | undefined;
  readonly #emit: (event: ResilienceEvent) => void;
  readonly #targetLimits: ReadonlyMap<string, Readonly<RouteTargetLimits>>;
  readonly #configuredTargets: ReadonlySet<string>;

  constructor(options: ResiliencePoliciesOptions) {
    // only closed breakers are dropped: an open or half-open one holds back calls to a failing target
    this.#breakers = new RecencyMap({ maxEntries: options.maxBreakers ?? MAX_BREAKERS, isIdle: (breaker) => breaker.state === 'closed', onDrop: (breaker) => breaker.close() });
    this.#targetLimits = options.targetLimits ?? new Map();
    this.#configuredTargets = options.configuredTargets ?? new Set();
    const d = RESILIENCE_DEFAULTS;
    this.retry = { ...d.retry, ...options.retry };
    this.budget = new RetryBudget(this.retry.budgetPercent, this.retry.minRetryConcurrency);
    const breaker = { ...d.breaker, ...options.breaker };
    this.#breakerSettings = breaker.enabled
      ? {
          errorThresholdPercentage: breaker.errorThresholdPercentage,
          volumeThreshold: breaker.volumeThreshold,
          rollingWindowMs: breaker.rollingWindowMs,
          rollingBuckets: breaker.rollingBuckets,
          resetTimeoutMs: breaker.resetTimeoutMs,
        }
      : undefined;
    this.#limiterSettings = { maxQueue: options.limiter?.maxQueue ?? d.limiter.maxQueue, maxWaitMs: options.limiter?.maxWaitMs ?? d.limiter.maxWaitMs };
    this.#emit = options.emit;
    const redis = options.limiter?.redis;
    this.#link =
      redis === undefined
        ? undefined
        : createLimiterLink(
            {
              endpoint: redisEndpointOf(redis),
              keyPrefix: redis.keyPrefix ?? d.redis.keyPrefix,
              commandTimeoutMs: redis.commandTimeoutMs ?? d.redis.commandTimeoutMs,
            },
            options.logger,
            (mode, reason) => this.#emit({ type: 'limiter_mode', mode, reason }),
          );
  }

  /** The breaker of a target, or undefined when breakers are disabled. */
  breaker(key: string): CircuitBreaker | undefined {
    const settings = this.#breakerSettings;
    if (settings === undefined) return undefined;
    return this.#breakers.use(key, () => {
      const configured = this.#configuredTargets.has(key);
      return createCircuitBreaker(key, settings, {
        onState: (state, previous) => {
          if (state === 'open') this.counters.breakerOpens += 1;
          if (breakerStateChannel.hasSubscribers) breakerStateChannel.publish({ target: key, state, previous, configured } satisfies BreakerStateMessage);
          this.#emit({ type: 'breaker_state', target: key, state, previous });
        },
        onReject: () => {
          this.counters.breakerRejections += 1;
          this.#emit({ type: 'breaker_rejected', target: key });
        },
      });
    });
  }

  /** How many breakers are kept (for stats and tests). */
  get breakerCount(): number {
    return this.#breakers.size;
  }

  /**
   * The limiter of a target with limits, else undefined. A target's configured limits (see
   * `targetLimits`) hold whatever the route says; `routeLimits` (a route from a `resolveRoute`
   * tap) count only for a target the configuration gives none, the first seen creating it.
   */
  limiter(key: string, routeLimits?: RouteTargetLimits): TargetLimiter | undefined {
    const existing = this.#limiters.get(key);
    if (existing !== undefined) return existing;
    const limits = this.#targetLimits.get(key) ?? routeLimits;
    if (limits === undefined || (limits.maxConcurrent === undefined && limits.requestsPerMinute === undefined && limits.tokensPerMinute === undefined)) return undefined;
    const limiter = new BottleneckTargetLimiter(key, limits, this.#limiterSettings, this.#link, (reason) => {
      this.counters.limiterRejections += 1;
      this.#emit({ type: 'limiter_rejected', target: key, reason });
    });
    this.#limiters.set(key, limiter);
    return limiter;
  }

  /** Reports an event to the gateway's subscribers. */
  emit(event: ResilienceEvent): void {
    this.#emit(event);
  }

  /** Resolves once limits are shared through Redis (immediately when no Redis is configured). */
  whenShared(): Promise<void> {
    return this.#link?.whenShared() ?? Promise.resolve();
  }

  stats(): ResilienceStats {
    return {
      counters: { ...this.counters },
      breakers: Object.fromEntries([...this.#breakers.entries()].map(([key, breaker]) => [key, breaker.state])),
      limiters: Object.fromEntries([...this.#limiters].map(([key, limiter]) => [key, limiter.counts()])),
      limiterMode: this.#link?.mode ?? 'local',
      liveRequests: this.budget.live,
      activeRetries: this.budget.retrying,
    };
  }

  async close(): Promise<void> {
    for (const breaker of this.#breakers.values()) breaker.close();
    // the link first: its connection, once closed, stops every tier's heartbeat and makes
    // unregistering a tier skip Redis, so no limiter's close can meet a subscriber that is
    // reconnecting (bottleneck drops the failing unsubscribe promises: unhandled rejections)
    await this.#link?.close();
    await Promise.all([...this.#limiters.values()].map((limiter) => limiter.close()));
  }
}
