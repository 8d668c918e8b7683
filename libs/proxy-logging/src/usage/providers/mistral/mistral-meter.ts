import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

/**
 * Mistral: OpenAI-shaped usage, whole and streamed.
 * @see https://docs.mistral.ai/api/
 */
export const mistralMeter: ProviderMeter = {
  name: 'mistral',
  label: 'Mistral',
  hosts: ['api.mistral.ai'],
  units: 'tokens (input, output)',
  meter: (exchange) => meterOpenAIShaped('mistral', exchange),
};
