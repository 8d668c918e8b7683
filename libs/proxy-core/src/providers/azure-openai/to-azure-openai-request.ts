import type { ChatCompletionRequest } from '../../wire/openai-chat';
import type { CompletionRequest } from '../../wire/openai-completions';
import { maxTokensAsCompletionTokens, toOpenAIRequest } from '../openai/to-openai-request';

/** What an Azure api-version takes beyond the OpenAI body every version takes. */
export interface AzureOpenAIRequestSettings {
  /** Send a chat request's `max_tokens` as `max_completion_tokens`. */
  maxCompletionTokens: boolean;
  /** Send `stream_options` on a stream (the api-version takes it). */
  streamOptions: boolean;
}

/**
 * OpenAI request (chat or legacy completions) -> Azure body: OpenAI's own shape (the deployment
 * in the URL picks the model; the body's `model` carries the deployment name for logs),
 * `max_tokens` sent as `max_completion_tokens` when `maxCompletionTokens` is set, and no
 * `stream_options` unless `streamOptions` is set: api-versions before 2024-09-01-preview refuse
 * it (400 "Unrecognized request argument supplied: stream_options"), the client's own included,
 * and their streams then carry no usage.
 */
export function toAzureOpenAIRequest(
  request: ChatCompletionRequest | CompletionRequest,
  deployment: string,
  stream: boolean,
  settings: AzureOpenAIRequestSettings = { maxCompletionTokens: false, streamOptions: true },
): Record<string, unknown> {
  const body = toOpenAIRequest(request, deployment, stream, []);
  if (!settings.streamOptions) delete body['stream_options'];
  return settings.maxCompletionTokens && 'messages' in request ? maxTokensAsCompletionTokens(body) : body;
}
