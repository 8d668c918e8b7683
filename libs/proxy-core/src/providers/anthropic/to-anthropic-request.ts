import { addToTurns, refuseEmptyTurn, type AlternatingTurn } from '../../wire/alternating-turns';
import {
  invalidRequest,
  isBlankText,
  nonBlankTexts,
  parseDataUrl,
  parseToolArguments,
  refuseResponseFormat,
  refuseSeveralChoices,
  refuseTemperatureAboveOne,
  refuseWebSearch,
  stopsWithoutEmpty,
  toolResultCallId,
  toolUseBlockId,
  userContent,
} from '../../wire/chat-message-parts';
import {
  functionToolCalls,
  functionTools,
  refuseFunctionMessage,
  type FunctionToolChoice,
} from '../../wire/function-tools';
import { toolCallText, toolResultText } from '../../wire/tool-history-text';
import type { ChatCompletionRequest, ChatContentPart, ChatMessage } from '../../wire/openai-chat';
import type {
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicRequestBlock,
  AnthropicTextBlock,
  AnthropicToolChoice,
  AnthropicToolResultBlock,
} from './anthropic-wire';

/** What the request mapping needs besides the request. */
export interface ToAnthropicRequestSettings {
  /** The upstream model id. */
  model: string;
  stream: boolean;
  /** `max_tokens` when the request sets none (Anthropic requires it). */
  defaultMaxTokens: number;
}

/** An OpenAI image URL (http(s) or base64 `data:`) -> an Anthropic image block. */
export function toAnthropicImage(url: string, param: string): AnthropicImageBlock {
  const inline = parseDataUrl(url, param);
  if (inline !== undefined)
    return { type: 'image', source: { type: 'base64', media_type: inline.mediaType, data: inline.data } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalidRequest('Images must be http(s) URLs or base64 data URLs.', param);
}

/** A system, assistant or tool message's text as text blocks, blank ones left out (Anthropic refuses them). */
function textBlocks(content: string | readonly ChatContentPart[] | null | undefined): AnthropicTextBlock[] {
  return nonBlankTexts(content).map((text) => ({ type: 'text', text }));
}

function userBlocks(content: string | ChatContentPart[], param: string): AnthropicRequestBlock[] {
  // Anthropic refuses a text block that is empty or whitespace only ("text content blocks must
  // contain non-whitespace text"): blank text says nothing, so it is left out, and a user turn
  // left with nothing to send is refused in `turns`
  if (typeof content === 'string') return isBlankText(content) ? [] : [{ type: 'text', text: content }];
  return content.flatMap((part, index): AnthropicRequestBlock[] => {
    if (part.type === 'text') return isBlankText(part.text) ? [] : [{ type: 'text', text: part.text }];
    if (part.type === 'image_url')
      return [toAnthropicImage(part.image_url.url, `${param}.${index}.image_url.url`)];
    throw invalidRequest(
      `Content part type "${(part as { type: string }).type}" is not supported by this provider.`,
      `${param}.${index}.type`,
    );
  });
}

function messageBlocks(message: ChatMessage, index: number): AnthropicRequestBlock[] {
  const param = `messages.${index}`;
  switch (message.role) {
    case 'user':
      return userBlocks(userContent(message.content, `${param}.content`), `${param}.content`);
    case 'assistant': {
      // Anthropic refuses a text block of whitespace only ("text content blocks must contain
      // non-whitespace text"); an assistant's blank text says nothing, so it is left out
      const blocks: AnthropicRequestBlock[] = textBlocks(message.content);
      for (const [t, call] of functionToolCalls(message, param, 'Anthropic').entries()) {
        blocks.push({
          type: 'tool_use',
          id: toolUseBlockId(call.id),
          name: call.function.name,
          input: parseToolArguments(call.function.arguments, `${param}.tool_calls.${t}.function.arguments`),
        });
      }
      return blocks;
    }
    case 'tool': {
      // A tool_result's content is optional (only an is_error result, which the gateway never
      // sends, must have some): a blank result, a tool that printed nothing, goes without it
      // rather than as text Anthropic may refuse as blank; several text parts go as blocks
      const texts = textBlocks(message.content);
      const id = toolUseBlockId(toolResultCallId(message, `${param}.tool_call_id`));
      if (texts.length === 0) return [{ type: 'tool_result', tool_use_id: id }];
      return [{ type: 'tool_result', tool_use_id: id, content: texts.length === 1 ? texts[0]?.text : texts }];
    }
    case 'system':
    case 'developer':
      return [];
    case 'function':
      return refuseFunctionMessage(param, 'Anthropic');
  }
}

function turns(messages: ChatMessage[]): AnthropicMessageParam[] {
  const result: Array<AlternatingTurn<'user' | 'assistant', AnthropicRequestBlock>> = [];
  messages.forEach((message, index) => {
    if (message.role === 'system' || message.role === 'developer') return;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = messageBlocks(message, index);
    // Anthropic refuses a message with empty content ("all messages must have non-empty
    // content except for the optional final assistant message"), and an assistant turn
    // without text or tool calls (a client replaying an empty answer) says nothing: it is
    // left out. A final one too: it would be a prefill of nothing, which continues no text,
    // and models that take no prefill (Claude Opus 4.6 on) refuse any final assistant turn.
    // The user turns on either side then join into one below, so turns still alternate.
    if (role === 'assistant' && blocks.length === 0) return;
    // Anthropic wants alternating turns: consecutive tool results (and a user message after
    // them) become one user turn, tool results first
    addToTurns(result, index, role, blocks);
  });
  // A user turn with nothing to send (its messages' text all blank, no image, no tool result):
  // Anthropic refuses empty content ("all messages must have non-empty content"), and padding
  // it would ask the model to answer nothing, so the request is refused naming the message
  refuseEmptyTurn(
    result,
    'A user message has nothing to send to Anthropic: its text is empty or whitespace only (which Anthropic refuses), and no image or tool result goes with it.',
  );
  return result.map((turn) => ({ role: turn.role, content: turn.blocks }));
}

/** What a tool result block held, as text. */
function resultText(content: AnthropicToolResultBlock['content']): string {
  if (content === undefined || typeof content === 'string') return content ?? '';
  return content.map((block) => (block.type === 'text' ? block.text : '[image]')).join('\n');
}

/**
 * A conversation's tool blocks as text (see toolCallText), for a request that defines no tools:
 * Anthropic refuses `tool_use` and `tool_result` blocks then ("Requests which include `tool_use`
 * or `tool_result` blocks must define tools"). With tools given, `tool_choice: "none"` is
 * Anthropic's own, and the blocks stay blocks.
 */
function toolBlocksAsText(messages: AnthropicMessageParam[]): AnthropicMessageParam[] {
  const names = new Map<string, string>();
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const block of message.content) if (block.type === 'tool_use') names.set(block.id, block.name);
  }
  let changed = false;
  const result = messages.map((message): AnthropicMessageParam => {
    if (typeof message.content === 'string') return message;
    return {
      role: message.role,
      content: message.content.map((block): AnthropicRequestBlock => {
        if (block.type === 'tool_use') {
          changed = true;
          return { type: 'text', text: toolCallText(block.name, block.input) };
        }
        if (block.type === 'tool_result') {
          changed = true;
          return {
            type: 'text',
            text: toolResultText(names.get(block.tool_use_id), resultText(block.content)),
          };
        }
        return block;
      }),
    };
  });
  return changed ? result : messages;
}

function systemBlocks(messages: ChatMessage[]): AnthropicTextBlock[] {
  return messages.flatMap((message): AnthropicTextBlock[] => {
    if (message.role !== 'system' && message.role !== 'developer') return [];
    // a blank system text block is refused as a user's is, and says nothing
    return textBlocks(message.content);
  });
}

function toolChoice(
  choice: FunctionToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', ...disable } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  return { type: 'tool', name: choice.name, ...disable };
}

/** The client's `stop` split for Anthropic (see {@link anthropicStops}). */
export interface AnthropicStops {
  /** Sent as `stop_sequences`. */
  sent: string[];
  /** Applied by the gateway to the answer: Anthropic refuses them. */
  local: string[];
}

const NO_STOPS: AnthropicStops = { sent: [], local: [] };

/**
 * The client's `stop` split for Anthropic, which refuses a stop sequence of whitespace only
 * with a 400 ("each stop sequence must contain non-whitespace"), where OpenAI takes one (`"\n"`
 * ends a one-line completion): those are applied by the gateway to the answer instead (`local`:
 * `fromAnthropicResponse` and `AnthropicStreamMapper` end the text at the first one), the others
 * are sent. An empty sequence is neither (it would stop before anything, and Anthropic answers it
 * with a 400, "each stop sequence must be non-empty", which would end the route): it is refused
 * with `unsupported_feature` naming it (`stop`, or `stop.<i>` in a list) before any upstream
 * call, as Bedrock refuses it, so another target takes the request.
 * @see https://docs.anthropic.com/en/api/messages
 */
export function anthropicStops(stop: ChatCompletionRequest['stop']): AnthropicStops {
  const sequences = stopsWithoutEmpty(
    stop,
    'Anthropic refuses an empty stop sequence (each must say something): leave it out of "stop".',
  );
  if (sequences === undefined) return NO_STOPS;
  const sent: string[] = [];
  const local: string[] = [];
  for (const sequence of sequences) (isBlankText(sequence) ? local : sent).push(sequence);
  return { sent, local };
}

/**
 * OpenAI chat request -> Anthropic Messages body: system and developer messages become
 * `system`, tool calls `tool_use` blocks, tool messages `tool_result` blocks in one user turn,
 * images base64 or URL sources; `max_tokens` defaults, `stop` becomes `stop_sequences` (but
 * for the whitespace-only sequences the gateway applies: {@link anthropicStops}),
 * `top_p` is sent only without `temperature`, a `temperature` above Anthropic's 1 is refused.
 * @see https://docs.anthropic.com/en/api/messages
 */
export function toAnthropicRequest(
  request: ChatCompletionRequest,
  settings: ToAnthropicRequestSettings,
): AnthropicMessagesRequest {
  refuseSeveralChoices(request.n, 'Anthropic returns one choice per request; "n" must be 1.');
  refuseWebSearch(request, 'Anthropic');
  refuseResponseFormat(request, 'Anthropic');
  refuseTemperatureAboveOne(request, 'Anthropic');
  // custom tools refused, `allowed_tools` narrowed to its functions: see function-tools.ts
  const { tools, choice: asked } = functionTools(request, 'Anthropic');
  const body: AnthropicMessagesRequest = {
    model: settings.model,
    messages: turns(request.messages),
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? settings.defaultMaxTokens,
  };
  const system = systemBlocks(request.messages);
  if (system.length > 0) body.system = system;
  const { sent } = anthropicStops(request.stop);
  if (sent.length > 0) body.stop_sequences = sent;
  // Anthropic asks for one of temperature and top_p, never both, and its current models (Claude
  // Opus 4.1, Sonnet 4.5, Haiku 4.5 and later) refuse the two together with a 400. OpenAI clients
  // often send both (top_p: 1 as a default): temperature, the knob Anthropic leads with, is sent
  if (typeof request.temperature === 'number') body.temperature = request.temperature;
  else if (typeof request.top_p === 'number') body.top_p = request.top_p;
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
      input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    }));
  }
  if (body.tools === undefined) body.messages = toolBlocksAsText(body.messages);
  // Anthropic rejects a tool_choice without tools
  const choice = body.tools === undefined ? undefined : toolChoice(asked, request.parallel_tool_calls);
  if (choice !== undefined) body.tool_choice = choice;
  if (typeof request.user === 'string' && request.user.length > 0) body.metadata = { user_id: request.user };
  if (settings.stream) body.stream = true;
  return body;
}
