/**
 * Minimal, lenient types of the Gemini API (Google AI) wire format: only what the
 * gateway writes or reads.
 * @see https://ai.google.dev/api/generate-content
 */

/** One part of a Gemini content. */
export interface GeminiPart {
  text?: string;
  /** True on a thought summary part (thinking models); never shown as answer text. */
  thought?: boolean;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType?: string; fileUri: string };
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> };
  functionResponse?: { id?: string; name: string; response: Record<string, unknown> };
  /**
   * Opaque signature of the model's reasoning (thinking models), on the part it belongs to;
   * Gemini 3 answers 400 when a `functionCall` part of the current turn comes back without it.
   * @see https://ai.google.dev/gemini-api/docs/thought-signatures
   */
  thoughtSignature?: string;
}

/** A turn: `user` or `model`. */
export interface GeminiContent {
  role?: 'user' | 'model';
  parts: GeminiPart[];
}

/** Functions the model may call. */
export interface GeminiFunctionTool {
  functionDeclarations: Array<{
    name: string;
    description?: string;
    parametersJsonSchema?: Record<string, unknown>;
  }>;
}

/**
 * Grounding with Google Search: `googleSearch` on Gemini 2.0 and later, `googleSearchRetrieval`
 * on Gemini 1.x (which 2.x refuses: "Please use google_search field instead"). The field names
 * are the JSON names of the API reference's `Tool`, on the Gemini API and Vertex AI alike (the
 * guides' `google_search` is the proto name, which both take too).
 * @see https://ai.google.dev/api/caching#Tool
 */
export type GeminiSearchTool =
  { googleSearch: Record<string, never> } | { googleSearchRetrieval: Record<string, never> };

/** A `generateContent` request body. */
export interface GeminiRequest {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
  tools?: Array<GeminiFunctionTool | GeminiSearchTool>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: Record<string, unknown>;
}

/** Token counts of a response (every field optional on the wire). */
export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  /** Prompt tokens by modality (TEXT, IMAGE, AUDIO, VIDEO, DOCUMENT). */
  promptTokensDetails?: GeminiModalityTokenCount[];
  /** The cached prompt tokens by modality (part of `promptTokensDetails`). */
  cacheTokensDetails?: GeminiModalityTokenCount[];
  /** Generated tokens by modality; image models bill IMAGE tokens at their own rate. */
  candidatesTokensDetails?: GeminiModalityTokenCount[];
}

/** Tokens of one modality. */
export interface GeminiModalityTokenCount {
  modality?: string;
  tokenCount?: number;
}

/** One candidate answer. */
export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
  index?: number;
  /** What Grounding with Google Search (the `google_search` tool) found for this candidate. */
  groundingMetadata?: GeminiGroundingMetadata;
  /**
   * The log probability of each generated token and of the most likely alternatives of each
   * step, with `responseLogprobs` (read leniently by `mapGeminiLogprobs`).
   * @see https://ai.google.dev/api/generate-content#LogprobsResult
   */
  logprobsResult?: unknown;
}

/**
 * A candidate's grounding: the Google Search queries the model ran, the web pages it drew on
 * and which span of the answer each supports (only what the gateway reads).
 * @see https://ai.google.dev/api/generate-content#GroundingMetadata
 */
export interface GeminiGroundingMetadata {
  /** The search queries the model ran (empty strings are no search, and Google does not bill them). */
  webSearchQueries?: string[];
  /** The sources: `web` pages for Google Search and the URL context tool (`retrievedContext`, `maps` for the other grounding tools). */
  groundingChunks?: Array<{ web?: { uri?: string; title?: string } }>;
  /** Which sources (`groundingChunks` indices) support which span of the answer. */
  groundingSupports?: GeminiGroundingSupport[];
  /** The Google Search Suggestions widget the answer must be shown with. */
  searchEntryPoint?: { renderedContent?: string };
}

/**
 * A span of the answer and the sources that support it. The span's offsets are UTF-8 bytes
 * into the text of the part `partIndex` names (the first by default), end exclusive.
 * @see https://ai.google.dev/api/generate-content#GroundingSupport
 */
export interface GeminiGroundingSupport {
  segment?: { partIndex?: number; startIndex?: number; endIndex?: number; text?: string };
  groundingChunkIndices?: number[];
}

/** A `generateContent` response, and each event of `streamGenerateContent?alt=sse`. */
export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

/** Google's error body. */
export interface GeminiErrorBody {
  error: {
    code?: number;
    message?: string;
    status?: string;
    /** `google.rpc` details: an `ErrorInfo` has a `reason`, a `RetryInfo` a `retryDelay` (`"34s"`). */
    details?: Array<{ '@type'?: string; reason?: string; retryDelay?: string }>;
  };
}

/** Whether a parsed value is Google's error body. */
export function isGeminiErrorBody(value: unknown): value is GeminiErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { error?: unknown }).error === 'object' &&
    (value as { error?: unknown }).error !== null
  );
}
