import type { AnthropicUsage } from '../providers/anthropic/anthropic-wire';
import type { ChatUsage } from '../wire/openai-chat';

/**
 * Anthropic usage as the ingress reports it: every count a number (no cache-write breakdown),
 * and the web searches the provider ran, when it ran any.
 */
export type AnthropicIngressUsage = Required<{
  [K in Exclude<keyof AnthropicUsage, 'cache_creation' | 'server_tool_use'>]: number;
}> & {
  server_tool_use?: { web_search_requests: number };
};

/**
 * OpenAI usage -> Anthropic usage, the inverse of the adapter's mapping: Anthropic's
 * `input_tokens` excludes cache reads and cache writes, so they are taken out of the prompt
 * total and reported apart (zero where the provider reports none).
 * @see https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance
 */
export function mapChatUsageToAnthropic(usage: ChatUsage | null | undefined): AnthropicIngressUsage {
  const cacheRead = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheCreation = usage?.prompt_tokens_details?.cache_creation_tokens ?? 0;
  const mapped: AnthropicIngressUsage = {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cacheRead - cacheCreation),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheCreation,
  };
  if (usage?.web_searches) mapped.server_tool_use = { web_search_requests: usage.web_searches };
  return mapped;
}
