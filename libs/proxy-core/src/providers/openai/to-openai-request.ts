import type { ChatCompletionRequest } from '../../wire/openai-chat';

/**
 * The upstream body for an OpenAI-compatible host: the client's request with the
 * upstream model, unsupported parameters removed, and, for streams, usage requested
 * (the gateway meters every stream; it strips the usage chunk again when the client
 * did not ask for it).
 */
export function toOpenAIRequest(
  request: ChatCompletionRequest,
  model: string,
  stream: boolean,
  unsupportedParams: readonly string[],
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request, model, stream };
  if (stream) {
    body['stream_options'] = { ...(request.stream_options ?? {}), include_usage: true };
  } else {
    delete body['stream_options'];
  }
  for (const param of unsupportedParams) delete body[param];
  return body;
}
