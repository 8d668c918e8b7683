import {
  createContextPlugins,
  type ContextPlugins,
  type ContextPluginsOptions,
} from '@switchyard/proxy-context';
import type { Gateway, GatewayOptions, Logger } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The context plugins (cache, condenser, catalog, memory budget) when the `context`
     * option is set: read `cache.stats()`, `condenser.stats()` and `budget.stats()` for metrics.
     * Decorated inside the Switchyard routes plugin.
     */
    switchyardContext?: ContextPlugins;
  }
}

/**
 * Upstream model ids behind each configured alias, so the condenser knows the real windows: every
 * target a request for the alias may reach, the targets of its route and of its own fallback
 * aliases (a fallback's fallbacks are not tried), as `gateway.candidates()` lists them. The same
 * from a built gateway as from the options that build one: a request condensed for the smallest
 * of these windows fits whichever target answers it. Exported for tests.
 */
export function aliasTargets(gateway: Gateway | GatewayOptions): Record<string, string[]> {
  if ('chat' in gateway) {
    return Object.fromEntries(
      gateway
        .listModels()
        .map(({ id }) => [id, [...new Set((gateway.candidates(id) ?? []).map((c) => c.model))]]),
    );
  }
  const routes = new Map((gateway.models ?? []).map((route) => [route.name, route]));
  return Object.fromEntries(
    [...routes.values()].map((route) => {
      const reached = [route, ...(route.fallbacks ?? []).flatMap((name) => routes.get(name) ?? [])];
      return [route.name, [...new Set(reached.flatMap(({ targets }) => targets.map(({ model }) => model)))]];
    }),
  );
}

/**
 * Wires `@switchyard/proxy-context` (cache, condenser, model catalog, memory budget) into
 * the app: its plugins join the gateway (or tap an existing gateway's hooks), the catalog
 * describes `/v1/models`, the condenser gets the gateway's chat for `summarize`, and the
 * Redis connection closes with the app.
 */
export class ContextWiring {
  readonly plugins: ContextPlugins;

  constructor(app: FastifyInstance, options: ContextPluginsOptions, gateway: Gateway | GatewayOptions) {
    const aliases = aliasTargets(gateway);
    const condenser =
      options.condenser === undefined
        ? undefined
        : { ...options.condenser, aliases: { ...aliases, ...options.condenser.aliases } };
    this.plugins = createContextPlugins({
      ...options,
      logger: options.logger ?? app.log,
      ...(condenser === undefined ? {} : { condenser }),
    });
    app.addHook('onClose', async () => this.plugins.close());
    app.decorate('switchyardContext', this.plugins);
  }

  /** Gateway options with the context plugins and the model catalog added. */
  extend(options: GatewayOptions): GatewayOptions {
    return {
      ...options,
      plugins: [...(options.plugins ?? []), ...this.plugins.plugins],
      modelCatalog: options.modelCatalog ?? this.plugins.catalog,
    };
  }

  /**
   * Taps an existing gateway's hooks with the context plugins. Its model catalog is the one it
   * was created with (an engine takes none later): one without gets a warning, since the
   * catalog then caps no budget reservation or limiter weight and describes no `/v1/models`.
   */
  attach(gateway: Gateway, logger: Logger): Gateway {
    for (const plugin of this.plugins.plugins) plugin.apply(gateway.hooks);
    // read as optional: a gateway of another copy of proxy-core, or written by hand, may not have it
    if ((gateway as Partial<Pick<Gateway, 'modelCatalog'>>).modelCatalog === undefined) {
      logger.warn(
        { missing: 'gateway.modelCatalog' },
        "createApp: the gateway passed in was created without a modelCatalog, and the context option's model catalog does not reach it: budget reservations and tokensPerMinute weights are not capped at a model's max output, and /v1/models lists no model details (the condenser uses the catalog all the same). Create the gateway with createGateway({ modelCatalog }) and pass the same catalog as context.catalog",
      );
    }
    return gateway;
  }

  /** Lets the condenser's `summarize` call the gateway. */
  connect(gateway: Gateway): void {
    this.plugins.connect(gateway);
  }
}
