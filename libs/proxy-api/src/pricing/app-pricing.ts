import type { CostEstimator as RoutingCostEstimator, GatewayOptions } from '@switchyard/proxy-core';
import {
  createCostEstimator,
  createPricingPlugin,
  createPricingRegistry,
  type PricingOptions,
  type PricingRegistry,
} from '@switchyard/proxy-logging';

/** The pricing the app shares between the engine's plugin and the universal proxy. */
export interface AppPricing {
  registry: PricingRegistry;
  /**
   * Adds the pricing plugin to gateway options the app builds (unless one is there), and
   * prices prospective calls for `lowest-cost` routes (unless a `costEstimator` is given).
   */
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
  const prices = createCostEstimator(plugin.registry);
  const routingCost: RoutingCostEstimator = {
    estimateCostUsd: (query) =>
      prices.costUsd(
        { provider: query.provider, providerType: query.providerType, model: query.model },
        { prompt_tokens: query.promptTokens, completion_tokens: query.outputTokens, total_tokens: query.promptTokens + query.outputTokens },
      ),
  };
  return {
    registry: plugin.registry,
    withPlugin(gateway) {
      const plugins = gateway.plugins ?? [];
      const priced = plugins.some((existing) => existing.name === plugin.name) ? plugins : [...plugins, plugin];
      return { ...gateway, plugins: priced, costEstimator: gateway.costEstimator ?? routingCost };
    },
  };
}
