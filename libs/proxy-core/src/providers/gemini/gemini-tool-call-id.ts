import { TOOL_CALL_SIGNATURE_MARKER as SIGNATURE_MARKER } from '../../wire/chat-message-parts';

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
 * base64 as Gemini sends it; undefined for an id without one.
 */
export function thoughtSignatureOfToolCallId(id: string): string | undefined {
  const at = id.indexOf(SIGNATURE_MARKER);
  if (at < 0) return undefined;
  const bytes = Buffer.from(id.slice(at + SIGNATURE_MARKER.length), 'base64url');
  return bytes.length === 0 ? undefined : bytes.toString('base64');
}
