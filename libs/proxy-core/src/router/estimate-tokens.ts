import { LEGACY_COMPLETION_FIELD } from '../completions/completion-chat-view';
import type { ChatCompletionRequest } from '../wire/openai-chat';
import type { EmbeddingRequest } from '../wire/openai-embeddings';

/** Output tokens assumed for a request that sets no `max_tokens`, for limiter weights and cost estimates. */
export const DEFAULT_OUTPUT_TOKENS = 256;

/** Rough characters per token of English text, the usual estimate without a tokenizer. */
const CHARS_PER_TOKEN = 4;

function textLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + textLength(item), 0);
  if (typeof value === 'object' && value !== null) {
    const part = value as Record<string, unknown>;
    if (typeof part['text'] === 'string') return part['text'].length;
    // images and audio are priced by the provider in tokens we cannot see: count a flat share
    if (part['type'] === 'image_url' || part['type'] === 'input_audio') return 85 * CHARS_PER_TOKEN;
  }
  return 0;
}

/** Estimated prompt tokens of a chat request (characters / 4, plus a few per message). */
export function estimatePromptTokens(request: ChatCompletionRequest): number {
  let chars = 0;
  for (const message of request.messages)
    chars += textLength((message as { content?: unknown }).content) + 4 * CHARS_PER_TOKEN;
  if (request.tools !== undefined) chars += JSON.stringify(request.tools).length;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/**
 * Output tokens a chat request may produce, as estimates before the call count them (limiter
 * weights, budget reservations, the condenser's reserve): its own bound (`max_completion_tokens`,
 * else `max_tokens`) when given, else `fallback`, and never more than the model writes.
 * @param maxOutputTokens the model's largest completion (`ModelInfo.maxOutputTokens` from a model
 * catalog); undefined, or not a positive finite number, when unknown: no cap then
 * @example
 * // Claude Code asks for its ceiling; claude-3-5-sonnet writes at most 8192 tokens
 * requestedOutputTokens({ model: 'claude', messages, max_tokens: 32000 }, DEFAULT_OUTPUT_TOKENS, 8192); // 8192
 */
export function requestedOutputTokens(
  request: Pick<ChatCompletionRequest, 'max_completion_tokens' | 'max_tokens'>,
  fallback: number,
  maxOutputTokens?: number,
): number {
  const bound = request.max_completion_tokens ?? request.max_tokens;
  const asked = typeof bound === 'number' && bound > 0 ? bound : fallback;
  // the request's max_tokens still goes upstream as sent: only the estimate is capped
  return maxOutputTokens !== undefined && Number.isFinite(maxOutputTokens) && maxOutputTokens > 0
    ? Math.min(asked, maxOutputTokens)
    : asked;
}

/** What {@link requestedChoices} reads of a request: a chat request or a legacy completion's chat view is one. */
export interface RequestedChoicesInput {
  readonly n?: unknown;
  /** A legacy completion's chat view keeps its `best_of` here (`LEGACY_COMPLETION_FIELD`). */
  readonly [LEGACY_COMPLETION_FIELD]?: unknown;
}

/**
 * How many choices a chat request (or a legacy completion's chat view) may write, each up to its
 * output bound, for every estimate made before the call (the limiter's token weight,
 * `lowest-cost` routing, a key's budget reservation): `n`, and for a legacy completion its
 * `best_of`, which the upstream generates (and bills) whole, at least `n` of them. Always a
 * whole number of at least 1: a fraction counts down to a whole one, and a value that is not a
 * finite number (absent, `null`, a string, `Infinity`, which JSON sends upstream as `null`) as 1.
 * A large count stays as large (the HTTP routes refuse `n` past 128 and `best_of` past 20 before
 * any estimate), so an estimate never covers fewer choices than the request asks for.
 * @example
 * requestedChoices({ n: 3 }); // 3
 * requestedChoices({ n: 0 }); // 1
 * requestedChoices({ n: 2, legacy_completion: { best_of: 5 } }); // 5
 */
export function requestedChoices(request: RequestedChoicesInput): number {
  const legacy = request[LEGACY_COMPLETION_FIELD];
  const bestOf =
    typeof legacy === 'object' && legacy !== null ? (legacy as { best_of?: unknown }).best_of : undefined;
  return Math.max(1, choiceCount(request.n), choiceCount(bestOf));
}

function choiceCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.floor(value) : 1;
}

/** Estimated tokens of an embeddings request. */
export function estimateEmbeddingTokens(request: EmbeddingRequest): number {
  return Math.ceil(textLength(request.input) / CHARS_PER_TOKEN);
}
