import type { ChatUsage, GatewayPlugin } from '@switchyard/proxy-core';
import { tokenUsageFromChatUsage } from '../usage/token-usage';
import { roundUsd } from './compute-token-cost';
import { createCostEstimator, type CostEstimator } from './cost-estimator';
import type { PricingOptions } from './pricing-options';
import { createPricingRegistry, type PricingCounters, type PricingRegistry } from './pricing-registry';

/** The pricing plugin, with the registry and estimator it uses, for other features to share. */
export interface PricingPlugin extends GatewayPlugin {
  readonly registry: PricingRegistry;
  readonly estimator: CostEstimator;
  readonly counters: PricingCounters;
}

/**
 * The cost Perplexity states in its usage (`usage.cost.total_cost`, passed through by the
 * OpenAI-compatible adapter): it is what Perplexity bills (citation tokens included, which
 * list prices leave out), so it wins over a cost priced from the tokens and the request fee of
 * the search context size.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 */
function perplexityCostUsd(usage: ChatUsage): number | undefined {
  const cost = (usage as { cost?: { total_cost?: unknown } | null }).cost;
  const total = typeof cost === 'object' && cost !== null ? cost.total_cost : undefined;
  return typeof total === 'number' && Number.isFinite(total) && total >= 0 ? roundUsd(total) : undefined;
}

/**
 * A gateway plugin that prices every exchange from its usage and sets `context.costUsd`:
 * a number in USD, `0` for answers served without an upstream call, or `null` when the
 * model has no known price (counted in `counters.unknownPrice`, never a silent zero).
 * @example
 * const pricing = createPricingPlugin({ models: { 'local/llama3': { inputPerMTok: 0, outputPerMTok: 0 } } });
 * const gateway = createGateway({ providers, models, plugins: [pricing] });
 */
export function createPricingPlugin(options: PricingOptions | PricingRegistry = {}): PricingPlugin {
  const registry = 'tokenCost' in options ? options : createPricingRegistry(options);
  const estimator = createCostEstimator(registry);
  return {
    name: 'switchyard:pricing',
    registry,
    estimator,
    counters: registry.counters,
    apply(hooks) {
      hooks.onUsage.tap('switchyard:pricing', (report, context) => {
        // the universal proxy prices its exchanges (units included) before reporting them
        if (context.endpoint === 'proxy' && context.costUsd !== undefined) return;
        if (report.cached) {
          context.costUsd = 0;
          return;
        }
        const target = { provider: report.provider, model: report.model, ...(context.providerType === undefined ? {} : { providerType: context.providerType }) };
        const reported = (context.providerType ?? report.provider) === 'perplexity' ? perplexityCostUsd(report.usage) : undefined;
        if (reported !== undefined) {
          context.costUsd = reported;
          return;
        }
        context.costUsd = registry.tokenCost(target, tokenUsageFromChatUsage(report.usage))?.totalUsd ?? null;
      });
    },
  };
}
