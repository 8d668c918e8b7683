import type { ChatCompletion, ChatCompletionChunk } from '../../wire/openai-chat';

/** An OpenAI stream event's data: a chunk, or an error object some hosts send mid-stream. */
export type OpenAIStreamData =
  | ChatCompletionChunk
  // `code` is a string on OpenAI, an HTTP-like number on some hosts (OpenRouter, vLLM)
  | { error: { message?: string; type?: string; code?: string | number | null; param?: string | null } };

/** Whether a parsed body looks like a chat completion (lenient: only what the gateway reads). */
export function isChatCompletionBody(value: unknown): value is ChatCompletion {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return Array.isArray(record['choices']);
}

/** An error object some hosts send mid-stream instead of a chunk. */
export type OpenAIStreamErrorData = Extract<OpenAIStreamData, { error: unknown }>;

/** Whether stream data carries an error instead of a chunk. */
export function isStreamErrorData(value: unknown): value is OpenAIStreamErrorData {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return typeof error === 'object' && error !== null;
}

/**
 * Reads a host's own count of cached prompt tokens into OpenAI's place for it, in place: DeepSeek
 * reports them as `usage.prompt_cache_hit_tokens` (its `prompt_cache_miss_tokens` are the rest),
 * not as `prompt_tokens_details.cached_tokens`, which pricing, metrics and the request log read.
 * A usage that has OpenAI's field, or neither, is left as it is.
 * @see https://api-docs.deepseek.com/guides/kv_cache
 */
export function readHostCacheHits(usage: unknown): void {
  if (typeof usage !== 'object' || usage === null) return;
  const record = usage as Record<string, unknown> & { prompt_tokens_details?: unknown };
  const hits = record['prompt_cache_hit_tokens'];
  if (typeof hits !== 'number' || !Number.isFinite(hits) || hits < 0) return;
  const details = record.prompt_tokens_details;
  if (typeof details === 'object' && details !== null) {
    const known = details as { cached_tokens?: unknown };
    if (known.cached_tokens === undefined) known.cached_tokens = hits;
  } else {
    record.prompt_tokens_details = { cached_tokens: hits };
  }
}
