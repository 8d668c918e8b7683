import {
  invalidRequest,
  nonEmptyTexts,
  refuseSeveralChoices,
  refuseWebSearch,
  toolResultCallId,
  userContent,
} from '../../wire/chat-message-parts';
import { functionToolCalls, functionTools, refuseFunctionMessage } from '../../wire/function-tools';
import { jsonSchemaOf } from '../../wire/response-format';
import type { ChatCompletionRequest, ChatTextPart } from '../../wire/openai-chat';

/**
 * A system, assistant or tool message's content as Cohere takes it: a string as it is, text parts
 * as text parts (joined, "terse." and "Answer" would run together), empty ones left out (they
 * said nothing when joined); undefined when no part is left.
 * @see https://docs.cohere.com/reference/chat
 */
function cohereText(
  content: string | ChatTextPart[] | null | undefined,
): string | ChatTextPart[] | undefined {
  if (typeof content === 'string') return content;
  const texts = nonEmptyTexts(content);
  return texts.length === 0 ? undefined : texts.map((text) => ({ type: 'text', text }));
}

/**
 * Refuses a `temperature` outside Cohere's documented range, a non-negative number (it documents
 * no maximum, unlike its penalties' 0 to 1, and OpenAI's 0 to 2 lies within it), with
 * `invalid_request` naming it before any upstream call, as the HTTP layer refuses it for OpenAI's
 * range: only a request given to the engine directly (`gateway.chat()`) gets here with one.
 * @see https://docs.cohere.com/reference/chat
 */
function refuseNegativeTemperature(temperature: number | null | undefined): void {
  if (typeof temperature !== 'number' || (Number.isFinite(temperature) && temperature >= 0)) return;
  throw invalidRequest(
    `Cohere takes "temperature" as a non-negative number, and ${temperature} is none: send 0 or more.`,
    'temperature',
  );
}

/**
 * Translates an OpenAI chat request to a Cohere Chat v2 body. Messages and tools keep
 * OpenAI's shape; sampling settings and `tool_choice` take Cohere's names; a negative
 * `temperature` is refused (see refuseNegativeTemperature).
 * @see https://docs.cohere.com/reference/chat
 */
export function toCohereRequest(
  request: ChatCompletionRequest,
  model: string,
  stream: boolean,
): Record<string, unknown> {
  refuseSeveralChoices(request.n, 'Cohere returns one choice per request; "n" must be 1.');
  refuseWebSearch(request, 'Cohere');
  refuseNegativeTemperature(request.temperature);
  const messages = request.messages.map((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: cohereText(message.content) ?? '' };
      case 'user':
        return { role: 'user', content: userContent(message.content, `messages.${index}.content`) };
      case 'assistant': {
        const content = cohereText(message.content);
        const calls = functionToolCalls(message, `messages.${index}`, 'Cohere');
        return {
          role: 'assistant',
          ...(content === undefined || content.length === 0 ? {} : { content }),
          ...(calls.length === 0 ? {} : { tool_calls: calls }),
        };
      }
      case 'tool':
        return {
          role: 'tool',
          tool_call_id: toolResultCallId(message, `messages.${index}.tool_call_id`),
          content: cohereText(message.content) ?? '',
        };
      case 'function':
        return refuseFunctionMessage(`messages.${index}`, 'Cohere');
    }
  });
  const body: Record<string, unknown> = { model, messages, stream };
  const set = (key: string, value: unknown): void => {
    if (value !== undefined && value !== null) body[key] = value;
  };
  // Cohere takes narrower ranges than OpenAI and answers 400 outside them: `p` 0.01-0.99 (an
  // OpenAI client's common `top_p: 1` means no cut, which 0.99 is closest to), penalties 0-1
  // (a negative OpenAI penalty, which favours repeats, has no Cohere equivalent: none)
  const within = (value: number | null | undefined, min: number, max: number): number | undefined =>
    typeof value === 'number' ? Math.min(max, Math.max(min, value)) : undefined;
  set('temperature', request.temperature);
  set('p', within(request.top_p, 0.01, 0.99));
  set('max_tokens', request.max_completion_tokens ?? request.max_tokens);
  set('seed', request.seed);
  set('frequency_penalty', within(request.frequency_penalty, 0, 1));
  set('presence_penalty', within(request.presence_penalty, 0, 1));
  if (request.stop !== undefined && request.stop !== null)
    body['stop_sequences'] = typeof request.stop === 'string' ? [request.stop] : request.stop;
  // custom tools refused, `allowed_tools` narrowed to its functions: see function-tools.ts
  const offered = functionTools(request, 'Cohere');
  const choice = offered.choice;
  let tools = offered.tools;
  if (typeof choice === 'object') {
    // Cohere has no "this function": offer only that one and require a call
    tools = tools.filter((tool) => tool.function.name === choice.name);
    body['tool_choice'] = 'REQUIRED';
  } else if (choice === 'required') body['tool_choice'] = 'REQUIRED';
  else if (choice === 'none') body['tool_choice'] = 'NONE';
  if (tools.length > 0) body['tools'] = tools;
  const format = request.response_format;
  if (format?.type === 'json_object') body['response_format'] = { type: 'json_object' };
  if (format?.type === 'json_schema') {
    const schema = jsonSchemaOf(format);
    body['response_format'] = {
      type: 'json_object',
      ...(schema === undefined ? {} : { json_schema: schema }),
    };
  }
  return body;
}
