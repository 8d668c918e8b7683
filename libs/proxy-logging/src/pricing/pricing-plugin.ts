import {
  SwitchyardError,
  type ChatUsage,
  type GatewayPlugin,
  type RequestContext,
} from '@switchyard/proxy-core';
import { record } from '../usage/meter-exchange';
import { perplexitySearchOf } from '../usage/providers/perplexity/perplexity-search';
import { addPerplexityTokens } from '../usage/providers/perplexity/perplexity-usage';
import { tokenUsageFromChatUsage, type TokenUsage } from '../usage/token-usage';
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
 * OpenAI-compatible adapter): it is what Perplexity bills, so it wins over a cost priced from
 * the tokens and the request fee of the search context size.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 */
function perplexityCostUsd(usage: ChatUsage): number | undefined {
  const cost = (usage as { cost?: { total_cost?: unknown } | null }).cost;
  const total = typeof cost === 'object' && cost !== null ? cost.total_cost : undefined;
  return typeof total === 'number' && Number.isFinite(total) && total >= 0 ? roundUsd(total) : undefined;
}

const PLUGIN_NAME = 'switchyard:pricing';

/** Options of {@link createPricingPlugin} beyond the prices. */
export interface PricingPluginOptions {
  /**
   * The provider types of the gateway the plugin is added to (`openai`, `gemini`, ...), where its
   * builder knows them. Perplexity's request fee is the only price that depends on the request
   * (its `web_search_options`, kept by a `beforeRequest` tap): without a `perplexity` provider
   * the tap is not added, and no request pays for it. `createApp()` passes its providers' types.
   * @default undefined (not known: the tap is added, whatever the providers)
   */
  providerTypes?: readonly string[];
}

/**
 * The token usage of a `/v1` exchange, with what Perplexity's prices depend on as the universal
 * proxy's meter reads it: deep research's reasoning and citation tokens, and the search of the request fee, the
 * request's `web_search_options` (kept by the `beforeRequest` tap), Pro Search on a streamed
 * request only.
 */
function tokenUsageOf(usage: ChatUsage, type: string, model: string, context: RequestContext): TokenUsage {
  const tokens = tokenUsageFromChatUsage(usage);
  // the tier the answer names (set by the engine: no tap per stream chunk to find it)
  if (context.serviceTier !== undefined) tokens.serviceTier = context.serviceTier;
  if (type !== 'perplexity') return tokens;
  addPerplexityTokens(tokens, record(usage), model);
  return Object.assign(
    tokens,
    perplexitySearchOf(context.state.get(PLUGIN_NAME), tokens.searchContextSize, context.stream),
  );
}

/**
 * A gateway plugin that prices every exchange from its usage and sets `context.costUsd`:
 * a number in USD, `0` for answers served without an upstream call, or `null` when the
 * model has no known price (counted in `counters.unknownPrice`, never a silent zero). The
 * answer's `service_tier` selects the price's rates for that tier: an answer on a non-standard
 * tier (`priority`, `flex`) the price has no rates for costs null, never the standard rates.
 * @example
 * const pricing = createPricingPlugin({ models: { 'local/llama3': { inputPerMTok: 0, outputPerMTok: 0 } } });
 * const gateway = createGateway({ providers, models, plugins: [pricing] });
 */
export function createPricingPlugin(
  options: PricingOptions | PricingRegistry = {},
  pluginOptions: PricingPluginOptions = {},
): PricingPlugin {
  const registry = 'tokenCost' in options ? options : createPricingRegistry(options);
  const estimator = createCostEstimator(registry);
  const types: unknown = pluginOptions.providerTypes;
  if (types !== undefined && !(Array.isArray(types) && types.every((type) => typeof type === 'string'))) {
    throw new SwitchyardError(
      'invalid_options',
      'Invalid pricing plugin options:\npricing/providerTypes: must be a list of provider type names',
    );
  }
  // only Perplexity's price reads the request: elsewhere the tap would run on every request for nothing
  const readsSearchOptions = pluginOptions.providerTypes?.includes('perplexity') ?? true;
  return {
    name: PLUGIN_NAME,
    registry,
    estimator,
    counters: registry.counters,
    apply(hooks) {
      // the search options as the request goes upstream: after every other tap (one may set them)
      if (readsSearchOptions) {
        hooks.beforeRequest.tap({ name: PLUGIN_NAME, stage: Number.MAX_SAFE_INTEGER }, (request, context) => {
          const options = (request as { web_search_options?: unknown }).web_search_options;
          if (options !== undefined) context.state.set(PLUGIN_NAME, options);
          return request;
        });
      }
      hooks.onUsage.tap(PLUGIN_NAME, (report, context) => {
        // the universal proxy prices its exchanges (units included) before reporting them
        if (context.endpoint === 'proxy' && context.costUsd !== undefined) return;
        if (report.cached) {
          context.costUsd = 0;
          return;
        }
        const target = {
          provider: report.provider,
          model: report.model,
          ...(context.providerType === undefined ? {} : { providerType: context.providerType }),
        };
        const type = context.providerType ?? report.provider;
        const reported = type === 'perplexity' ? perplexityCostUsd(report.usage) : undefined;
        if (reported !== undefined) {
          context.costUsd = reported;
          return;
        }
        context.costUsd =
          registry.tokenCost(target, tokenUsageOf(report.usage, type, report.model, context))?.totalUsd ??
          null;
      });
    },
  };
}
