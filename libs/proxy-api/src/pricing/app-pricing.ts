import {
  estimateEmbeddingTokens,
  LEGACY_COMPLETION_DEFAULTS,
  LEGACY_COMPLETION_FIELD,
  messagesToChatRequest,
  requestedChoices,
  requestedOutputTokens,
  type AnthropicMessagesRequest,
  type ChatCompletionRequest,
  type CostEstimator as RoutingCostEstimator,
  type EmbeddingRequest,
  type Gateway,
  type GatewayOptions,
  type RouteCandidate,
} from '@switchyard/proxy-core';
import {
  createCostEstimator,
  createPricingPlugin,
  createPricingRegistry,
  estimatePromptTokens,
  PRICING_DEFAULTS,
  type PriceTarget,
  type PricingOptions,
  type PricingRegistry,
} from '@switchyard/proxy-logging';
import type { CostEstimator } from '../limits/cost-estimator';

/** The pricing the app shares between the engine's plugin and the universal proxy. */
export interface AppPricing {
  registry: PricingRegistry;
  /**
   * Adds the pricing plugin to gateway options the app builds (unless one is there), and
   * prices prospective calls for `lowest-cost` routes (unless a `costEstimator` is given).
   */
  withPlugin(options: GatewayOptions): GatewayOptions;
  /**
   * Prices budget reservations: a request's most expensive candidate target (its route and
   * fallbacks) at its estimated prompt plus its output limit (`max_completion_tokens`, else
   * `max_tokens`, capped at the candidate's max output in the model catalog; with neither, the
   * catalog's max output, else the pricing default; a legacy completion's default is 16). The
   * prompt is the chat request the engine sends: a `/v1/messages` body is estimated as
   * translated, its `system` prompt and tools included. Null when no candidate has a price (the
   * default reservation applies then).
   */
  budgetEstimator(gateway: Gateway): CostEstimator;
}

/** How many prompts a legacy completion body holds: a list of strings or of token arrays is a batch. */
function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt)) return 1;
  return prompt.length > 0 && prompt.every((item) => typeof item === 'string' || Array.isArray(item))
    ? prompt.length
    : 1;
}

/**
 * A request body as the chat request the engine sends: a `/v1/messages` body translated as its
 * route does (its `system` prompt becomes system messages, images `image_url` parts, tools
 * OpenAI's), a legacy completion's `prompt` as one user message. Undefined for a body the route
 * refuses, which reaches no provider.
 */
function asChatRequest(
  body: unknown,
  model: string,
  endpoint: 'chat' | 'messages',
): ChatCompletionRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  if (endpoint === 'messages') {
    try {
      return messagesToChatRequest(body as AnthropicMessagesRequest);
    } catch {
      return undefined;
    }
  }
  const request = body as Partial<ChatCompletionRequest> & { prompt?: unknown; best_of?: unknown };
  if (Array.isArray(request.messages)) return request as ChatCompletionRequest;
  if (request.prompt === undefined) return undefined;
  const content = typeof request.prompt === 'string' ? request.prompt : JSON.stringify(request.prompt);
  // a legacy completion generates best_of (at least n) choices per prompt, and bills them all:
  // counted as the engine counts its chat view's, which keeps best_of under LEGACY_COMPLETION_FIELD
  const perPrompt = requestedChoices({
    n: request.n,
    [LEGACY_COMPLETION_FIELD]: { best_of: request.best_of },
  });
  // without max_tokens, a legacy completion is sent with the legacy default (16), not the model's limit
  const maxTokens =
    typeof request.max_tokens === 'number' ? request.max_tokens : LEGACY_COMPLETION_DEFAULTS.maxTokens;
  return {
    ...request,
    model,
    messages: [{ role: 'user', content }],
    max_tokens: maxTokens,
    n: perPrompt * promptCount(request.prompt),
  };
}

/** A catalog's max output as a cap: a catalog of a plugin's own may give one it does not know (not a positive finite number). */
function knownMaxOutput(maxOutputTokens: number | undefined): number | undefined {
  return maxOutputTokens !== undefined && Number.isFinite(maxOutputTokens) && maxOutputTokens > 0
    ? maxOutputTokens
    : undefined;
}

/** The highest of the candidates' prices; null when none has one. */
function mostExpensive(
  candidates: readonly RouteCandidate[],
  price: (target: PriceTarget, candidate: RouteCandidate) => number | null,
): number | null {
  let most: number | null = null;
  for (const candidate of candidates) {
    const cost = price(
      { provider: candidate.provider, providerType: candidate.providerType, model: candidate.model },
      candidate,
    );
    if (cost !== null && (most === null || cost > most)) most = cost;
  }
  return most;
}

/**
 * The provider types gateway options name, or undefined where the list is malformed: the options
 * are not checked yet (createGateway checks them, and says what is wrong).
 */
function providerTypesOf(options: GatewayOptions): string[] | undefined {
  const providers: unknown = options.providers;
  if (!Array.isArray(providers)) return undefined;
  const types: string[] = [];
  for (const provider of providers as readonly unknown[]) {
    const type =
      typeof provider === 'object' && provider !== null ? (provider as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') return undefined;
    types.push(type);
  }
  return types;
}

/**
 * Builds the app's pricing from its `pricing` option: a registry (catalog + overrides)
 * and the plugin that sets `context.costUsd`. `false` prices nothing (costs stay null).
 */
export function appPricing(options: PricingOptions | false | undefined): AppPricing {
  if (options === false) {
    return {
      registry: createPricingRegistry({ catalog: 'none' }),
      withPlugin: (gateway) => gateway,
      budgetEstimator: () => ({ estimateMaxCostUsd: () => null }),
    };
  }
  const registry = createPricingRegistry(options ?? {});
  const prices = createCostEstimator(registry);
  // the cost estimator's (no charsPerToken of its own): chat prompts and embeddings strings are
  // estimated here at it, once a request whatever its candidates
  const charsPerToken = registry.options.charsPerToken ?? PRICING_DEFAULTS.charsPerToken;
  // estimates quote a price, which counts no unknown one: a candidate without a price that is
  // never called is no unpriced exchange (`counters.unknownPrice`, `onUnknownPrice`)
  const routingCost: RoutingCostEstimator = {
    estimateCostUsd: (query) =>
      prices.quoteUsd(
        { provider: query.provider, providerType: query.providerType, model: query.model },
        { inputTokens: query.promptTokens, outputTokens: query.outputTokens },
      ),
  };
  return {
    registry,
    budgetEstimator(gateway) {
      return {
        estimateMaxCostUsd({ model, endpoint, body }) {
          if (endpoint === 'proxy') return null;
          const candidates = gateway.candidates(model);
          if (candidates === undefined) return null;
          if (endpoint === 'embeddings') {
            const tokens = estimateEmbeddingTokens(body as EmbeddingRequest, charsPerToken);
            return mostExpensive(candidates, (target) =>
              prices.quoteUsd(target, { inputTokens: tokens, outputTokens: 0 }),
            );
          }
          // translated (a /v1/messages body) or wrapped (a legacy prompt) once, not per candidate
          const request = asChatRequest(body, model, endpoint);
          if (request === undefined) return null;
          // one prompt for every candidate, at one charsPerToken: scanned once, not once a candidate
          const promptTokens = estimatePromptTokens(request, charsPerToken);
          return mostExpensive(candidates, (target, candidate) => {
            // the model writes no more than its catalog's max output, whatever the client asks (Claude
            // Code asks 32000 of models that write 8192), and that much when it asks nothing; a model
            // the catalog does not know keeps the request's limit, else the pricing default
            const maxOutputTokens = knownMaxOutput(candidate.maxOutputTokens);
            const bounded =
              maxOutputTokens === undefined
                ? request
                : {
                    ...request,
                    max_completion_tokens: requestedOutputTokens(request, maxOutputTokens, maxOutputTokens),
                  };
            return prices.estimate(bounded, target, promptTokens).maxCostUsd;
          });
        },
      };
    },
    withPlugin(gateway) {
      const plugins = gateway.plugins ?? [];
      // the plugin reads requests for Perplexity's price only: it is told the providers' types
      const providerTypes = providerTypesOf(gateway);
      const plugin = createPricingPlugin(registry, providerTypes === undefined ? {} : { providerTypes });
      const priced = plugins.some((existing) => existing.name === plugin.name)
        ? plugins
        : [...plugins, plugin];
      return { ...gateway, plugins: priced, costEstimator: gateway.costEstimator ?? routingCost };
    },
  };
}
