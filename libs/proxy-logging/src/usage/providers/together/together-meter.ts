import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

/**
 * Together AI: OpenAI-shaped usage, whole and streamed.
 * @see https://docs.together.ai/reference/chat-completions-1
 */
export const togetherMeter: ProviderMeter = {
  name: 'together',
  label: 'Together AI',
  hosts: ['api.together.xyz', 'api.together.ai'],
  units: 'tokens (input, output)',
  meter: (exchange) => meterOpenAIShaped('together', exchange),
};
