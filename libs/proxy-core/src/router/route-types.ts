/**
 * How a route orders its targets: `weighted` (random by weight), `ordered` (configuration
 * order), `round-robin`, `least-in-flight`, `lowest-latency` (EWMA with exploration),
 * `lowest-cost` (needs a `costEstimator`). The first target is tried first; the others
 * follow in that order when it fails.
 */
export type RoutingStrategyName =
  'weighted' | 'ordered' | 'round-robin' | 'least-in-flight' | 'lowest-latency' | 'lowest-cost';

/** Limits of one target's upstream limiter. */
export interface RouteTargetLimits {
  /** Upstream calls in flight at once. */
  maxConcurrent?: number;
  /** Upstream calls per minute. */
  requestsPerMinute?: number;
  /** Estimated tokens per minute. */
  tokensPerMinute?: number;
}

/** One deployment a route may send to. */
export interface RouteTarget {
  /** A configured provider instance name. */
  provider: string;
  /** The model id sent upstream. */
  model: string;
  /** Relative share for weighted routing. @default 1 */
  weight: number;
  /** The target's upstream limits. @default none */
  limits?: RouteTargetLimits;
}

/** Which non-retryable errors still move a request on to the fallback aliases. */
export interface FallbackOn {
  /** Fall back when the prompt does not fit the model's window (to a larger model). @default false */
  contextLengthExceeded?: boolean;
  /** Fall back when the provider's content policy refused the request. @default false */
  contentFilter?: boolean;
}

/** A resolved route: the targets for one requested model, and where to go when they fail. */
export interface ResolvedRoute {
  /** The alias (or `provider/model`) the route was resolved from. */
  alias: string;
  /**
   * True for a direct `<provider>/<model>` route (`allowDirectModels`): no configured alias
   * named it, so `alias` is the client's own string, unbounded. Metrics label such a route by
   * a model the gateway knows, never by `alias`.
   * @default false
   */
  direct?: boolean;
  targets: readonly RouteTarget[];
  strategy: RoutingStrategyName;
  /**
   * Other aliases tried in order when every target failed with a retryable error, an open
   * circuit or a full limiter (or an error `fallbackOn` names).
   */
  fallbacks: readonly string[];
  /** @default {} (only retryable errors fall back) */
  fallbackOn?: FallbackOn;
}

/** What `resolveRoute` taps are asked to route. */
export interface RouteQuery {
  model: string;
}
