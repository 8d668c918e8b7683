import type { ChatCompletion, ChatCompletionChunk } from '../../wire/openai-chat';

/** An OpenAI stream event's data: a chunk, or an error object some hosts send mid-stream. */
export type OpenAIStreamData =
  ChatCompletionChunk | { error: { message?: string; type?: string; code?: string | null } };

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
