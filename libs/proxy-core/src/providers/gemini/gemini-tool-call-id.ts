import {
  TOOL_CALL_SIGNATURE_MARKER as SIGNATURE_MARKER,
  splitToolCallId,
} from '../../wire/chat-message-parts';

// Base ids are the gateway's (`call_<completion id>_...`) or Gemini's `functionCall.id`;
// neither holds the marker, so its first occurrence starts the signature.

/**
 * The OpenAI tool-call id of a Gemini `functionCall` part: its id with the part's
 * `thoughtSignature` folded in as base64url, so the id stays within `[A-Za-z0-9_-]` (which
 * Anthropic and Bedrock require of tool ids). The signature travels in the conversation the
 * client replays, so any gateway instance can send it back; no shared store is needed.
 * @see https://ai.google.dev/gemini-api/docs/thought-signatures
 */
export function geminiToolCallId(id: string, thoughtSignature: string | undefined): string {
  if (thoughtSignature === undefined || thoughtSignature.length === 0) return id;
  // the signature is a protobuf `bytes` field: its bytes matter, not their base64 spelling
  return `${id}${SIGNATURE_MARKER}${Buffer.from(thoughtSignature, 'base64').toString('base64url')}`;
}

/**
 * The thought signature folded into a tool-call id by {@link geminiToolCallId}, in standard
 * base64 as Gemini sends it; undefined for an id without one (including a client's own id that
 * merely holds the marker: see {@link splitToolCallId}), so no made-up signature reaches Gemini.
 */
export function thoughtSignatureOfToolCallId(id: string): string | undefined {
  return splitToolCallId(id).signature?.toString('base64');
}
