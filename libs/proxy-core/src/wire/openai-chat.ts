/**
 * OpenAI Chat Completions wire types: the one interface every Switchyard client speaks.
 * Lenient where OpenAI is (unknown fields pass through), precise where the gateway reads.
 * @see https://platform.openai.com/docs/api-reference/chat
 */

/** A text part of a multi-part message. */
export interface ChatTextPart {
  type: 'text';
  text: string;
}

/** An image part of a multi-part user message (http(s) URL or `data:` URL). */
export interface ChatImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

/** Any content part the gateway understands. */
export type ChatContentPart = ChatTextPart | ChatImagePart;

/** A function call the assistant asked for: JSON arguments for a function tool. */
export interface ChatFunctionToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/**
 * A call of a custom tool the assistant asked for: free-form text input (GPT-5's custom tools).
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices-message-tool_calls
 */
export interface ChatCustomToolCall {
  id: string;
  type: 'custom';
  custom: { name: string; input: string };
}

/** A tool call the assistant asked for: of a function tool, or of a custom tool. */
export type ChatToolCall = ChatFunctionToolCall | ChatCustomToolCall;

/** A system (or developer) instruction. */
export interface ChatSystemMessage {
  role: 'system' | 'developer';
  content: string | ChatTextPart[];
  name?: string;
}

/** A user turn. */
export interface ChatUserMessage {
  role: 'user';
  content: string | ChatContentPart[];
  name?: string;
}

/** An assistant turn, possibly with tool calls. */
export interface ChatAssistantMessage {
  role: 'assistant';
  content?: string | ChatTextPart[] | null;
  tool_calls?: ChatToolCall[];
  /**
   * A legacy function call, answered by a {@link ChatFunctionMessage}; forwarded to OpenAI-wire
   * upstreams as sent.
   * @deprecated use `tool_calls`
   */
  function_call?: { name: string; arguments: string } | null;
  name?: string;
  refusal?: string | null;
}

/** The result of a tool call, answering the assistant's `tool_calls[].id`. */
export interface ChatToolMessage {
  role: 'tool';
  content: string | ChatTextPart[];
  tool_call_id: string;
}

/**
 * The result of a legacy function call (an assistant's `function_call`), answered by the
 * function's name. Deprecated by OpenAI in favour of tools; forwarded to OpenAI-wire upstreams.
 * @deprecated use tool calls and {@link ChatToolMessage}
 */
export interface ChatFunctionMessage {
  role: 'function';
  name: string;
  content: string | null;
}

/** One message of a conversation. */
export type ChatMessage =
  ChatSystemMessage | ChatUserMessage | ChatAssistantMessage | ChatToolMessage | ChatFunctionMessage;

/** A function the model may call, with JSON arguments. */
export interface ChatFunctionTool {
  type: 'function';
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
}

/**
 * A custom tool the model may call with free-form text (GPT-5), unconstrained or in a grammar.
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools
 */
export interface ChatCustomTool {
  type: 'custom';
  custom: {
    name: string;
    description?: string;
    /** The input's format: unconstrained text (the default) or a Lark or regex grammar. */
    format?:
      { type: 'text' } | { type: 'grammar'; grammar: { definition: string; syntax: 'lark' | 'regex' } };
  };
}

/** A tool the model may call: a function, or a custom tool. */
export type ChatTool = ChatFunctionTool | ChatCustomTool;

/**
 * A function the model may call, in OpenAI's legacy `functions` form, answered with a
 * `message.function_call`. Forwarded to OpenAI-wire upstreams as sent; the providers that
 * translate the request refuse it (`unsupported_feature` naming `functions`).
 * @deprecated use a {@link ChatFunctionTool} in `tools`
 */
export interface ChatLegacyFunction {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

/** A tool named by a tool choice: a function tool, or a custom tool. */
export type ChatToolReference =
  { type: 'function'; function: { name: string } } | { type: 'custom'; custom: { name: string } };

/**
 * A tool choice that limits the model to some of the request's tools, which it may call
 * (`auto`) or must call (`required`); the request's `tools` stay as they are (a cached prefix).
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-tool_choice
 */
export interface ChatAllowedToolsChoice {
  type: 'allowed_tools';
  allowed_tools: { mode: 'auto' | 'required'; tools: ChatToolReference[] };
}

/** How the model may use tools: not at all, as it decides, at least one, one named, or some of them. */
export type ChatToolChoice = 'none' | 'auto' | 'required' | ChatToolReference | ChatAllowedToolsChoice;

/** Response format constraints. */
export type ChatResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean };
    };

/**
 * OpenAI's `web_search_options`: the request asks the model to search the web before it
 * answers (OpenAI's search models; the `gemini` provider sends Google Search grounding).
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-web_search_options
 */
export interface ChatWebSearchOptions {
  /** How much of the search results the model is given; `medium` by default at OpenAI. */
  search_context_size?: 'low' | 'medium' | 'high';
  /** Where the user is, roughly, to localise the search. */
  user_location?: {
    type: 'approximate';
    approximate: { city?: string; country?: string; region?: string; timezone?: string };
  } | null;
  /** Fields the gateway does not read (Perplexity's own options) are forwarded to OpenAI-compatible upstreams as they are. */
  [extra: string]: unknown;
}

/** A `POST /v1/chat/completions` request body. */
export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stop?: string | string[] | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  seed?: number | null;
  user?: string;
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  /**
   * Legacy function calling, answered with `message.function_call`: forwarded to OpenAI-wire
   * upstreams, refused by the other translators.
   * @deprecated use `tools`
   */
  functions?: ChatLegacyFunction[] | null;
  /**
   * Whether and which of `functions` the model calls.
   * @deprecated use `tool_choice`
   */
  function_call?: 'none' | 'auto' | { name: string } | null;
  parallel_tool_calls?: boolean;
  response_format?: ChatResponseFormat;
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | null;
  /** Search the web before answering; `null` is the same as leaving it out. */
  web_search_options?: ChatWebSearchOptions | null;
  /** Fields the gateway does not interpret are forwarded to OpenAI-compatible upstreams as they are. */
  [extra: string]: unknown;
}

/** Why generation stopped. */
export type ChatFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** Token usage of one exchange; cached and reasoning tokens are kept apart, as OpenAI reports them. */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: {
    cached_tokens?: number;
    /** Prompt tokens written to the provider's cache (a Switchyard extension, from Anthropic and Bedrock). */
    cache_creation_tokens?: number;
    /** Of those, the ones written for an hour (Anthropic's 1h TTL), which cost more; absent when unknown. */
    cache_creation_1h_tokens?: number;
    audio_tokens?: number;
    /** Prompt tokens that were images (a Switchyard extension, from Gemini's per-modality counts); absent when unknown. */
    image_tokens?: number;
    /**
     * Of the cached tokens, those that were audio or images (OpenAI's realtime shape; from Gemini's
     * `cacheTokensDetails`): `audio_tokens` and `image_tokens` above count cached ones too, so
     * only their uncached share is billed at the audio or image rate. Absent when unknown.
     */
    cached_tokens_details?: { audio_tokens?: number; image_tokens?: number };
  };
  completion_tokens_details?: {
    reasoning_tokens?: number;
    audio_tokens?: number;
    /** Generated tokens that were images, billed at an image rate (a Switchyard extension, from Gemini); absent when unknown. */
    image_tokens?: number;
  };
  /**
   * Web searches the provider ran for the request, billed on top of the tokens (a Switchyard
   * extension, from Anthropic's `server_tool_use.web_search_requests` and the distinct queries of
   * Gemini's `groundingMetadata.webSearchQueries`: see `GeminiWebSearches`); absent when none.
   */
  web_searches?: number;
}

/**
 * A web source the answer cites, as OpenAI's search models give it: the span of the message's
 * `content` it supports, in UTF-16 code units (JavaScript string indices), end exclusive.
 * @see https://platform.openai.com/docs/guides/tools-web-search?api-mode=chat
 */
export interface ChatUrlCitation {
  type: 'url_citation';
  url_citation: { url: string; title: string; start_index: number; end_index: number };
}

/** The assistant message in a response. */
export interface ChatResponseMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ChatToolCall[];
  /**
   * A legacy function call (OpenAI's deprecated function calling), the answer to a request whose
   * `function_call` names one of its `functions`, with finish reason `function_call`.
   */
  function_call?: { name: string; arguments: string } | null;
  refusal?: string | null;
  /** The web sources the answer cites (web search); absent when it cites none. */
  annotations?: ChatUrlCitation[];
}

/** One choice of a response. */
export interface ChatChoice {
  index: number;
  message: ChatResponseMessage;
  finish_reason: ChatFinishReason | null;
  logprobs?: unknown;
  /**
   * Switchyard extension: the stop sequence that ended generation, where the provider names
   * it (Anthropic does). Lets the Anthropic ingress report `stop_reason: "stop_sequence"`.
   */
  stop_sequence?: string | null;
}

/** A `chat.completion` response body. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: ChatUsage;
  system_fingerprint?: string | null;
  service_tier?: string | null;
}

/**
 * A streamed tool-call fragment: the first carries id and name, later ones argument text. A
 * custom tool's call streams its `custom` name and input text the same way (OpenAI's stream
 * reference types function fragments only: https://github.com/openai/openai-openapi/issues/576).
 */
export interface ChatToolCallDelta {
  index: number;
  id?: string;
  type?: 'function' | 'custom';
  function?: { name?: string; arguments?: string };
  custom?: { name?: string; input?: string };
}

/** The incremental part of a streamed choice. */
export interface ChatDelta {
  role?: 'assistant';
  content?: string | null;
  tool_calls?: ChatToolCallDelta[];
  /** A streamed legacy function call (see `ChatResponseMessage.function_call`): name first, then argument text. */
  function_call?: { name?: string; arguments?: string };
  refusal?: string | null;
  /** Reasoning text some OpenAI-compatible hosts stream before the answer (DeepSeek, vLLM), passed through. */
  reasoning_content?: string | null;
  /** The same under the name other hosts use (OpenRouter, vLLM's newer releases), passed through. */
  reasoning?: string | null;
  /**
   * Web sources the answer cites, each once, indices into the choice's whole streamed
   * `content` (the stream's counterpart of `ChatResponseMessage.annotations`).
   */
  annotations?: ChatUrlCitation[];
}

/** One choice of a stream chunk. */
export interface ChatChunkChoice {
  index: number;
  delta: ChatDelta;
  finish_reason: ChatFinishReason | null;
  logprobs?: unknown;
  /** Switchyard extension: the stop sequence that ended generation (see `ChatChoice.stop_sequence`). */
  stop_sequence?: string | null;
}

/** A `chat.completion.chunk` stream event. The last one may carry `usage` with no choices. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatChunkChoice[];
  usage?: ChatUsage | null;
  system_fingerprint?: string | null;
  /** The service tier the stream was served on (`default`, `priority`, `flex`, ...), on OpenAI's chunks. */
  service_tier?: string | null;
}

/** OpenAI's error body, which every Switchyard error leaves as. */
export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}
