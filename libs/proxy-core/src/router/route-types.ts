/** How a route picks among its targets. */
export type RoutingStrategyName = 'weighted' | 'ordered';

/** One deployment a route may send to. */
export interface RouteTarget {
  /** A configured provider instance name. */
  provider: string;
  /** The model id sent upstream. */
  model: string;
  /** Relative share for weighted routing. @default 1 */
  weight: number;
}

/** A resolved route: the targets for one requested model, and where to go when they fail. */
export interface ResolvedRoute {
  /** The alias (or `provider/model`) the route was resolved from. */
  alias: string;
  targets: readonly RouteTarget[];
  strategy: RoutingStrategyName;
  /** Other aliases tried in order when every target failed with a retryable error. */
  fallbacks: readonly string[];
}

/** What `resolveRoute` taps are asked to route. */
export interface RouteQuery {
  model: string;
}
