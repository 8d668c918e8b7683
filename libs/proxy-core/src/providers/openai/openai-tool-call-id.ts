import { createHash } from 'node:crypto';
import { toolCallIdWithoutSignature } from '../../wire/chat-message-parts';
import type { ChatMessage, ChatToolCall } from '../../wire/openai-chat';

/**
 * The longest tool-call id OpenAI accepts in `tool_calls[].id` and `tool_call_id`: a longer one
 * is a 400 `string_above_max_length` ("string too long. Expected a string with maximum length 40").
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
export const OPENAI_MAX_TOOL_CALL_ID_LENGTH = 40;

const HASHED_PREFIX = 'call_';

// `unknown`: the request schema leaves a tool message's `tool_call_id` optional
function isLong(id: unknown): id is string {
  return typeof id === 'string' && id.length > OPENAI_MAX_TOOL_CALL_ID_LENGTH;
}

/**
 * A tool-call id OpenAI accepts: an id of at most 40 characters as it is; a longer one without
 * the Gemini thought signature folded into it, when that is short enough; otherwise `call_` and
 * the first 35 characters of the base64url SHA-256 of that id. The gateway's own ids for Gemini
 * calls (`call_chatcmpl-<uuid>_0_0`, 54 characters) and other providers' ids (OpenAI's
 * Responses API `fc_...`, 53) exceed it, so a conversation begun there fails on OpenAI without
 * this. Deterministic, so a tool call and its result, mapped apart, still match; and stateless,
 * so any gateway instance maps a replayed conversation the same way.
 */
export function openAIToolCallId(id: string): string {
  if (!isLong(id)) return id;
  const base = toolCallIdWithoutSignature(id);
  if (!isLong(base)) return base;
  const hash = createHash('sha256').update(base).digest('base64url');
  return `${HASHED_PREFIX}${hash.slice(0, OPENAI_MAX_TOOL_CALL_ID_LENGTH - HASHED_PREFIX.length)}`;
}

function hasLongToolCallId(message: ChatMessage): boolean {
  if (message.role === 'tool') return isLong(message.tool_call_id);
  return message.role === 'assistant' && message.tool_calls !== undefined && message.tool_calls.some((call) => isLong(call.id));
}

function shortCall(call: ChatToolCall): ChatToolCall {
  return isLong(call.id) ? { ...call, id: openAIToolCallId(call.id) } : call;
}

/**
 * The messages with every tool-call id over 40 characters replaced by {@link openAIToolCallId}.
 * The same array when none is (the common case: one pass over the messages, nothing copied);
 * otherwise a new array sharing every message it leaves alone, so the client's request is
 * never changed in place.
 */
export function withOpenAIToolCallIds(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some(hasLongToolCallId)) return messages;
  return messages.map((message): ChatMessage => {
    if (!hasLongToolCallId(message)) return message;
    if (message.role === 'tool') return { ...message, tool_call_id: openAIToolCallId(message.tool_call_id) };
    if (message.role === 'assistant') return { ...message, tool_calls: (message.tool_calls ?? []).map(shortCall) };
    return message;
  });
}
