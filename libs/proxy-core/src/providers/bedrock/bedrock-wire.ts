/**
 * Minimal, lenient types of Amazon Bedrock's Converse and ConverseStream wire format:
 * precise where the gateway reads, open elsewhere (unknown blocks and events pass by).
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */

/** The image formats Converse accepts. */
export type BedrockImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

/** A content block of a message (one member set). */
export interface BedrockContentBlock {
  text?: string;
  /** Image bytes, base64 in the JSON body. Converse never fetches URLs. */
  image?: { format: BedrockImageFormat; source: { bytes: string } };
  toolUse?: { toolUseId: string; name: string; input: unknown };
  toolResult?: {
    toolUseId: string;
    content: Array<{ text: string } | { json: unknown }>;
    status?: 'success' | 'error';
  };
  /** Reasoning (extended thinking) of models that expose it: never shown as answer text. */
  reasoningContent?: unknown;
}

/** One turn of a conversation. */
export interface BedrockMessage {
  role: 'user' | 'assistant';
  content: BedrockContentBlock[];
}

/** A tool the model may call. */
export interface BedrockTool {
  toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } };
}

/** How the model must use tools (Converse has no "none"). */
export type BedrockToolChoice =
  { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

/** A Converse / ConverseStream request body (the model id is in the path). */
export interface BedrockConverseRequest {
  messages: BedrockMessage[];
  system?: Array<{ text: string }>;
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: BedrockTool[]; toolChoice?: BedrockToolChoice };
}

/** Why generation stopped. */
export type BedrockStopReason =
  | 'end_turn'
  | 'tool_use'
  | 'max_tokens'
  | 'stop_sequence'
  | 'guardrail_intervened'
  | 'content_filtered'
  | 'malformed_model_output'
  | 'malformed_tool_use'
  | 'model_context_window_exceeded';

/** Token usage: `inputTokens` excludes cache reads and writes, `totalTokens` includes them. */
export interface BedrockUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** A Converse response body. */
export interface BedrockConverseResponse {
  output: { message?: { role: 'assistant'; content: BedrockContentBlock[] } };
  stopReason: BedrockStopReason;
  usage?: BedrockUsage;
  metrics?: { latencyMs?: number };
}

/** The payloads of ConverseStream events, by `:event-type`. */
export interface BedrockStreamPayloads {
  messageStart: { role: 'assistant' };
  contentBlockStart: { contentBlockIndex: number; start?: { toolUse?: { toolUseId: string; name: string } } };
  contentBlockDelta: {
    contentBlockIndex: number;
    delta?: { text?: string; toolUse?: { input?: string }; reasoningContent?: unknown };
  };
  contentBlockStop: { contentBlockIndex: number };
  messageStop: { stopReason: BedrockStopReason; additionalModelResponseFields?: unknown };
  metadata: { usage?: BedrockUsage; metrics?: { latencyMs?: number } };
}

/** One decoded message of an AWS event stream (`application/vnd.amazon.eventstream`). */
export interface BedrockStreamMessage {
  /** `:message-type`: `event`, `exception`, or `error`. */
  messageType: string;
  /** `:event-type` of an event, `:exception-type` of an exception, `:error-code` of an error. */
  type: string;
  /** The JSON payload (or, for `error` messages, the `:error-message` header), as text. */
  payload: string;
}

/** Whether a parsed body looks like a Converse response (lenient: only what the gateway reads). */
export function isBedrockConverseResponse(value: unknown): value is BedrockConverseResponse {
  if (typeof value !== 'object' || value === null) return false;
  const output = (value as Record<string, unknown>)['output'];
  return (
    typeof output === 'object' &&
    output !== null &&
    typeof (value as Record<string, unknown>)['stopReason'] === 'string'
  );
}
