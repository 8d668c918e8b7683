import {
  invalidRequest,
  nonEmptyTexts,
  parseDataUrl,
  parseToolArguments,
  refuseSeveralChoices,
  refuseWebSearch,
  toolNamesById,
  toolResultCallId,
  unsupportedFeature,
  userContent,
} from '../../wire/chat-message-parts';
import { functionToolCalls, functionTools, refuseFunctionMessage } from '../../wire/function-tools';
import { jsonSchemaOf } from '../../wire/response-format';
import type { ChatCompletionRequest } from '../../wire/openai-chat';
import type { OllamaMessage } from './ollama-wire';
import { toOllamaThink } from './to-ollama-think';

/**
 * A message's text as the one string Ollama takes: its text parts joined with a line break, so
 * that two parts stay two ("Hello" and "world" are not "Helloworld"); empty parts add nothing.
 */
function ollamaText(content: Parameters<typeof nonEmptyTexts>[0]): string {
  return nonEmptyTexts(content).join('\n');
}

/**
 * Translates an OpenAI chat request to an Ollama `/api/chat` body: a message's text parts are
 * joined with a line break (see ollamaText), images must be inline (base64), tool call arguments
 * become objects, sampling settings go under `options`,
 * `reasoning_effort` becomes `think` where Ollama takes it (see toOllamaThink).
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
 */
export function toOllamaRequest(
  request: ChatCompletionRequest,
  model: string,
  stream: boolean,
  provider: string,
): Record<string, unknown> {
  refuseSeveralChoices(
    request.n,
    `Provider "${provider}" (Ollama) returns one choice per request; "n" must be 1.`,
    provider,
  );
  const who = `Provider "${provider}" (Ollama)`;
  refuseWebSearch(request, who, provider);
  const names = toolNamesById(request.messages);
  const messages = request.messages.map((message, index): OllamaMessage => {
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: ollamaText(message.content) };
      case 'user': {
        const content = userContent(message.content, `messages.${index}.content`);
        const images: string[] = [];
        if (typeof content !== 'string') {
          for (const [k, part] of content.entries()) {
            if (part.type === 'text') continue;
            // Ollama's messages hold text and images only: audio or a file would go unheard
            if (part.type !== 'image_url')
              throw invalidRequest(
                `Content part type "${(part as { type: string }).type}" is not supported by this provider.`,
                `messages.${index}.content.${k}.type`,
              );
            const param = `messages.${index}.content.${k}.image_url.url`;
            const inline = parseDataUrl(part.image_url.url, param);
            if (inline === undefined) {
              throw unsupportedFeature(
                `Provider "${provider}" takes images as base64 data URLs only.`,
                param,
                provider,
              );
            }
            images.push(inline.data);
          }
        }
        return { role: 'user', content: ollamaText(content), ...(images.length > 0 ? { images } : {}) };
      }
      case 'assistant': {
        const calls = functionToolCalls(message, `messages.${index}`, who, provider).map((call, t) => ({
          function: {
            name: call.function.name,
            arguments: parseToolArguments(
              call.function.arguments,
              `messages.${index}.tool_calls.${t}.function.arguments`,
            ),
          },
        }));
        return {
          role: 'assistant',
          content: ollamaText(message.content),
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        };
      }
      case 'tool': {
        const name = names.get(toolResultCallId(message, `messages.${index}.tool_call_id`));
        return {
          role: 'tool',
          content: ollamaText(message.content),
          ...(name === undefined ? {} : { tool_name: name }),
        };
      }
      case 'function':
        return refuseFunctionMessage(`messages.${index}`, who, provider);
    }
  });
  const options: Record<string, unknown> = {};
  const set = (key: string, value: unknown): void => {
    if (value !== undefined && value !== null) options[key] = value;
  };
  set('temperature', request.temperature);
  set('top_p', request.top_p);
  set('num_predict', request.max_completion_tokens ?? request.max_tokens);
  set('seed', request.seed);
  set('presence_penalty', request.presence_penalty);
  set('frequency_penalty', request.frequency_penalty);
  if (request.stop !== undefined && request.stop !== null)
    options['stop'] = typeof request.stop === 'string' ? [request.stop] : request.stop;
  const body: Record<string, unknown> = { model, messages, stream };
  const think = toOllamaThink(request, model);
  if (think !== undefined) body['think'] = think;
  // Ollama has no tool_choice: `none` sends no tools (the model cannot call what it is not
  // given), a named function sends that tool alone; neither it nor `required` can force a call
  // (custom tools refused, `allowed_tools` narrowed to its functions: see function-tools.ts)
  const offered = functionTools(request, who, provider);
  const choice = offered.choice;
  const tools =
    typeof choice === 'object'
      ? offered.tools.filter((tool) => tool.function.name === choice.name)
      : choice === 'none'
        ? []
        : offered.tools;
  if (tools.length > 0) body['tools'] = tools;
  const format = request.response_format;
  if (format?.type === 'json_object') body['format'] = 'json';
  if (format?.type === 'json_schema') {
    const schema = jsonSchemaOf(format);
    if (schema !== undefined) body['format'] = schema;
  }
  if (Object.keys(options).length > 0) body['options'] = options;
  return body;
}
