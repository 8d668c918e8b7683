import {
  estimateTextTokens,
  requestedChoices,
  type ChatCompletionRequest,
  type ChatUsage,
} from '@switchyard/proxy-core';
import { tokenUsageFromChatUsage, type TokenUsage } from '../usage/token-usage';
import { computeTokenCost } from './compute-token-cost';
import { ratesForInput, type PriceRates } from './pricing-model-price';
import { PRICING_DEFAULTS } from './pricing-options';
import type { PriceTarget, PricingRegistry } from './pricing-registry';

/** Tokens assumed per image part by pre-call estimates (a high-detail tile budget: an upper bound). */
const IMAGE_TOKENS = 1600;
/** Per-message overhead tokens (role and separators). */
const MESSAGE_OVERHEAD_TOKENS = 4;

/** A pre-call estimate of a chat request. */
export interface CostEstimate {
  /** The prompt tokens, estimated to err high (see {@link estimatePromptTokens}). */
  promptTokens: number;
  /** The output tokens the request may generate (its limit, or the default). */
  maxOutputTokens: number;
  /**
   * The cost in USD of the estimated prompt and every output token, each at the highest rate it
   * can be billed at; null when the model has no known price.
   */
  maxCostUsd: number | null;
}

/**
 * Prices requests before and after the call. Budgets check `estimate()` before spending
 * and settle with `costUsd()` after; cost-based routing ranks targets with `unitCostUsd()` or
 * `quoteUsd()`. Only `costUsd()` counts an unknown price: the others price no exchange.
 * Every method returns null for an unknown price, never zero.
 */
export interface CostEstimator {
  /**
   * A chat request's cost before the call, estimated to err high (its `maxCostUsd`).
   * @param promptTokens the request's prompt tokens when already estimated (by
   * {@link estimatePromptTokens} at this estimator's `charsPerToken`), so pricing one request
   * for several targets scans its prompt once; estimated from `request` when not given
   */
  estimate(request: ChatCompletionRequest, target: PriceTarget, promptTokens?: number): CostEstimate;
  /** The actual cost of a finished call from its usage (OpenAI-shaped or normalised). */
  costUsd(target: PriceTarget, usage: ChatUsage | TokenUsage): number | null;
  /**
   * The cost token usage would have, quoted before any call (cost-based routing, budget
   * reservations): as `costUsd`, but an unknown price is not counted (`counters.unknownPrice`,
   * `onUnknownPrice`), as nothing was billed, and a candidate never called is no unpriced request.
   */
  quoteUsd(target: PriceTarget, usage: TokenUsage): number | null;
  /**
   * A comparable price for routing: USD for 1M input plus `outputRatio` x 1M output tokens
   * (base tier, no cache). @param outputRatio output tokens per input token @default 0.25
   */
  unitCostUsd(target: PriceTarget, outputRatio?: number): number | null;
  /** Whether the target has a known price. */
  isPriced(target: PriceTarget): boolean;
}

function isChatUsage(usage: ChatUsage | TokenUsage): usage is ChatUsage {
  return typeof (usage as ChatUsage).prompt_tokens === 'number';
}

function textTokens(value: unknown, charsPerToken: number): number {
  if (typeof value === 'string') return estimateTextTokens(value, charsPerToken);
  if (value === null || value === undefined) return 0;
  return estimateTextTokens(JSON.stringify(value), charsPerToken);
}

/**
 * The output split that bounds a request's cost: every output token at the highest rate one can
 * be billed at. An image model's output may be images (Gemini's image models bill them at an
 * image rate), a reasoning model's may be reasoning, and an audio model's is audio when the
 * request asks for it (`modalities` with `audio`, OpenAI's audio models). The image split is
 * always said, so a distinct image rate never makes the bound unknown.
 */
function costliestOutput(
  rates: PriceRates,
  request: ChatCompletionRequest,
  outputTokens: number,
): Pick<TokenUsage, 'reasoningTokens' | 'audioOutputTokens' | 'imageOutputTokens'> {
  // without a text rate the output has no price at all: the bound is unknown, as before
  const text = rates.outputPerMTok;
  if (text === undefined) return {};
  const reasoning = rates.reasoningPerMTok ?? text;
  const image = rates.imageOutputPerMTok ?? text;
  const modalities = request['modalities'];
  const audio =
    Array.isArray(modalities) && modalities.includes('audio') ? (rates.audioOutputPerMTok ?? text) : text;
  const highest = Math.max(text, reasoning, image, audio);
  if (highest === text) return { imageOutputTokens: 0 };
  if (highest === image) return { imageOutputTokens: outputTokens };
  if (highest === audio) return { imageOutputTokens: 0, audioOutputTokens: outputTokens };
  return { imageOutputTokens: 0, reasoningTokens: outputTokens };
}

/** Options of {@link createCostEstimator} beyond the registry. */
export interface CostEstimatorOptions {
  /** Output tokens assumed when a request sets no limit. @default 4096 */
  defaultMaxOutputTokens?: number;
  /** ASCII characters (other than digits) per token for prompt estimates (low = conservative). @default 2 */
  charsPerToken?: number;
}

/**
 * A request's prompt tokens without a tokenizer, estimated to err high: its text as
 * `estimateTextTokens` of `@switchyard/proxy-core` counts it (ASCII at `charsPerToken`, a digit
 * or another character at least a token each), the JSON of its tool calls, tools, other parts
 * and `response_format` alike, 1600 tokens an image and 4 a message. Prose and code come out
 * at about half the estimate; random base64, hex-like and other high-entropy text can exceed it
 * (up to 1.4 times), and so can some scripts on older tokenizers (cl100k), so it is no bound:
 * settlement charges the actual usage.
 */
export function estimatePromptTokens(
  request: ChatCompletionRequest,
  charsPerToken: number = PRICING_DEFAULTS.charsPerToken,
): number {
  let tokens = 0;
  let images = 0;
  for (const message of request.messages) {
    const content: unknown = message.content;
    if (Array.isArray(content)) {
      for (const part of content as { type?: string; text?: string }[]) {
        if (part.type === 'image_url') images += 1;
        else tokens += textTokens(part.text ?? part, charsPerToken);
      }
    } else {
      tokens += textTokens(content, charsPerToken);
    }
    if ('tool_calls' in message) tokens += textTokens(message.tool_calls, charsPerToken);
  }
  if (request.tools !== undefined) tokens += textTokens(request.tools, charsPerToken);
  if (request.response_format !== undefined) tokens += textTokens(request.response_format, charsPerToken);
  return tokens + request.messages.length * MESSAGE_OVERHEAD_TOKENS + images * IMAGE_TOKENS;
}

/**
 * Creates the {@link CostEstimator} over a pricing registry.
 * @example
 * const estimator = createCostEstimator(createPricingRegistry());
 * estimator.estimate({ model: 'gpt-4o', messages, max_tokens: 200 }, { provider: 'openai', model: 'gpt-4o' }).maxCostUsd;
 */
export function createCostEstimator(
  registry: PricingRegistry,
  options: CostEstimatorOptions = {},
): CostEstimator {
  const defaultMaxOutput =
    options.defaultMaxOutputTokens ??
    registry.options.defaultMaxOutputTokens ??
    PRICING_DEFAULTS.defaultMaxOutputTokens;
  const charsPerToken =
    options.charsPerToken ?? registry.options.charsPerToken ?? PRICING_DEFAULTS.charsPerToken;
  return {
    estimate(request, target, estimated) {
      const promptTokens = estimated ?? estimatePromptTokens(request, charsPerToken);
      const limit = request.max_completion_tokens ?? request.max_tokens ?? defaultMaxOutput;
      // as many choices as the engine's own estimates count (its limiter weight, lowest-cost routing)
      const maxOutputTokens = limit * requestedChoices(request);
      const resolved = registry.resolve(target);
      const cost =
        resolved === undefined
          ? undefined
          : computeTokenCost(resolved.price, {
              inputTokens: promptTokens,
              outputTokens: maxOutputTokens,
              ...costliestOutput(ratesForInput(resolved.price, promptTokens), request, maxOutputTokens),
            });
      return { promptTokens, maxOutputTokens, maxCostUsd: cost?.totalUsd ?? null };
    },
    costUsd(target, usage) {
      return (
        registry.tokenCost(target, isChatUsage(usage) ? tokenUsageFromChatUsage(usage) : usage)?.totalUsd ??
        null
      );
    },
    quoteUsd(target, usage) {
      // resolving counts nothing, unlike tokenCost
      const resolved = registry.resolve(target);
      return resolved === undefined ? null : (computeTokenCost(resolved.price, usage)?.totalUsd ?? null);
    },
    unitCostUsd(target, outputRatio = 0.25) {
      const resolved = registry.resolve(target);
      if (resolved === undefined) return null;
      const rates = ratesForInput(resolved.price, 0);
      if (rates.inputPerMTok === undefined || rates.outputPerMTok === undefined) return null;
      return rates.inputPerMTok + outputRatio * rates.outputPerMTok;
    },
    isPriced(target) {
      return registry.resolve(target) !== undefined;
    },
  };
}
