import type { ChatUsage } from '../../wire/openai-chat';
import type { AnthropicUsage } from './anthropic-wire';

/**
 * Anthropic usage -> OpenAI usage. Anthropic's `input_tokens` excludes cache reads and cache
 * writes, so the prompt total is the sum of the three; cached tokens stay apart in
 * `prompt_tokens_details`.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance
 */
export function mapAnthropicUsage(usage: AnthropicUsage): ChatUsage {
  const input = usage.input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheCreation = usage.cache_creation_input_tokens ?? 0;
  const output = usage.output_tokens ?? 0;
  const prompt = input + cacheRead + cacheCreation;
  const details: NonNullable<ChatUsage['prompt_tokens_details']> = {
    cached_tokens: cacheRead,
    cache_creation_tokens: cacheCreation,
  };
  // 1h writes are priced apart; without the breakdown their share stays unknown (absent)
  const oneHour = usage.cache_creation?.ephemeral_1h_input_tokens;
  if (typeof oneHour === 'number') details.cache_creation_1h_tokens = oneHour;
  const mapped: ChatUsage = {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: details,
  };
  // the web search tool is billed per search, on top of the tokens its results add
  const searches = usage.server_tool_use?.web_search_requests;
  if (typeof searches === 'number' && searches > 0) mapped.web_searches = searches;
  return mapped;
}

/**
 * Merges a later usage report into an earlier one field by field: a stream reports usage in
 * `message_start` and again (cumulatively) in `message_delta`, where absent fields mean
 * "unchanged", not zero.
 */
export function mergeAnthropicUsage(
  earlier: AnthropicUsage,
  later: AnthropicUsage | undefined,
): AnthropicUsage {
  if (later === undefined) return earlier;
  return {
    input_tokens: later.input_tokens ?? earlier.input_tokens,
    output_tokens: later.output_tokens ?? earlier.output_tokens,
    cache_creation_input_tokens: later.cache_creation_input_tokens ?? earlier.cache_creation_input_tokens,
    cache_read_input_tokens: later.cache_read_input_tokens ?? earlier.cache_read_input_tokens,
    cache_creation: later.cache_creation ?? earlier.cache_creation,
    server_tool_use: later.server_tool_use ?? earlier.server_tool_use,
  };
}
