import { createContextPlugins, type ContextPlugins, type ContextPluginsOptions } from '@switchyard/proxy-context';
import type { Gateway, GatewayOptions } from '@switchyard/proxy-core';
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

/** Upstream model ids behind each configured alias, so the condenser knows the real windows. */
function aliasTargets(options: GatewayOptions): Record<string, string[]> {
  return Object.fromEntries((options.models ?? []).map((route) => [route.name, route.targets.map((target) => target.model)]));
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
    const aliases = 'chat' in gateway ? {} : aliasTargets(gateway);
    const condenser = options.condenser === undefined ? undefined : { ...options.condenser, aliases: { ...aliases, ...options.condenser.aliases } };
    this.plugins = createContextPlugins({ ...options, logger: options.logger ?? app.log, ...(condenser === undefined ? {} : { condenser }) });
    app.addHook('onClose', async () => this.plugins.close());
    app.decorate('switchyardContext', this.plugins);
  }

  /** Gateway options with the context plugins and the model catalog added. */
  extend(options: GatewayOptions): GatewayOptions {
    return { ...options, plugins: [...(options.plugins ?? []), ...this.plugins.plugins], modelCatalog: options.modelCatalog ?? this.plugins.catalog };
  }

  /** Taps an existing gateway's hooks with the context plugins. */
  attach(gateway: Gateway): Gateway {
    for (const plugin of this.plugins.plugins) plugin.apply(gateway.hooks);
    return gateway;
  }

  /** Lets the condenser's `summarize` call the gateway. */
  connect(gateway: Gateway): void {
    this.plugins.connect(gateway);
  }
}
