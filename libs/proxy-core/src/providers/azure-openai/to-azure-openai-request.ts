import type { ChatCompletionRequest } from '../../wire/openai-chat';
import { toOpenAIRequest } from '../openai/to-openai-request';

/**
 * OpenAI request -> Azure body: OpenAI's own shape (the deployment in the URL picks the
 * model; the body's `model` carries the deployment name for logs).
 */
export function toAzureOpenAIRequest(
  request: ChatCompletionRequest,
  deployment: string,
  stream: boolean,
): Record<string, unknown> {
  return toOpenAIRequest(request, deployment, stream, []);
}
