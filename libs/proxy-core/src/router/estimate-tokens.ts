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
  for (const message of request.messages) chars += textLength((message as { content?: unknown }).content) + 4 * CHARS_PER_TOKEN;
  if (request.tools !== undefined) chars += JSON.stringify(request.tools).length;
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Output tokens a chat request may produce: its own bound when given, else `fallback`. */
export function requestedOutputTokens(request: ChatCompletionRequest, fallback: number): number {
  const bound = request.max_completion_tokens ?? request.max_tokens;
  return typeof bound === 'number' && bound > 0 ? bound : fallback;
}

/** Estimated tokens of an embeddings request. */
export function estimateEmbeddingTokens(request: EmbeddingRequest): number {
  return Math.ceil(textLength(request.input) / CHARS_PER_TOKEN);
}
