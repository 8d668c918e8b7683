import { isSwitchyardError, SwitchyardError } from '../errors/switchyard-error';
import type {
  AnthropicImageBlock,
  AnthropicMessagesRequest,
  AnthropicRequestBlock,
  AnthropicToolChoice,
} from '../providers/anthropic/anthropic-wire';
import { invalidRequest, unsupportedFeature } from '../wire/chat-message-parts';
import type {
  ChatCompletionRequest,
  ChatContentPart,
  ChatMessage,
  ChatTextPart,
  ChatTool,
  ChatToolCall,
  ChatToolChoice,
  ChatWebSearchOptions,
} from '../wire/openai-chat';

/** What a tool result flagged `is_error` is prefixed with: OpenAI's tool messages carry no error flag. */
export const TOOL_ERROR_PREFIX = 'Error: ';

/**
 * A turn's text blocks as one string, one per line: run together, they lose the boundary
 * between them (`</system-reminder>Hello`, `Part one.Part two.`). One string, not text parts:
 * OpenAI-compatible hosts such as DeepSeek refuse a message's content as an array. An empty
 * block adds no line.
 */
function joinedTexts(texts: readonly string[]): string {
  let joined = '';
  for (const text of texts) {
    if (text.length === 0) continue;
    joined = joined.length === 0 ? text : `${joined}\n${text}`;
  }
  return joined;
}

function imagePart(block: AnthropicImageBlock, param: string): ChatContentPart {
  const source = block.source as
    { type?: unknown; media_type?: unknown; data?: unknown; url?: unknown } | undefined;
  if (source?.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === 'url' && typeof source.url === 'string')
    return { type: 'image_url', image_url: { url: source.url } };
  throw invalidRequest(
    'An image source must be {type:"base64", media_type, data} or {type:"url", url}.',
    `${param}.source`,
  );
}

function textOf(block: { text?: unknown }, param: string): string {
  if (typeof block.text !== 'string')
    throw invalidRequest('A text block needs a string "text".', `${param}.text`);
  return block.text;
}

/**
 * Where a chat message came from in the client's request, as the client's params: the block
 * or message it was made of, its content, and each content part's and tool call's block.
 */
interface ChatMessageOrigin {
  /** `messages.2`, `messages.2.content.1` (a tool result), `system` or `system.0`. */
  at: string;
  content: string;
  parts?: string[];
  calls?: string[];
}

/** A `tool_result`'s content as the tool message's text, plus any images it carried (and their params, when `imageParams` is given). */
function toolResult(
  block: AnthropicRequestBlock,
  param: string,
  imageParams: string[] | undefined,
): { message: ChatMessage; images: ChatContentPart[] } {
  const result = block as { tool_use_id?: unknown; content?: unknown; is_error?: unknown };
  if (typeof result.tool_use_id !== 'string' || result.tool_use_id.length === 0)
    throw invalidRequest('A tool_result needs a "tool_use_id".', `${param}.tool_use_id`);
  let text = '';
  const images: ChatContentPart[] = [];
  if (typeof result.content === 'string') text = result.content;
  else if (Array.isArray(result.content)) {
    // a tool's several text blocks (an MCP tool's several items) one per line, not run together
    const texts: string[] = [];
    (result.content as AnthropicRequestBlock[]).forEach((part, index) => {
      const where = `${param}.content.${index}`;
      if (part.type === 'text') texts.push(textOf(part, where));
      else if (part.type === 'image') {
        images.push(imagePart(part, where));
        imageParams?.push(where);
      } else
        throw unsupportedFeature(
          `A tool_result may hold text and image blocks, not "${part.type}".`,
          `${where}.type`,
        );
    });
    text = texts.join('\n');
  } else if (result.content !== undefined && result.content !== null)
    throw invalidRequest(
      'A tool_result\'s "content" must be a string or an array of blocks.',
      `${param}.content`,
    );
  if (result.is_error === true) text = `${TOOL_ERROR_PREFIX}${text}`;
  return { message: { role: 'tool', tool_call_id: result.tool_use_id, content: text }, images };
}

function userMessages(
  content: AnthropicRequestBlock[],
  param: string,
  origins: ChatMessageOrigin[] | undefined,
): ChatMessage[] {
  // OpenAI wants tool results right after the assistant's tool calls, so they come first
  const tools: ChatMessage[] = [];
  const parts: ChatContentPart[] = [];
  // where each tool message and part came from, only when the mapping is asked for
  const toolOrigins: ChatMessageOrigin[] | undefined = origins === undefined ? undefined : [];
  const partParams: string[] | undefined = origins === undefined ? undefined : [];
  content.forEach((block, index) => {
    const where = `${param}.${index}`;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: textOf(block, where) });
        partParams?.push(where);
        break;
      case 'image':
        parts.push(imagePart(block, where));
        partParams?.push(where);
        break;
      case 'tool_result': {
        const { message, images } = toolResult(block, where, partParams);
        tools.push(message);
        toolOrigins?.push({ at: where, content: `${where}.content` });
        parts.push(...images);
        break;
      }
      default:
        throw unsupportedFeature(
          `Content block type "${block.type}" is not supported in a user turn by the gateway.`,
          `${where}.type`,
        );
    }
  });
  if (toolOrigins !== undefined) origins?.push(...toolOrigins);
  // A turn of tool results only is answered by its tool messages. A turn with no block at all
  // (`content: []`) stays an empty user message, as `content: ""` does: left out, the turn before
  // it would end the request (an assistant turn read as a prefill) or join the one after, a
  // different request than the client's; a provider that refuses empty content names it
  if (parts.length === 0 && tools.length > 0) return tools;
  const onlyText = parts.every((part): part is ChatTextPart => part.type === 'text');
  const user: ChatMessage = {
    role: 'user',
    content: onlyText ? joinedTexts(parts.map((part) => part.text)) : parts,
  };
  origins?.push({
    at: param.slice(0, -'.content'.length),
    content: param,
    ...(onlyText ? {} : { parts: partParams }),
  });
  return [...tools, user];
}

function assistantMessage(
  content: AnthropicRequestBlock[],
  param: string,
  origins: ChatMessageOrigin[] | undefined,
): ChatMessage {
  const texts: string[] = [];
  const calls: ChatToolCall[] = [];
  const callParams: string[] | undefined = origins === undefined ? undefined : [];
  content.forEach((block, index) => {
    const where = `${param}.${index}`;
    switch (block.type) {
      case 'text':
        texts.push(textOf(block, where));
        break;
      case 'tool_use': {
        const use = block as { id?: unknown; name?: unknown; input?: unknown };
        if (typeof use.id !== 'string' || typeof use.name !== 'string')
          throw invalidRequest('A tool_use block needs an "id" and a "name".', where);
        calls.push({
          id: use.id,
          type: 'function',
          function: { name: use.name, arguments: JSON.stringify(use.input ?? {}) },
        });
        callParams?.push(where);
        break;
      }
      case 'thinking':
      case 'redacted_thinking':
        // earlier reasoning is the provider's own business: other providers cannot verify it
        break;
      default:
        throw unsupportedFeature(
          `Content block type "${block.type}" is not supported in an assistant turn by the gateway.`,
          `${where}.type`,
        );
    }
  });
  origins?.push({ at: param.slice(0, -'.content'.length), content: param, calls: callParams });
  const text = joinedTexts(texts);
  return {
    role: 'assistant',
    content: text.length > 0 || calls.length === 0 ? text : null,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  };
}

/** Whether a tool is Anthropic's web search server tool (`web_search_20250305` and its later versions). */
function isWebSearchTool(tool: unknown): boolean {
  const kind = (tool as { type?: unknown }).type;
  return typeof kind === 'string' && kind.startsWith('web_search_');
}

/**
 * Anthropic's web search server tool as OpenAI's `web_search_options`, which the providers that
 * search take (`gemini`: Google Search) and the others refuse: `user_location` becomes OpenAI's
 * approximate location; `max_uses` is dropped (the providers the gateway asks to search take no
 * cap on their searches); `allowed_domains` and `blocked_domains` are refused, being restrictions
 * none of them can honour.
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool
 */
function webSearchOptions(tool: Record<string, unknown>, param: string): ChatWebSearchOptions {
  for (const field of ['allowed_domains', 'blocked_domains']) {
    const domains = tool[field];
    if (domains !== undefined && domains !== null && !(Array.isArray(domains) && domains.length === 0)) {
      throw unsupportedFeature(
        `The web search tool's "${field}" cannot be honoured through the gateway: the providers it asks to search cannot be restricted to or from domains.`,
        `${param}.${field}`,
      );
    }
  }
  const options: ChatWebSearchOptions = {};
  const location = tool['user_location'];
  if (typeof location === 'object' && location !== null) {
    const approximate: Record<string, string> = {};
    for (const field of ['city', 'region', 'country', 'timezone']) {
      const value = (location as Record<string, unknown>)[field];
      if (typeof value === 'string' && value.length > 0) approximate[field] = value;
    }
    if (Object.keys(approximate).length > 0) options.user_location = { type: 'approximate', approximate };
  }
  return options;
}

function toolChoice(choice: AnthropicToolChoice): ChatToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}

/**
 * Anthropic Messages request -> the engine's OpenAI chat request: `system` (a string or text
 * blocks) becomes system messages, `tool_use` blocks assistant `tool_calls`, `tool_result`
 * blocks `tool` messages (placed before the rest of their user turn; `is_error` becomes a
 * text prefix), images `image_url` parts (base64 as data URLs), `tool_choice` OpenAI's
 * (`any` is `required`), `stop_sequences` `stop`, `metadata.user_id` `user`, the web search
 * server tool `web_search_options` (other server tools are refused); a message with no
 * blocks (`content: []`) an empty message of its role, as `content: ""` gives. A stream asks
 * for usage, which `message_delta` reports. `top_k` is dropped (OpenAI's request has no such
 * field, and not every provider takes one); `cache_control` marks and `thinking` are ignored.
 * @see https://docs.anthropic.com/en/api/messages
 */
export function messagesToChatRequest(request: AnthropicMessagesRequest): ChatCompletionRequest {
  return translate(request, undefined);
}

/** An Anthropic Messages request as the engine's chat request, and the way back to the client's params. */
export interface MessagesIngressRequest {
  /** The chat request, as {@link messagesToChatRequest} returns it. */
  chat: ChatCompletionRequest;
  /**
   * A param of the chat request (`messages.<i>...`, as a provider's translator names it) as the
   * client's own: `system` prepends messages and a `tool_result` block becomes a `tool` message
   * of its own, so chat message i is not the client's message i. `web_search_options` (and a
   * field of it) is the web search tool it was made of, `tools.<i>`. Other params are returned as they are.
   */
  clientParam: (param: string) => string;
  /**
   * A failure of the chat request with its `param` as {@link clientParam} gives it (anything else
   * as it is). `sent` is the messages the engine sent after its `beforeRequest` taps, when known:
   * a plugin may have added, dropped or condensed messages, so index i of `sent` is found by
   * identity in the chat request's messages (middle-out and drop-oldest keep the message objects
   * they do not drop) and named as the client's message there. A message of `sent` that is none
   * of the chat request's (a summary, a truncated copy, a plugin's system prompt) is none of the
   * client's either: its `messages.<i>...` param becomes `messages`. The mapping is worked out
   * here, on a failure naming a message: a request that succeeds pays nothing for it.
   */
  clientError: (thrown: unknown, sent?: readonly ChatMessage[]) => unknown;
}

/**
 * {@link messagesToChatRequest}, with the way back from an error raised for the chat request (a
 * provider's translator refusing `messages.3.content`) to what the client sent (`messages.1.content`).
 */
export function translateMessagesRequest(request: AnthropicMessagesRequest): MessagesIngressRequest {
  const chat = translate(request, undefined);
  const translated = chat.messages;
  const count = translated.length;
  let origins: ChatMessageOrigin[] | undefined;
  // translated again, keeping where each chat message came from: only when a param is mapped
  // `web_search_options` is made of the web search tool: a refusal of it names the tool
  const searchTool = (request.tools ?? []).findIndex(isWebSearchTool);
  const clientParam = (param: string): string => {
    if (searchTool >= 0 && (param === 'web_search_options' || param.startsWith('web_search_options.')))
      return `tools.${searchTool}`;
    if (!param.startsWith('messages.')) return param;
    if (origins === undefined) {
      const kept: ChatMessageOrigin[] = [];
      translate(request, kept);
      origins = kept;
    }
    return clientParamOf(param, origins);
  };
  return {
    chat,
    clientParam,
    clientError: (thrown, sent) =>
      withClientParam(
        thrown,
        sent === undefined
          ? clientParam
          : (param) =>
              sentParamOf(param, sent, translated.length === count ? translated : undefined, clientParam),
      ),
  };
}

/**
 * A param of the messages the engine sent as the client's: sent message i is found by identity
 * among the route's `own` messages (undefined when a tap edited the route's array in place, whose
 * positions then say nothing), and named as the client's message it came from; `messages` when it
 * is none of them (a summary, a truncated copy, a plugin's system prompt).
 */
function sentParamOf(
  param: string,
  sent: readonly ChatMessage[],
  own: readonly ChatMessage[] | undefined,
  clientParam: (param: string) => string,
): string {
  const at = /^messages\.(\d+)(.*)$/.exec(param);
  if (at === null) return clientParam(param);
  const message = sent[Number(at[1])];
  const index = message === undefined || own === undefined ? -1 : own.indexOf(message);
  return index < 0 ? 'messages' : clientParam(`messages.${index}${at[2] ?? ''}`);
}

/** The chat request; `origins`, when given, gets where each chat message came from, in order. */
function translate(
  request: AnthropicMessagesRequest,
  origins: ChatMessageOrigin[] | undefined,
): ChatCompletionRequest {
  const messages: ChatMessage[] = [];
  if (typeof request.system === 'string') {
    if (request.system.length > 0) {
      messages.push({ role: 'system', content: request.system });
      origins?.push({ at: 'system', content: 'system' });
    }
  } else if (request.system !== undefined) {
    request.system.forEach((block, index) => {
      messages.push({ role: 'system', content: textOf(block, `system.${index}`) });
      origins?.push({ at: `system.${index}`, content: `system.${index}.text` });
    });
  }
  request.messages.forEach((message, index) => {
    const param = `messages.${index}.content`;
    if (typeof message.content === 'string') {
      messages.push({ role: message.role, content: message.content });
      origins?.push({ at: `messages.${index}`, content: param });
    } else if (message.role === 'user') messages.push(...userMessages(message.content, param, origins));
    else messages.push(assistantMessage(message.content, param, origins));
  });
  const chat: ChatCompletionRequest = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0)
    chat.stop = request.stop_sequences;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  const functions: ChatTool[] = [];
  let webSearchTool: string | undefined;
  for (const [index, tool] of (request.tools ?? []).entries()) {
    const kind = (tool as { type?: unknown }).type;
    if (isWebSearchTool(tool)) {
      if (webSearchTool !== undefined)
        throw unsupportedFeature('A request may hold one web search tool.', `tools.${index}`);
      webSearchTool = tool.name;
      chat.web_search_options = webSearchOptions(
        tool as unknown as Record<string, unknown>,
        `tools.${index}`,
      );
      continue;
    }
    if (kind !== undefined && kind !== 'custom') {
      throw unsupportedFeature(
        `Server tool "${typeof kind === 'string' ? kind : JSON.stringify(kind)}" runs only on Anthropic's own API, not through the gateway (of the server tools, only web search is translated).`,
        `tools.${index}.type`,
      );
    }
    functions.push({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.input_schema ?? { type: 'object', properties: {} },
      },
    });
  }
  if (functions.length > 0) chat.tools = functions;
  // the providers search when the model decides to: none can be made to
  if (
    request.tool_choice?.type === 'tool' &&
    webSearchTool !== undefined &&
    request.tool_choice.name === webSearchTool
  ) {
    throw unsupportedFeature(
      '"tool_choice" cannot name the web search tool through the gateway: the providers behind it search when the model decides to.',
      'tool_choice.name',
    );
  }
  // OpenAI refuses a tool_choice without tools; with none, "none" is what the model does anyway
  if (request.tool_choice !== undefined && chat.tools !== undefined) {
    chat.tool_choice = toolChoice(request.tool_choice);
    if (
      'disable_parallel_tool_use' in request.tool_choice &&
      request.tool_choice.disable_parallel_tool_use === true
    )
      chat.parallel_tool_calls = false;
  }
  const user = request.metadata?.user_id;
  if (typeof user === 'string' && user.length > 0) chat.user = user;
  if (request.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

/** What follows a content part's param in the chat request, as what follows its block's. */
const PART_FIELDS: Record<string, string> = {
  '.type': '.type',
  '.text': '.text',
  '.image_url': '.source',
  '.image_url.url': '.source',
};
/** What follows a tool call's param in the chat request, as what follows its `tool_use` block's. */
const CALL_FIELDS: Record<string, string> = {
  '.id': '.id',
  '.function.name': '.name',
  '.function.arguments': '.input',
};

function clientParamOf(param: string, origins: readonly ChatMessageOrigin[]): string {
  const message = /^messages\.(\d+)(.*)$/.exec(param);
  const origin = message === null ? undefined : origins[Number(message[1])];
  if (message === null || origin === undefined) return param;
  const rest = message[2] ?? '';
  if (rest === '') return origin.at;
  if (rest === '.content') return origin.content;
  if (rest === '.tool_call_id') return `${origin.at}.tool_use_id`;
  const part = /^\.content\.(\d+)(.*)$/.exec(rest);
  const partAt = part === null ? undefined : origin.parts?.[Number(part[1])];
  if (part !== null)
    return partAt === undefined ? origin.content : `${partAt}${PART_FIELDS[part[2] ?? ''] ?? ''}`;
  const call = /^\.tool_calls\.(\d+)(.*)$/.exec(rest);
  const callAt = call === null ? undefined : origin.calls?.[Number(call[1])];
  if (call !== null && callAt !== undefined) return `${callAt}${CALL_FIELDS[call[2] ?? ''] ?? ''}`;
  // a field the client's request has no counterpart of: the message (or block) it is in
  return origin.at;
}

/** `thrown` with its param named as the client's: a copy with every other field kept, the provider's code too. */
function withClientParam(thrown: unknown, clientParam: (param: string) => string): unknown {
  if (!isSwitchyardError(thrown) || thrown.param === undefined) return thrown;
  const param = clientParam(thrown.param);
  if (param === thrown.param) return thrown;
  const {
    code,
    message,
    cause,
    provider,
    retryAfterMs,
    upstreamStatus,
    providerCode,
    status,
    beforeSending,
  } = thrown;
  const error = new SwitchyardError(code, message, {
    cause,
    provider,
    param,
    retryAfterMs,
    upstreamStatus,
    providerCode,
    status,
    beforeSending,
  });
  if (thrown.stack !== undefined) error.stack = thrown.stack;
  return error;
}
