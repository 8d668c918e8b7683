import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

/**
 * DeepSeek: OpenAI-shaped usage, whole and streamed. Its cache hits are
 * `usage.prompt_cache_hit_tokens` (the rest of the prompt `prompt_cache_miss_tokens`), read as
 * cached input and priced at the cache-hit rate; reasoning is
 * `completion_tokens_details.reasoning_tokens`, part of the completion tokens.
 * @see https://api-docs.deepseek.com/api/create-chat-completion
 * @see https://api-docs.deepseek.com/guides/kv_cache
 */
export const deepSeekMeter: ProviderMeter = {
  name: 'deepseek',
  label: 'DeepSeek',
  hosts: ['api.deepseek.com'],
  units: 'tokens (input, cache hit, output, reasoning)',
  meter: (exchange) => meterOpenAIShaped('deepseek', exchange),
};
