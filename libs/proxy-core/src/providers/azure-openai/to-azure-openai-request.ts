import type { ChatCompletionRequest } from '../../wire/openai-chat';
import { maxTokensAsCompletionTokens, toOpenAIRequest } from '../openai/to-openai-request';

/**
 * OpenAI request -> Azure body: OpenAI's own shape (the deployment in the URL picks the
 * model; the body's `model` carries the deployment name for logs), `max_tokens` sent as
 * `max_completion_tokens` when `maxCompletionTokens` is set.
 */
export function toAzureOpenAIRequest(
  request: ChatCompletionRequest,
  deployment: string,
  stream: boolean,
  maxCompletionTokens = false,
): Record<string, unknown> {
  const body = toOpenAIRequest(request, deployment, stream, []);
  return maxCompletionTokens ? maxTokensAsCompletionTokens(body) : body;
}
