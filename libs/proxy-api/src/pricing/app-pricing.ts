import type { GatewayOptions } from '@switchyard/proxy-core';
import { createPricingPlugin, createPricingRegistry, type PricingOptions, type PricingRegistry } from '@switchyard/proxy-logging';

/** The pricing the app shares between the engine's plugin and the universal proxy. */
export interface AppPricing {
  registry: PricingRegistry;
  /** Adds the pricing plugin to gateway options the app builds (unless one is there). */
  withPlugin(options: GatewayOptions): GatewayOptions;
}

/**
 * Builds the app's pricing from its `pricing` option: a registry (catalog + overrides)
 * and the plugin that sets `context.costUsd`. `false` prices nothing (costs stay null).
 */
export function appPricing(options: PricingOptions | false | undefined): AppPricing {
  if (options === false) {
    return { registry: createPricingRegistry({ catalog: 'none' }), withPlugin: (gateway) => gateway };
  }
  const plugin = createPricingPlugin(options ?? {});
  return {
    registry: plugin.registry,
    withPlugin(gateway) {
      const plugins = gateway.plugins ?? [];
      if (plugins.some((existing) => existing.name === plugin.name)) return gateway;
      return { ...gateway, plugins: [...plugins, plugin] };
    },
  };
}
