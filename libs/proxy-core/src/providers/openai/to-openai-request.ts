import { refuseSeveralChoices } from '../../wire/chat-message-parts';
import type { ChatCompletionRequest } from '../../wire/openai-chat';
import type { CompletionRequest } from '../../wire/openai-completions';
import { withOpenAIToolCallIds, type ToolCallIdFormat } from './openai-tool-call-id';

/**
 * The upstream body for an OpenAI-compatible host (chat or legacy completions): the client's request with the
 * upstream model, unsupported parameters removed, and, for streams, usage requested
 * (the gateway meters every stream; it strips the usage chunk again when the client
 * did not ask for it). `n` above 1 for a host that takes no `n` is `unsupported_feature`:
 * removing it would answer with one choice where the client asked for several. Tool-call ids
 * the host would refuse (over OpenAI's 40 characters, or not Mistral's nine letters and digits:
 * a conversation begun on Gemini or another provider) are mapped, the same way in a call and
 * its result (see openai-tool-call-id.ts).
 */
export function toOpenAIRequest(
  request: ChatCompletionRequest | CompletionRequest,
  model: string,
  stream: boolean,
  unsupportedParams: readonly string[],
  renameParams: Readonly<Record<string, string>> = {},
  toolCallIdFormat: ToolCallIdFormat = 'openai',
): Record<string, unknown> {
  if (unsupportedParams.includes('n'))
    refuseSeveralChoices(
      request.n,
      'This provider returns one choice per request ("n" is one of its unsupportedParams); "n" must be 1.',
    );
  // Object.assign, not `{ ...request, model, stream }`: a request without `stream` would add a
  // property to an object made by spread, a slow path on Node 20 (see upstream-request.ts)
  const body: Record<string, unknown> = Object.assign({}, request, { model, stream });
  if ('messages' in request) {
    const messages = withOpenAIToolCallIds(request.messages, toolCallIdFormat);
    if (messages !== request.messages) body['messages'] = messages;
  }
  if (stream) {
    body['stream_options'] = { ...(request.stream_options ?? {}), include_usage: true };
  } else {
    delete body['stream_options'];
  }
  return adjustParams(body, unsupportedParams, renameParams);
}

/** Applies a host's quirks to a body: removes the fields it rejects, renames those it names differently. */
export function adjustParams(
  body: Record<string, unknown>,
  unsupportedParams: readonly string[],
  renameParams: Readonly<Record<string, string>>,
): Record<string, unknown> {
  for (const param of unsupportedParams) delete body[param];
  for (const [from, to] of Object.entries(renameParams)) {
    if (from in body) {
      // a null field asks for nothing: it does not take away a value the other name carries
      const value = body[from];
      if ((value !== null && value !== undefined) || !(to in body)) body[to] = value;
      delete body[from];
    }
  }
  return body;
}

/**
 * Moves a chat body's `max_tokens` to `max_completion_tokens`, for hosts whose reasoning models
 * refuse `max_tokens` (OpenAI's and Azure OpenAI's o-series and GPT-5, with a 400 "Use
 * 'max_completion_tokens' instead"); `max_completion_tokens` wins when both are given, as in
 * the other translators.
 */
export function maxTokensAsCompletionTokens(body: Record<string, unknown>): Record<string, unknown> {
  if (body['max_tokens'] === undefined) return body;
  const cap = body['max_completion_tokens'];
  if (cap === undefined || cap === null) body['max_completion_tokens'] = body['max_tokens'];
  delete body['max_tokens'];
  return body;
}
