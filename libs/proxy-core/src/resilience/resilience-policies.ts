import type { Logger } from '../options/logger';
import { RecencyMap } from '../router/recency-map';
import type { RouteTargetLimits } from '../router/route-types';
import { createCircuitBreaker, type CircuitBreaker, type CircuitBreakerSettings } from './circuit-breaker';
import { createLimiterLink, type LimiterLink } from './limiter-link';
import { redisEndpointOf } from '../redis/redis-client';
import {
  breakerStateChannel,
  type BreakerState,
  type BreakerStateMessage,
  type ResilienceCounters,
  type ResilienceEvent,
  type ResilienceStats,
} from './resilience-events';
import {
  RESILIENCE_DEFAULTS,
  type BreakerOptions,
  type LimiterOptions,
  type RetryOptions,
} from './resilience-options';
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
  /** What the breaker state messages name as their source (`BreakerStateMessage.source`): the gateway's hooks. */
  source?: object;
  /**
   * How many breakers to keep before closed ones, least recently used first, are dropped:
   * clients can name any `provider/<model>`, and each name would otherwise keep a breaker (and
   * its timer) for good. A dropped closed breaker loses only its rolling counts. (The open
   * circuit of a target no configured route has is dropped too, once unused: see
   * {@link ResiliencePolicies}.)
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

/** A kept breaker, how many times it was handed out, and the idle check of a client-named target's half-open circuit. */
interface BreakerEntry {
  readonly breaker: CircuitBreaker;
  uses: number;
  idleCheck?: ReturnType<typeof setTimeout>;
}

/**
 * The gateway's resilience state: one breaker and (when limited) one limiter per target,
 * the retry budget, the Redis link and the counters. Policies are created on first use.
 *
 * The circuit of a target no configured route has (a client's direct `provider/<model>`, a
 * `resolveRoute` tap's) that opened and went half-open, then was not used for one more reset
 * timeout (about two reset timeouts after it opened), is dropped and reported `closed` on
 * `switchyard:breaker:state` and `onResilienceEvent`: such targets are rarely called again, so
 * no probe would ever close it, and it would stay half-open in `stats()`, the breaker metric
 * and the store (which drops only closed breakers) for good. Its next call starts a new, closed
 * breaker, as the report says. A configured target's half-open circuit waits for its next call.
 */
export class ResiliencePolicies {
  readonly retry: RetrySettings;
  readonly budget: RetryBudget;
  readonly counters: ResilienceCounters = {
    breakerRejections: 0,
    breakerOpens: 0,
    limiterRejections: 0,
    retries: 0,
    retryBudgetExhausted: 0,
    fallbacks: 0,
  };
  readonly #breakerSettings: CircuitBreakerSettings | undefined;
  readonly #limiterSettings: { maxQueue: number; maxWaitMs: number };
  readonly #breakers: RecencyMap<BreakerEntry>;
  readonly #limiters = new Map<string, TargetLimiter>();
  readonly #link: LimiterLink | undefined;
  readonly #emit: (event: ResilienceEvent) => void;
  readonly #targetLimits: ReadonlyMap<string, Readonly<RouteTargetLimits>>;
  readonly #configuredTargets: ReadonlySet<string>;

  readonly #source: object | undefined;

  constructor(options: ResiliencePoliciesOptions) {
    this.#source = options.source;
    // only closed breakers are dropped: an open or half-open one holds back calls to a failing target
    this.#breakers = new RecencyMap<BreakerEntry>({
      maxEntries: options.maxBreakers ?? MAX_BREAKERS,
      isIdle: (entry) => entry.breaker.state === 'closed',
      onDrop: (entry) => ResiliencePolicies.#shut(entry),
    });
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
    this.#limiterSettings = {
      maxQueue: options.limiter?.maxQueue ?? d.limiter.maxQueue,
      maxWaitMs: options.limiter?.maxWaitMs ?? d.limiter.maxWaitMs,
    };
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
    const entry = this.#breakers.use(key, () => this.#createBreaker(key, settings));
    entry.uses += 1;
    return entry.breaker;
  }

  /** The breaker of a target if it has one, without making one or counting a use. */
  peekBreaker(key: string): CircuitBreaker | undefined {
    return this.#breakers.peek(key)?.breaker;
  }

  #createBreaker(key: string, settings: CircuitBreakerSettings): BreakerEntry {
    const configured = this.#configuredTargets.has(key);
    const entry: BreakerEntry = {
      uses: 0,
      breaker: createCircuitBreaker(key, settings, {
        onState: (state, previous) => {
          this.#reportState(key, configured, state, previous);
          if (configured) return;
          clearTimeout(entry.idleCheck);
          entry.idleCheck = undefined;
          if (state === 'half-open') this.#checkIdle(key, entry, settings.resetTimeoutMs);
        },
        onReject: () => {
          this.counters.breakerRejections += 1;
          this.#emit({ type: 'breaker_rejected', target: key });
        },
      }),
    };
    return entry;
  }

  /**
   * Drops a client-named target's half-open circuit once no call has asked for it (and no probe
   * has run) for `afterMs`, reporting it closed; checks again later while it is used.
   */
  #checkIdle(key: string, entry: BreakerEntry, afterMs: number): void {
    const uses = entry.uses;
    entry.idleCheck = setTimeout(() => {
      entry.idleCheck = undefined;
      if (entry.breaker.state !== 'half-open' || this.#breakers.peek(key) !== entry) return;
      if (entry.uses !== uses || entry.breaker.probing) {
        this.#checkIdle(key, entry, afterMs);
        return;
      }
      this.#breakers.delete(key);
      ResiliencePolicies.#shut(entry);
      // what the target's next call meets: a new breaker, closed
      this.#reportState(key, false, 'closed', 'half-open');
    }, afterMs);
    entry.idleCheck.unref?.();
  }

  #reportState(key: string, configured: boolean, state: BreakerState, previous: BreakerState): void {
    if (state === 'open') this.counters.breakerOpens += 1;
    if (breakerStateChannel.hasSubscribers)
      breakerStateChannel.publish({
        target: key,
        state,
        previous,
        configured,
        ...(this.#source === undefined ? {} : { source: this.#source }),
      } satisfies BreakerStateMessage);
    this.#emit({ type: 'breaker_state', target: key, state, previous });
  }

  static #shut(entry: BreakerEntry): void {
    clearTimeout(entry.idleCheck);
    entry.idleCheck = undefined;
    entry.breaker.close();
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
    if (
      limits === undefined ||
      (limits.maxConcurrent === undefined &&
        limits.requestsPerMinute === undefined &&
        limits.tokensPerMinute === undefined)
    )
      return undefined;
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
      breakers: Object.fromEntries(
        [...this.#breakers.entries()].map(([key, entry]) => [key, entry.breaker.state]),
      ),
      limiters: Object.fromEntries([...this.#limiters].map(([key, limiter]) => [key, limiter.counts()])),
      limiterMode: this.#link?.mode ?? 'local',
      liveRequests: this.budget.live,
      activeRetries: this.budget.retrying,
    };
  }

  async close(): Promise<void> {
    for (const entry of this.#breakers.values()) ResiliencePolicies.#shut(entry);
    // the link first: its connection, once closed, stops every tier's heartbeat and makes
    // unregistering a tier skip Redis, so no limiter's close can meet a subscriber that is
    // reconnecting (bottleneck drops the failing unsubscribe promises: unhandled rejections)
    await this.#link?.close();
    await Promise.all([...this.#limiters.values()].map((limiter) => limiter.close()));
  }
}
