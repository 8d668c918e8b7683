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

/**
 * The tool-call ids a host accepts: `openai`, at most 40 characters (OpenAI, Azure OpenAI and
 * most compatible hosts); `mistral`, exactly nine letters and digits (Mistral's API answers any
 * other id with a 400 "Tool call id was ... but must be a-z, A-Z, 0-9, with a length of 9", so
 * a conversation begun on another provider fails there without this).
 */
export type ToolCallIdFormat = 'openai' | 'mistral';

// `unknown`: the request schema leaves a tool message's `tool_call_id` optional
function isLong(id: unknown): id is string {
  return typeof id === 'string' && id.length > OPENAI_MAX_TOOL_CALL_ID_LENGTH;
}

const MISTRAL_TOOL_CALL_ID = /^[A-Za-z0-9]{9}$/;

function isNotMistral(id: unknown): id is string {
  return typeof id === 'string' && !MISTRAL_TOOL_CALL_ID.test(id);
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

/**
 * A tool-call id Mistral accepts: one of nine letters and digits as it is; any other, the first
 * nine hex digits of the SHA-256 of the id without its Gemini thought signature. Deterministic
 * and stateless for the same reasons as {@link openAIToolCallId}; 36 bits, so two calls of one
 * conversation meet on one id with odds of about n²/2^37 (n = 1000 calls: under 1 in 100,000).
 */
export function mistralToolCallId(id: string): string {
  if (!isNotMistral(id)) return id;
  return createHash('sha256').update(toolCallIdWithoutSignature(id)).digest('hex').slice(0, 9);
}

interface IdRule {
  /** Whether this id must be mapped (`unknown`: a tool message's `tool_call_id` is optional). */
  readonly refuses: (id: unknown) => id is string;
  readonly map: (id: string) => string;
}

const RULES: Readonly<Record<ToolCallIdFormat, IdRule>> = {
  openai: { refuses: isLong, map: openAIToolCallId },
  mistral: { refuses: isNotMistral, map: mistralToolCallId },
};

// loops, not `some` with closures: this runs for every chat request to an OpenAI-wire host
function hasRefusedId(message: ChatMessage, rule: IdRule): boolean {
  if (message.role === 'tool') return rule.refuses(message.tool_call_id);
  if (message.role !== 'assistant' || message.tool_calls === undefined) return false;
  for (const call of message.tool_calls) if (rule.refuses(call.id)) return true;
  return false;
}

/**
 * The messages with every tool-call id the host would refuse replaced (by {@link openAIToolCallId}
 * or {@link mistralToolCallId}). The same array when none is (the common case: one pass over the
 * messages, nothing copied); otherwise a new array sharing every message it leaves alone, so the
 * client's request is never changed in place.
 */
export function withOpenAIToolCallIds(
  messages: ChatMessage[],
  format: ToolCallIdFormat = 'openai',
): ChatMessage[] {
  const rule = RULES[format];
  let refused = false;
  for (const message of messages) if ((refused = hasRefusedId(message, rule))) break;
  if (!refused) return messages;
  const mapCall = (call: ChatToolCall): ChatToolCall =>
    rule.refuses(call.id) ? { ...call, id: rule.map(call.id) } : call;
  return messages.map((message): ChatMessage => {
    if (!hasRefusedId(message, rule)) return message;
    if (message.role === 'tool') return { ...message, tool_call_id: rule.map(message.tool_call_id) };
    if (message.role === 'assistant')
      return { ...message, tool_calls: (message.tool_calls ?? []).map(mapCall) };
    return message;
  });
}
