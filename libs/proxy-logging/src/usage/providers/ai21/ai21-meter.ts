import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

/**
 * AI21: OpenAI-shaped usage, whole and streamed.
 * @see https://docs.ai21.com/reference/jamba-1-6-api-ref
 */
export const ai21Meter: ProviderMeter = {
  name: 'ai21',
  label: 'AI21',
  hosts: ['api.ai21.com'],
  units: 'tokens (input, output)',
  meter: (exchange) => meterOpenAIShaped('ai21', exchange),
};
