import { addToTurns, refuseEmptyTurn, type AlternatingTurn } from '../../wire/alternating-turns';
import {
  imageMediaTypeFromUrl,
  invalidRequest,
  nonEmptyTexts,
  parseDataUrl,
  parseToolArguments,
  toolNamesById,
  toolResultCallId,
  userContent,
} from '../../wire/chat-message-parts';
import { functionToolCalls, functionTools, refuseFunctionMessage } from '../../wire/function-tools';
import { jsonSchemaOf } from '../../wire/response-format';
import type { ChatCompletionRequest, ChatContentPart, ChatTextPart } from '../../wire/openai-chat';
import { thoughtSignatureOfToolCallId } from './gemini-tool-call-id';
import type { GeminiContent, GeminiPart, GeminiRequest } from './gemini-wire';
import { logprobsAsked, toGeminiLogprobsConfig } from './gemini-logprobs';
import { toGeminiSearchTool } from './to-gemini-search-tool';
import { toGeminiThinking } from './to-gemini-thinking';

function userParts(content: string | ChatContentPart[], param: string): GeminiPart[] {
  // Gemini refuses a text part that is empty ("Unable to submit request because it has an empty
  // text parameter"): it says nothing, so it is left out, and a user turn left with no part is
  // refused in `refuseEmptyTurn`. Whitespace-only text is taken, and sent as it is
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  return content.flatMap((part, index): GeminiPart[] => {
    if (part.type === 'text') return part.text.length > 0 ? [{ text: part.text }] : [];
    if (part.type !== 'image_url') {
      throw invalidRequest(
        `Content part type "${(part as { type: string }).type}" is not supported by this provider.`,
        `${param}.${index}.type`,
      );
    }
    const inline = parseDataUrl(part.image_url.url, `${param}.${index}.image_url.url`);
    if (inline !== undefined) return [{ inlineData: { mimeType: inline.mediaType, data: inline.data } }];
    // Gemini reads remote files through fileData; the URL must be one Gemini can fetch
    return [
      { fileData: { mimeType: imageMediaTypeFromUrl(part.image_url.url), fileUri: part.image_url.url } },
    ];
  });
}

/**
 * A tool message's content as a `functionResponse.response` object: the JSON object its text
 * parts make glued together (a client may split one anywhere, even inside a string), else its
 * text as `{ content }`, the parts joined with a line break (glued, "Sunny." and "21 degrees."
 * would run together), empty ones left out, as Ollama's messages and the Anthropic and Bedrock
 * tool results read as text are.
 */
function toolResponse(content: string | ChatTextPart[]): Record<string, unknown> {
  const texts = nonEmptyTexts(content);
  try {
    const parsed: unknown = JSON.parse(texts.join(''));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // a plain-text result is wrapped below
  }
  return { content: texts.join('\n') };
}

function generationConfig(
  request: ChatCompletionRequest,
  model: string,
): Record<string, unknown> | undefined {
  const config: Record<string, unknown> = {};
  const set = (key: string, value: unknown): void => {
    if (value !== undefined && value !== null) config[key] = value;
  };
  set('temperature', request.temperature);
  set('topP', request.top_p);
  set('maxOutputTokens', request.max_completion_tokens ?? request.max_tokens);
  set('candidateCount', request.n);
  set('presencePenalty', request.presence_penalty);
  set('frequencyPenalty', request.frequency_penalty);
  set('seed', request.seed);
  if (request.stop !== undefined && request.stop !== null)
    config['stopSequences'] = typeof request.stop === 'string' ? [request.stop] : request.stop;
  const format = request.response_format;
  if (format?.type === 'json_object') config['responseMimeType'] = 'application/json';
  if (format?.type === 'json_schema') {
    config['responseMimeType'] = 'application/json';
    const schema = jsonSchemaOf(format);
    if (schema !== undefined) config['responseJsonSchema'] = schema;
  }
  set('thinkingConfig', toGeminiThinking(request, model));
  Object.assign(config, toGeminiLogprobsConfig(logprobsAsked(request)));
  return Object.keys(config).length > 0 ? config : undefined;
}

/**
 * Whether a Gemini API model refuses `systemInstruction`: Gemma (`gemma-3-27b-it`, with or
 * without `models/`), which answers 400 "Developer instruction is not enabled for models/...".
 */
function refusesSystemInstruction(model: string): boolean {
  return /^(?:models\/)?gemma-/i.test(model);
}

/**
 * The system text put at the start of the first user turn, for a model that refuses
 * `systemInstruction`: before the first part of a conversation that opens with a user turn,
 * else in a user turn of its own ahead of it (turns still alternate).
 */
function withSystemInFirstUserTurn(
  contents: GeminiContent[],
  system: readonly GeminiPart[],
): GeminiContent[] {
  const text = `${system.map((part) => part.text ?? '').join('\n\n')}\n\n`;
  const [first, ...rest] = contents;
  if (first?.role === 'user') return [{ role: 'user', parts: [{ text }, ...first.parts] }, ...rest];
  return [{ role: 'user', parts: [{ text }] }, ...contents];
}

/**
 * Translates an OpenAI chat request to a Gemini `generateContent` body: system messages
 * become `systemInstruction` (for Gemma, which refuses it, text at the start of the first user
 * turn), `assistant` turns `model` turns, tool calls `functionCall` parts (with the thought
 * signature their id carries), tool messages `functionResponse` parts answered by function
 * name, and `web_search_options` the Google Search tool of `model` (the upstream model, by
 * default the request's; see `toGeminiSearchTool`).
 * @see https://ai.google.dev/api/generate-content#request-body
 */
export function toGeminiRequest(
  request: ChatCompletionRequest,
  model: string = request.model,
): GeminiRequest {
  const system: GeminiPart[] = [];
  // Gemini wants alternating turns: consecutive tool responses (and a user message after them) join one
  const turns: Array<AlternatingTurn<'user' | 'model', GeminiPart>> = [];
  const names = toolNamesById(request.messages);
  for (const [index, message] of request.messages.entries()) {
    switch (message.role) {
      case 'system':
      case 'developer':
        // each text part on its own (joined, "terse." and "Answer" would run together); an empty
        // one is refused as a user's is, and says nothing
        for (const text of nonEmptyTexts(message.content)) system.push({ text });
        break;
      case 'user':
        addToTurns(
          turns,
          index,
          'user',
          userParts(userContent(message.content, `messages.${index}.content`), `messages.${index}.content`),
        );
        break;
      case 'assistant': {
        const parts: GeminiPart[] = nonEmptyTexts(message.content).map((text) => ({ text }));
        for (const [t, call] of functionToolCalls(message, `messages.${index}`, 'Gemini').entries()) {
          // the signature goes back on the very part it came on (Gemini 3 checks it)
          const thoughtSignature = thoughtSignatureOfToolCallId(call.id);
          parts.push({
            functionCall: {
              name: call.function.name,
              args: parseToolArguments(
                call.function.arguments,
                `messages.${index}.tool_calls.${t}.function.arguments`,
              ),
            },
            ...(thoughtSignature === undefined ? {} : { thoughtSignature }),
          });
        }
        if (parts.length > 0) addToTurns(turns, index, 'model', parts);
        break;
      }
      case 'tool': {
        const id = toolResultCallId(message, `messages.${index}.tool_call_id`);
        const name = names.get(id);
        // Gemini answers a call by its function name: a result for no call of this request has none
        if (name === undefined)
          throw invalidRequest(
            `Tool message answers unknown tool call "${id}".`,
            `messages.${index}.tool_call_id`,
          );
        addToTurns(turns, index, 'user', [
          { functionResponse: { name, response: toolResponse(message.content) } },
        ]);
        break;
      }
      case 'function':
        refuseFunctionMessage(`messages.${index}`, 'Gemini');
    }
  }
  // A user turn with no part (its messages' text all empty, no image, no tool result): Gemini
  // refuses a content without parts ("contents.parts must not be empty"), and leaving it out
  // would make the turn before it the last or join two model turns
  refuseEmptyTurn(
    turns,
    'A user message has nothing to send to Gemini: its text is empty (which Gemini refuses), and no image or tool result goes with it.',
  );
  const body: GeminiRequest = {
    contents: turns.map((turn): GeminiContent => ({ role: turn.role, parts: turn.blocks })),
  };
  if (system.length > 0) {
    if (refusesSystemInstruction(model)) body.contents = withSystemInFirstUserTurn(body.contents, system);
    else body.systemInstruction = { parts: system };
  }
  // custom tools refused, `allowed_tools` narrowed to its functions: see function-tools.ts
  const { tools, choice } = functionTools(request, 'Gemini');
  if (tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: tools.map((tool) => ({
          name: tool.function.name,
          ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
          ...(tool.function.parameters === undefined
            ? {}
            : { parametersJsonSchema: tool.function.parameters }),
        })),
      },
    ];
  }
  const search = toGeminiSearchTool(request, model);
  if (search !== undefined) body.tools = [search];
  // Gemini refuses a functionCallingConfig in a request that declares no function ("Function
  // calling config is set without function_declarations"): with none, there is nothing to choose
  if (choice !== undefined && body.tools?.some((tool) => 'functionDeclarations' in tool) === true) {
    body.toolConfig =
      typeof choice === 'object'
        ? { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } }
        : {
            functionCallingConfig: {
              mode: choice === 'required' ? 'ANY' : choice === 'none' ? 'NONE' : 'AUTO',
            },
          };
  }
  const config = generationConfig(request, model);
  if (config !== undefined) body.generationConfig = config;
  return body;
}
