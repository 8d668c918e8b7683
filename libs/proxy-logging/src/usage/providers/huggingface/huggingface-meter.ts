import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

/**
 * Hugging Face: OpenAI-shaped usage, whole and streamed.
 * @see https://huggingface.co/docs/inference-providers
 */
export const huggingFaceMeter: ProviderMeter = {
  name: 'huggingface',
  label: 'Hugging Face',
  hosts: ['router.huggingface.co', 'api-inference.huggingface.co', '*.endpoints.huggingface.cloud'],
  units: 'tokens (input, output) on chat routes',
  meter: (exchange) => meterOpenAIShaped('huggingface', exchange),
};
