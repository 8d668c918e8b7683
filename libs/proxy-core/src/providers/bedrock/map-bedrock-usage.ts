import type { ChatUsage } from '../../wire/openai-chat';
import type { BedrockUsage } from './bedrock-wire';

/**
 * Converse usage -> OpenAI usage. `inputTokens` excludes cache reads and cache writes, so
 * the prompt total is the sum of the three; cached tokens stay apart in
 * `prompt_tokens_details`.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html
 */
export function mapBedrockUsage(usage: BedrockUsage): ChatUsage {
  const cacheRead = usage.cacheReadInputTokens ?? 0;
  const cacheWrite = usage.cacheWriteInputTokens ?? 0;
  const prompt = (usage.inputTokens ?? 0) + cacheRead + cacheWrite;
  const completion = usage.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead, cache_creation_tokens: cacheWrite },
  };
}
