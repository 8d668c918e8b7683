import { SwitchyardError } from '../errors/switchyard-error';
import type { AnthropicImageBlock, AnthropicMessagesRequest, AnthropicRequestBlock, AnthropicToolChoice } from '../providers/anthropic/anthropic-wire';
import { invalidRequest } from '../wire/chat-message-parts';
import type { ChatCompletionRequest, ChatContentPart, ChatMessage, ChatTextPart, ChatToolCall, ChatToolChoice } from '../wire/openai-chat';

/** What a tool result flagged `is_error` is prefixed with: OpenAI's tool messages carry no error flag. */
export const TOOL_ERROR_PREFIX = 'Error: ';

function unsupported(message: string, param: string): SwitchyardError {
  return new SwitchyardError('unsupported_feature', message, { param });
}

function imagePart(block: AnthropicImageBlock, param: string): ChatContentPart {
  const source = block.source as { type?: unknown; media_type?: unknown; data?: unknown; url?: unknown } | undefined;
  if (source?.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === 'url' && typeof source.url === 'string') return { type: 'image_url', image_url: { url: source.url } };
  throw invalidRequest('An image source must be {type:"base64", media_type, data} or {type:"url", url}.', `${param}.source`);
}

function textOf(block: { text?: unknown }, param: string): string {
  if (typeof block.text !== 'string') throw invalidRequest('A text block needs a string "text".', `${param}.text`);
  return block.text;
}

/** A `tool_result`'s content as the tool message's text, plus any images it carried. */
function toolResult(block: AnthropicRequestBlock, param: string): { message: ChatMessage; images: ChatContentPart[] } {
  const result = block as { tool_use_id?: unknown; content?: unknown; is_error?: unknown };
  if (typeof result.tool_use_id !== 'string' || result.tool_use_id.length === 0) throw invalidRequest('A tool_result needs a "tool_use_id".', `${param}.tool_use_id`);
  let text = '';
  const images: ChatContentPart[] = [];
  if (typeof result.content === 'string') text = result.content;
  else if (Array.isArray(result.content)) {
    (result.content as AnthropicRequestBlock[]).forEach((part, index) => {
      const where = `${param}.content.${index}`;
      if (part.type === 'text') text += textOf(part, where);
      else if (part.type === 'image') images.push(imagePart(part, where));
      else throw unsupported(`A tool_result may hold text and image blocks, not "${part.type}".`, `${where}.type`);
    });
  } else if (result.content !== undefined && result.content !== null) throw invalidRequest('A tool_result\'s "content" must be a string or an array of blocks.', `${param}.content`);
  if (result.is_error === true) text = `${TOOL_ERROR_PREFIX}${text}`;
  return { message: { role: 'tool', tool_call_id: result.tool_use_id, content: text }, images };
}

function userMessages(content: AnthropicRequestBlock[], param: string): ChatMessage[] {
  // OpenAI wants tool results right after the assistant's tool calls, so they come first
  const tools: ChatMessage[] = [];
  const parts: ChatContentPart[] = [];
  content.forEach((block, index) => {
    const where = `${param}.${index}`;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: textOf(block, where) });
        break;
      case 'image':
        parts.push(imagePart(block, where));
        break;
      case 'tool_result': {
        const { message, images } = toolResult(block, where);
        tools.push(message);
        parts.push(...images);
        break;
      }
      default:
        throw unsupported(`Content block type "${block.type}" is not supported in a user turn by the gateway.`, `${where}.type`);
    }
  });
  if (parts.length === 0) return tools;
  const onlyText = parts.every((part): part is ChatTextPart => part.type === 'text');
  const user: ChatMessage = { role: 'user', content: onlyText ? parts.map((part) => part.text).join('') : parts };
  return [...tools, user];
}

function assistantMessage(content: AnthropicRequestBlock[], param: string): ChatMessage {
  let text = '';
  const calls: ChatToolCall[] = [];
  content.forEach((block, index) => {
    const where = `${param}.${index}`;
    switch (block.type) {
      case 'text':
        text += textOf(block, where);
        break;
      case 'tool_use': {
        const use = block as { id?: unknown; name?: unknown; input?: unknown };
        if (typeof use.id !== 'string' || typeof use.name !== 'string') throw invalidRequest('A tool_use block needs an "id" and a "name".', where);
        calls.push({ id: use.id, type: 'function', function: { name: use.name, arguments: JSON.stringify(use.input ?? {}) } });
        break;
      }
      case 'thinking':
      case 'redacted_thinking':
        // earlier reasoning is the provider's own business: other providers cannot verify it
        break;
      default:
        throw unsupported(`Content block type "${block.type}" is not supported in an assistant turn by the gateway.`, `${where}.type`);
    }
  });
  return { role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null, ...(calls.length > 0 ? { tool_calls: calls } : {}) };
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
 * (`any` is `required`), `stop_sequences` `stop`, `metadata.user_id` `user`. A stream asks
 * for usage, which `message_delta` reports. `top_k` is dropped (OpenAI's request has no such
 * field, and not every provider takes one); `cache_control` marks and `thinking` are ignored.
 * @see https://docs.anthropic.com/en/api/messages
 */
export function messagesToChatRequest(request: AnthropicMessagesRequest): ChatCompletionRequest {
  const messages: ChatMessage[] = [];
  if (typeof request.system === 'string') {
    if (request.system.length > 0) messages.push({ role: 'system', content: request.system });
  } else if (request.system !== undefined) {
    request.system.forEach((block, index) => {
      messages.push({ role: 'system', content: textOf(block, `system.${index}`) });
    });
  }
  request.messages.forEach((message, index) => {
    const param = `messages.${index}.content`;
    if (typeof message.content === 'string') messages.push({ role: message.role, content: message.content });
    else if (message.role === 'user') messages.push(...userMessages(message.content, param));
    else messages.push(assistantMessage(message.content, param));
  });
  const chat: ChatCompletionRequest = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) chat.stop = request.stop_sequences;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.tools !== undefined && request.tools.length > 0) {
    chat.tools = request.tools.map((tool, index) => {
      const kind = (tool as { type?: unknown }).type;
      if (kind !== undefined && kind !== 'custom') {
        throw unsupported(`Server tool "${typeof kind === 'string' ? kind : JSON.stringify(kind)}" runs only on Anthropic's own API, not through the gateway.`, `tools.${index}.type`);
      }
      return {
        type: 'function' as const,
        function: {
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          parameters: tool.input_schema ?? { type: 'object', properties: {} },
        },
      };
    });
  }
  // OpenAI refuses a tool_choice without tools; with none, "none" is what the model does anyway
  if (request.tool_choice !== undefined && chat.tools !== undefined) {
    chat.tool_choice = toolChoice(request.tool_choice);
    if ('disable_parallel_tool_use' in request.tool_choice && request.tool_choice.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
  }
  const user = request.metadata?.user_id;
  if (typeof user === 'string' && user.length > 0) chat.user = user;
  if (request.stream === true) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}
