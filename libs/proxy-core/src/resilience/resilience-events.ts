import { channel } from 'node:diagnostics_channel';

/** The state of a target's circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Which limits a gateway's limiters enforce: per instance, or shared through Redis. */
export type LimiterMode = 'local' | 'shared';

/**
 * Everything the resilience policies report, as one discriminated union: tap
 * `hooks.onResilienceEvent` (metrics, logs) and switch on `type`.
 */
export type ResilienceEvent =
  /** A target's breaker changed state. */
  | { type: 'breaker_state'; target: string; state: BreakerState; previous: BreakerState }
  /** A call was refused because the target's circuit is open (no upstream call). */
  | { type: 'breaker_rejected'; target: string }
  /** A call was refused by the target's limiter (queue full, wait too long, or aborted while queued). */
  | { type: 'limiter_rejected'; target: string; reason: 'queue_full' | 'max_wait' | 'aborted' }
  /** A request starts a retry round after waiting `delayMs`. */
  | { type: 'retry'; round: number; delayMs: number; requestId: string }
  /** A request could not retry because the global retry budget was spent. */
  | { type: 'retry_budget_exhausted'; requestId: string }
  /** The limiters switched between local and shared (Redis) limits. */
  | { type: 'limiter_mode'; mode: LimiterMode; reason: string };

/** What `switchyard:breaker:state` publishes on every breaker state change. */
export interface BreakerStateMessage {
  /** The target, `provider/model`. */
  target: string;
  state: BreakerState;
  previous: BreakerState;
  /**
   * Whether the target is one of a configured route's (a bounded set); false for a target a
   * client named (a direct `provider/<model>`) or a `resolveRoute` tap returned.
   */
  configured: boolean;
  /**
   * The `hooks` of the gateway the breaker is of: with several gateways in one process, a
   * subscriber that serves one (a plugin applied to its hooks) keeps to its messages.
   */
  source?: object;
}

/** Published on every breaker state change: a {@link BreakerStateMessage}. */
export const breakerStateChannel = channel('switchyard:breaker:state');

/** Counters of the resilience policies since the gateway was created. */
export interface ResilienceCounters {
  /** Calls refused by an open circuit. */
  breakerRejections: number;
  /** Times a circuit opened. */
  breakerOpens: number;
  /** Calls refused by a limiter (any reason). */
  limiterRejections: number;
  /** Retry rounds started. */
  retries: number;
  /** Retries refused by the retry budget. */
  retryBudgetExhausted: number;
  /** Fallbacks to another alias. */
  fallbacks: number;
}

/** A snapshot of the resilience state, from `gateway.stats()`. */
export interface ResilienceStats {
  counters: ResilienceCounters;
  /** Breaker state per target (`provider/model`). */
  breakers: Record<string, BreakerState>;
  /** Limiter occupancy per limited target (`provider/model`). */
  limiters: Record<string, { running: number; queued: number }>;
  /** Where limits are enforced right now. */
  limiterMode: LimiterMode;
  /**
   * Requests currently being routed, and retries in progress (the budget's two figures): a retry
   * pass is in progress while it calls a target, not while it waits out its backoff.
   */
  liveRequests: number;
  activeRetries: number;
}
