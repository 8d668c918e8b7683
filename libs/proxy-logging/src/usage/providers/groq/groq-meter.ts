import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

/**
 * Groq: OpenAI-shaped usage, whole and streamed.
 * @see https://console.groq.com/docs/api-reference
 */
export const groqMeter: ProviderMeter = {
  name: 'groq',
  label: 'Groq',
  hosts: ['api.groq.com'],
  units: 'tokens (input, output)',
  meter: (exchange) => meterOpenAIShaped('groq', exchange, ['usage', 'x_groq.usage']),
};
