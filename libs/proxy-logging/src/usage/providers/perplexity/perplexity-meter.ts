import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

/**
 * Perplexity: OpenAI-shaped usage, whole and streamed.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 */
export const perplexityMeter: ProviderMeter = {
  name: 'perplexity',
  label: 'Perplexity',
  hosts: ['api.perplexity.ai'],
  units: 'tokens (input, output)',
  meter: (exchange) => meterOpenAIShaped('perplexity', exchange),
};
