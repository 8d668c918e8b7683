import type { CostEstimator } from './cost-estimator';
import { orderTargets } from './order-targets';
import type { ResolvedRoute, RouteTarget } from './route-types';
import { targetKey } from './target-key';
import type { TargetStats } from './target-stats';

/** What a request tells the router, for cost-based ordering. */
export interface RoutingInput {
  promptTokens: number;
  /** Output tokens a call to `target` may produce: the request's bound, at most what the target's model writes, for each of its choices (`n`). */
  outputTokens(target: RouteTarget): number;
}

/** Settings of the router. */
export interface TargetRouterSettings {
  stats: TargetStats;
  /** Share of `lowest-latency` decisions that explore a random order instead, in [0, 1]. */
  explorationRate: number;
  costEstimator: CostEstimator | undefined;
  /** The provider type of a configured provider instance. */
  providerType(provider: string): string;
  random?: () => number;
}

/** Orders a route's targets by its strategy; the first is tried first, the rest in order on failure. */
export class TargetRouter {
  readonly #settings: TargetRouterSettings;
  readonly #random: () => number;
  readonly #turns = new Map<string, number>();

  constructor(settings: TargetRouterSettings) {
    this.#settings = settings;
    this.#random = settings.random ?? Math.random;
  }

  order(route: ResolvedRoute, input: RoutingInput): RouteTarget[] {
    if (route.targets.length < 2) return [...route.targets];
    const { stats } = this.#settings;
    switch (route.strategy) {
      case 'ordered':
        return [...route.targets];
      case 'weighted':
        return orderTargets(route, this.#random);
      case 'round-robin': {
        const turn = this.#turns.get(route.alias) ?? 0;
        this.#turns.set(route.alias, (turn + 1) % route.targets.length);
        return [...route.targets.slice(turn), ...route.targets.slice(0, turn)];
      }
      case 'least-in-flight':
        // ties keep the weighted random order, so equal loads still spread by weight
        return this.#sortBy(route, (t) => stats.get(targetKey(t)).inFlight);
      case 'lowest-latency': {
        if (this.#random() < this.#settings.explorationRate) return orderTargets(route, this.#random);
        // a target never measured goes first: that is how it gets measured
        return this.#sortBy(route, (t) => stats.get(targetKey(t)).latencyMs ?? -1);
      }
      case 'lowest-cost': {
        const estimator = this.#settings.costEstimator;
        return this.#sortBy(route, (t) => {
          const query = {
            provider: t.provider,
            providerType: this.#settings.providerType(t.provider),
            model: t.model,
            promptTokens: input.promptTokens,
            outputTokens: input.outputTokens(t),
          };
          const cost = estimator?.estimateCostUsd(query);
          return typeof cost === 'number' && Number.isFinite(cost) ? cost : Number.POSITIVE_INFINITY;
        });
      }
    }
  }

  #sortBy(route: ResolvedRoute, score: (target: RouteTarget) => number): RouteTarget[] {
    const scored = orderTargets(route, this.#random).map((target) => ({ target, score: score(target) }));
    scored.sort((a, b) => a.score - b.score);
    return scored.map((entry) => entry.target);
  }
}
