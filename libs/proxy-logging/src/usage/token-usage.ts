import type { ChatUsage } from '@switchyard/proxy-core';

/**
 * Token counts of one LLM exchange, normalised across providers. Totals follow OpenAI's
 * convention: `inputTokens` includes cached, cache-write and audio input tokens;
 * `outputTokens` includes reasoning and audio output tokens. The detail fields say how
 * much of each total is priced differently.
 */
export interface TokenUsage {
  /** Every prompt token, cached and cache-write ones included. */
  inputTokens: number;
  /** Every generated token, reasoning ones included. */
  outputTokens: number;
  /** Prompt tokens read from the provider's prompt cache. @default 0 */
  cachedInputTokens?: number;
  /** Prompt tokens written to the provider's prompt cache. @default 0 */
  cacheWriteTokens?: number;
  /**
   * Of the cache-write tokens, those written for an hour (Anthropic's 1h TTL), priced apart.
   * Undefined when the provider did not say: with a distinct 1h rate the cost is then unknown.
   */
  cacheWrite1hTokens?: number;
  /** Output tokens spent on hidden reasoning. @default 0 */
  reasoningTokens?: number;
  /**
   * Citation tokens Perplexity's deep research reports (`usage.citation_tokens`), counted apart
   * from the input and output tokens (in neither total) and billed at a rate of their own: with
   * none in the price, the cost is unknown. @default 0
   */
  citationTokens?: number;
  /** Prompt tokens that were audio, cached ones included. @default 0 */
  audioInputTokens?: number;
  /**
   * Of the cached tokens, those that were audio (Gemini's `cacheTokensDetails`, OpenAI's
   * `cached_tokens_details`). Undefined when the provider did not say: with cached tokens and
   * a distinct audio rate the cost is then unknown.
   */
  cachedAudioInputTokens?: number;
  /** Output tokens that were audio. @default 0 */
  audioOutputTokens?: number;
  /**
   * Of the input tokens, those that were video, cached ones included. Undefined when the provider
   * did not say: the video rate of a price (the catalog's `input_video_mtok`) is then not applied.
   * With video tokens and such a rate the cost is unknown, never priced as text.
   */
  videoInputTokens?: number;
  /** Of the output tokens, those that were video; as {@link TokenUsage.videoInputTokens}. */
  videoOutputTokens?: number;
  /**
   * Of the input tokens, those that were images (gpt-image-1's `input_tokens_details.image_tokens`),
   * cached ones included. Undefined when the provider did not say: with a distinct image rate
   * the cost is then unknown.
   */
  imageInputTokens?: number;
  /** Of the cached tokens, those that were images; undefined when the provider did not say. */
  cachedImageInputTokens?: number;
  /**
   * Of the output tokens, those that were images. Undefined when the provider did not say:
   * with a distinct image rate the cost is then unknown.
   */
  imageOutputTokens?: number;
  /**
   * Web searches the provider ran for the request and bills per search (Anthropic's
   * `server_tool_use.web_search_requests`, OpenAI's `web_search_call` items, Perplexity's
   * `num_search_queries`, the distinct queries of Gemini's grounding with Google Search, which
   * Gemini 2.x and earlier bill once per grounded prompt however many ran). @default 0
   */
  webSearches?: number;
  /**
   * File searches the provider ran for the request and bills per call (the `file_search_call`
   * items of an OpenAI Responses answer): with none in the price, the cost is unknown. @default 0
   */
  fileSearches?: number;
  /**
   * Perplexity's `search_context_size` (`low`, `medium`, `high`), on which its request fee
   * depends. Undefined when not said: the catalog's fee (the `high` one) is then an upper bound.
   */
  searchContextSize?: string;
  /**
   * Perplexity's Pro Search type (`web_search_options.search_type`: `pro`, `auto`, `fast`) of a
   * streamed request, which Pro Search needs (a request not streamed falls back to standard
   * Sonar Pro). `pro` and `auto` (whose choice the answer does not report) are priced at Pro
   * Search's request fee on `sonar-pro`.
   */
  searchType?: string;
  /**
   * The service tier the answer says it was served on (OpenAI's `service_tier`: `default`,
   * `priority`, `flex`, `scale`; Bedrock's `serviceTier.type`, `latency_optimized` for its
   * latency-optimized inference; `fast` for Anthropic's fast mode, `usage.speed`), whose rates may
   * differ from the standard ones. Absent (or `default`, `auto`, `standard`, `on_demand`): the
   * standard rates. Another tier is priced at the price's `serviceTiers` entry for it, else its
   * cost is unknown.
   */
  serviceTier?: string;
  /**
   * Where Anthropic's API ran the inference (`usage.inference_geo`): `us` when US-only inference
   * was asked for, which Anthropic bills at 1.1 times every token rate of the price. Absent (or
   * `global`, `not_available`): the price's rates.
   */
  inferenceGeo?: string;
  /** Images generated. @default 0 */
  images?: number;
  /** Seconds of audio processed (input or output). @default 0 */
  audioSeconds?: number;
}

/**
 * A count as a usage gives it: one it leaves out (a host that reports no `completion_tokens`), or
 * that is no count, is 0, never undefined (a made-up token in a counter) or NaN (in a cost).
 */
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Reads an OpenAI-shaped `usage` (what every adapter reports) into {@link TokenUsage}; a missing count is 0. */
export function tokenUsageFromChatUsage(usage: ChatUsage): TokenUsage {
  const result: TokenUsage = {
    inputTokens: tokenCount(usage.prompt_tokens),
    outputTokens: tokenCount(usage.completion_tokens),
  };
  const prompt = usage.prompt_tokens_details;
  const completion = usage.completion_tokens_details;
  // an OpenAI-compatible host's counts as it sent them: one that is no count (a string "200")
  // is left out, never joined as text into a sum or stored as a string in the request log
  const counted = (value: unknown): number | undefined => {
    const count = tokenCount(value);
    return count > 0 ? count : undefined;
  };
  // zero is information for some (no 1h writes, no image tokens), unlike the counts above
  const known = (value: unknown): number | undefined =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
  const set = <K extends keyof TokenUsage>(key: K, value: TokenUsage[K] | undefined): void => {
    if (value !== undefined) result[key] = value;
  };
  set('cachedInputTokens', counted(prompt?.cached_tokens));
  set('cacheWriteTokens', counted(prompt?.cache_creation_tokens));
  set('audioInputTokens', counted(prompt?.audio_tokens));
  set('cacheWrite1hTokens', known(prompt?.cache_creation_1h_tokens));
  set('reasoningTokens', counted(completion?.reasoning_tokens));
  set('audioOutputTokens', counted(completion?.audio_tokens));
  // image tokens (Gemini's per-modality counts)
  set('imageInputTokens', known(prompt?.image_tokens));
  set('imageOutputTokens', known(completion?.image_tokens));
  const cachedSplit = prompt?.cached_tokens_details;
  set('cachedAudioInputTokens', known(cachedSplit?.audio_tokens));
  set('cachedImageInputTokens', known(cachedSplit?.image_tokens));
  // Perplexity's usage reaches the gateway as the host sent it (an OpenAI-compatible body):
  // deep research counts its search queries there
  const searches = usage.web_searches ?? (usage as { num_search_queries?: unknown }).num_search_queries;
  if (typeof searches === 'number' && Number.isFinite(searches) && searches > 0)
    result.webSearches = searches;
  // and the search context size its request fee depends on
  const contextSize = (usage as { search_context_size?: unknown }).search_context_size;
  if (typeof contextSize === 'string' && contextSize !== '') result.searchContextSize = contextSize;
  return result;
}

/** Converts {@link TokenUsage} back to an OpenAI-shaped `usage` (for the request log). */
export function chatUsageFromTokenUsage(usage: TokenUsage): ChatUsage {
  const result: ChatUsage = {
    prompt_tokens: tokenCount(usage.inputTokens),
    completion_tokens: tokenCount(usage.outputTokens),
    total_tokens: tokenCount(usage.inputTokens) + tokenCount(usage.outputTokens),
  };
  if (
    usage.cachedInputTokens ||
    usage.cacheWriteTokens ||
    usage.audioInputTokens ||
    usage.imageInputTokens !== undefined
  ) {
    result.prompt_tokens_details = {};
    if (usage.cachedInputTokens) result.prompt_tokens_details.cached_tokens = usage.cachedInputTokens;
    if (usage.cacheWriteTokens) result.prompt_tokens_details.cache_creation_tokens = usage.cacheWriteTokens;
    if (usage.cacheWriteTokens && usage.cacheWrite1hTokens !== undefined)
      result.prompt_tokens_details.cache_creation_1h_tokens = usage.cacheWrite1hTokens;
    if (usage.audioInputTokens) result.prompt_tokens_details.audio_tokens = usage.audioInputTokens;
    if (usage.imageInputTokens !== undefined)
      result.prompt_tokens_details.image_tokens = usage.imageInputTokens;
    if (
      usage.cachedInputTokens &&
      (usage.cachedAudioInputTokens !== undefined || usage.cachedImageInputTokens !== undefined)
    ) {
      const cachedSplit: { audio_tokens?: number; image_tokens?: number } = {};
      if (usage.cachedAudioInputTokens !== undefined) cachedSplit.audio_tokens = usage.cachedAudioInputTokens;
      if (usage.cachedImageInputTokens !== undefined) cachedSplit.image_tokens = usage.cachedImageInputTokens;
      result.prompt_tokens_details.cached_tokens_details = cachedSplit;
    }
  }
  if (usage.reasoningTokens || usage.audioOutputTokens || usage.imageOutputTokens !== undefined) {
    result.completion_tokens_details = {};
    if (usage.reasoningTokens) result.completion_tokens_details.reasoning_tokens = usage.reasoningTokens;
    if (usage.audioOutputTokens) result.completion_tokens_details.audio_tokens = usage.audioOutputTokens;
    if (usage.imageOutputTokens !== undefined)
      result.completion_tokens_details.image_tokens = usage.imageOutputTokens;
  }
  if (usage.webSearches) result.web_searches = usage.webSearches;
  return result;
}
