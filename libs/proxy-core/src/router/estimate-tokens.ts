import { LEGACY_COMPLETION_FIELD } from '../completions/completion-chat-view';
import type { ChatCompletionRequest } from '../wire/openai-chat';
import type { EmbeddingRequest } from '../wire/openai-embeddings';

/** Output tokens assumed for a request that sets no `max_tokens`, for limiter weights and cost estimates. */
export const DEFAULT_OUTPUT_TOKENS = 256;

/**
 * ASCII characters (other than digits) per token the engine's own estimates assume (limiter
 * weights, `lowest-cost` routing): about what English prose and code average. Budget
 * reservations pass a lower figure (`pricing.charsPerToken`) to err high.
 */
const ENGINE_CHARS_PER_TOKEN = 4;
/** Tokens assumed for an image or audio part, which the provider prices in tokens we cannot see. */
const MEDIA_PART_TOKENS = 85;
/** Tokens per message for its role and separators. */
const MESSAGE_OVERHEAD_TOKENS = 4;

/**
 * Estimated tokens of a text without a tokenizer, in one pass over its UTF-16 code units:
 * ASCII at `charsPerToken` characters a token, except digits; digits and every other character
 * of the Basic Multilingual Plane (accented Latin, Cyrillic, Arabic, Indic scripts, CJK) at
 * half that, at most one token each (at 2 characters a token, a budget's figure: one token
 * each, what tokenizers that split numbers digit by digit, as Gemini's and Mistral's do, and
 * cl100k on most scripts make); and a character beyond it (emoji, rare CJK ideographs: a
 * surrogate pair) as four of those, its UTF-8 bytes, the most a byte-level tokenizer splits it
 * into. At the engine's 4 a token, the same text comes out at half a token a character: between
 * o200k (0.23 to 0.32 a character of Cyrillic, Arabic, Hebrew, Greek, Devanagari or Thai) and
 * cl100k (0.5 to 1).
 *
 * Measured at 2 characters a token against o200k and cl100k (`gpt-tokenizer`) and the
 * published Claude (pre-Claude 3), Gemini, Llama 3 and Mistral tokenizers: prose and code come
 * out at 0.4 to 0.7 of the estimate, other scripts at 0.25 to 0.75 on the newer vocabularies
 * and mostly near 1 on the older ones, emoji and rare ideographs at or below it. No character
 * count bounds every text: random base64 comes out up to 1.25 times the estimate, random
 * printable ASCII 1.4 times, and cl100k splits Chinese up to 1.3 and Tamil 1.5 times as fine.
 * @param charsPerToken ASCII characters (other than digits) per token, more than 0
 * @example
 * estimateTextTokens('x'.repeat(100), 2); // 50
 * estimateTextTokens('政府', 2); // 2
 */
export function estimateTextTokens(text: string, charsPerToken: number): number {
  let ascii = 0;
  // digits and characters past ASCII, a surrogate (half an astral character) counting two
  let dense = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit >= 0x80) dense += unit >= 0xd800 && unit <= 0xdfff ? 2 : 1;
    else if (unit >= 0x30 && unit <= 0x39) dense += 1;
    else ascii += 1;
  }
  return Math.ceil(ascii / charsPerToken) + Math.ceil(dense * Math.min(1, 2 / charsPerToken));
}

function contentTokens(value: unknown, charsPerToken: number): number {
  if (typeof value === 'string') return estimateTextTokens(value, charsPerToken);
  if (Array.isArray(value)) {
    let tokens = 0;
    for (const item of value) tokens += contentTokens(item, charsPerToken);
    return tokens;
  }
  if (typeof value === 'object' && value !== null) {
    const part = value as Record<string, unknown>;
    if (typeof part['text'] === 'string') return estimateTextTokens(part['text'], charsPerToken);
    // images and audio are priced by the provider in tokens we cannot see: count a flat share
    if (part['type'] === 'image_url' || part['type'] === 'input_audio') return MEDIA_PART_TOKENS;
  }
  return 0;
}

function jsonTokens(value: unknown, charsPerToken: number): number {
  return value === undefined || value === null ? 0 : estimateTextTokens(JSON.stringify(value), charsPerToken);
}

/**
 * Estimated prompt tokens of a chat request ({@link estimateTextTokens} of its messages' text,
 * an assistant's tool calls, the tool definitions and `response_format`, 85 tokens an image or
 * audio part, plus 4 a message), for the engine's limiter weights and `lowest-cost` routing.
 * @param charsPerToken ASCII characters (other than digits) per token @default 4
 */
export function estimatePromptTokens(
  request: ChatCompletionRequest,
  charsPerToken: number = ENGINE_CHARS_PER_TOKEN,
): number {
  let tokens = 0;
  for (const message of request.messages) {
    const { content, tool_calls: toolCalls } = message as { content?: unknown; tool_calls?: unknown };
    tokens += contentTokens(content, charsPerToken) + MESSAGE_OVERHEAD_TOKENS;
    tokens += jsonTokens(toolCalls, charsPerToken);
  }
  tokens += jsonTokens(request.tools, charsPerToken);
  tokens += jsonTokens(request.response_format, charsPerToken);
  return tokens;
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

/**
 * Estimated tokens of an embeddings request: each token id of an `input` of ids (`number[]` or
 * `number[][]`) is one token, and each string is {@link estimateTextTokens}.
 * @param charsPerToken ASCII characters (other than digits) per token of string inputs @default 4
 * @example
 * estimateEmbeddingTokens({ model: 'text-embedding-3-small', input: [[1, 2], [3]] }); // 3
 */
export function estimateEmbeddingTokens(
  request: EmbeddingRequest,
  charsPerToken: number = ENGINE_CHARS_PER_TOKEN,
): number {
  const input: unknown = request.input;
  if (typeof input === 'string') return estimateTextTokens(input, charsPerToken);
  if (!Array.isArray(input)) return 0;
  let tokens = 0;
  for (const item of input as unknown[]) {
    if (typeof item === 'string') tokens += estimateTextTokens(item, charsPerToken);
    else if (typeof item === 'number') tokens += 1;
    // an array of token ids: its length, without a pass over 2048 x 8000 ids
    else if (Array.isArray(item)) tokens += item.length;
  }
  return tokens;
}
