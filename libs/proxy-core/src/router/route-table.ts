import type { ModelRouteConfig } from '../gateway/gateway-options';
import type { ResolvedRoute, RouteTargetLimits } from './route-types';
import { targetKey } from './target-key';

/** The configured routes, resolved once at construction. */
export class RouteTable {
  readonly #routes = new Map<string, ResolvedRoute>();
  readonly #targetLimits = new Map<string, Readonly<RouteTargetLimits>>();
  readonly #targetKeys = new Set<string>();
  readonly #providers: ReadonlySet<string>;
  readonly #allowDirect: boolean;

  constructor(models: readonly ModelRouteConfig[], providers: ReadonlySet<string>, allowDirect: boolean) {
    for (const model of models) {
      this.#routes.set(
        model.name,
        Object.freeze({
          alias: model.name,
          strategy: model.strategy ?? 'weighted',
          fallbacks: Object.freeze([...(model.fallbacks ?? [])]),
          fallbackOn: Object.freeze({ ...(model.fallbackOn ?? {}) }),
          targets: Object.freeze(
            model.targets.map((t) =>
              Object.freeze({
                provider: t.provider,
                model: t.model,
                weight: t.weight ?? 1,
                ...(t.limits === undefined ? {} : { limits: Object.freeze({ ...t.limits }) }),
              }),
            ),
          ),
        }),
      );
    }
    // the limits belong to the target, not to the route naming it (validation made the routes agree)
    for (const route of this.#routes.values()) {
      for (const target of route.targets) {
        this.#targetKeys.add(targetKey(target));
        if (target.limits !== undefined && !this.#targetLimits.has(targetKey(target)))
          this.#targetLimits.set(targetKey(target), target.limits);
      }
    }
    this.#providers = providers;
    this.#allowDirect = allowDirect;
  }

  /** The route for a requested model: an alias, else `<provider>/<model>` when allowed. */
  resolve(model: string): ResolvedRoute | undefined {
    const route = this.#routes.get(model);
    if (route !== undefined) return route;
    if (!this.#allowDirect) return undefined;
    const slash = model.indexOf('/');
    if (slash <= 0 || slash === model.length - 1) return undefined;
    const provider = model.slice(0, slash);
    if (!this.#providers.has(provider)) return undefined;
    return {
      alias: model,
      direct: true,
      strategy: 'ordered',
      fallbacks: [],
      targets: [{ provider, model: model.slice(slash + 1), weight: 1 }],
    };
  }

  /**
   * The upstream limits the configuration declares for each target (`provider/model`), whichever
   * route declares them: they hold for every request reaching the target, direct ones included.
   */
  targetLimits(): ReadonlyMap<string, Readonly<RouteTargetLimits>> {
    return this.#targetLimits;
  }

  /** The targets (`provider/model`) of the configured routes: a bounded set, unlike direct ones. */
  targetKeys(): ReadonlySet<string> {
    return this.#targetKeys;
  }

  /** Every configured alias, in configuration order. */
  aliases(): ResolvedRoute[] {
    return [...this.#routes.values()];
  }
}
