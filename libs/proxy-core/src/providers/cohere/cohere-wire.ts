/**
 * Minimal, lenient types of Cohere's Chat v2 and Embed v2 wire format.
 * @see https://docs.cohere.com/reference/chat
 */

/** A tool call in Cohere's shape (the same as OpenAI's). */
export interface CohereToolCall {
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

/** Token counts: `billed_units` is what Cohere charges, `tokens` what the model saw. */
export interface CohereUsage {
  billed_units?: { input_tokens?: number; output_tokens?: number };
  tokens?: { input_tokens?: number; output_tokens?: number };
}

/** A `/v2/chat` response. */
export interface CohereChatResponse {
  id?: string;
  finish_reason?: string;
  message?: {
    role?: string;
    content?: Array<{ type?: string; text?: string }>;
    tool_plan?: string;
    tool_calls?: CohereToolCall[];
  };
  usage?: CohereUsage;
}

/** The data of one `/v2/chat` stream event (its `type` names it). */
export interface CohereStreamEvent {
  type?: string;
  id?: string;
  index?: number;
  delta?: {
    message?: {
      content?: { type?: string; text?: string };
      tool_calls?: CohereToolCall;
      tool_plan?: string;
    };
    finish_reason?: string;
    usage?: CohereUsage;
    error?: string;
  };
}

/** A `/v2/embed` response with `embedding_types: ["float"]`. */
export interface CohereEmbedResponse {
  id?: string;
  embeddings?: { float?: number[][] };
  meta?: { billed_units?: { input_tokens?: number } };
}
