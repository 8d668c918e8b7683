/**
 * Minimal, lenient types of Ollama's native API: only what the gateway writes or reads.
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md
 */

/** A tool call as Ollama writes it: arguments are an object, not a JSON string. */
export interface OllamaToolCall {
  function: { name: string; arguments?: Record<string, unknown> };
}

/** One message of an `/api/chat` request or response. */
export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Base64 images (no URLs). */
  images?: string[];
  tool_calls?: OllamaToolCall[];
  /** The function a `tool` message answers. */
  tool_name?: string;
  /** Reasoning text of thinking models. */
  thinking?: string;
}

/** An `/api/chat` response, and each NDJSON line of a streamed one. */
export interface OllamaChatResponse {
  model?: string;
  created_at?: string;
  message?: OllamaMessage;
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  /** Present instead of the rest when the call failed (also mid-stream). */
  error?: string;
}

/** An `/api/embed` response. */
export interface OllamaEmbedResponse {
  model?: string;
  embeddings?: number[][];
  prompt_eval_count?: number;
}
