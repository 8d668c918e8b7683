import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

/**
 * Azure OpenAI: OpenAI-shaped usage, whole and streamed.
 * @see https://learn.microsoft.com/azure/ai-services/openai/reference
 */
export const azureOpenAIMeter: ProviderMeter = {
  name: 'azure-openai',
  label: 'Azure OpenAI',
  hosts: ['*.openai.azure.com', '*.cognitiveservices.azure.com', '*.services.ai.azure.com'],
  units: 'tokens (input, cached, output, reasoning)',
  meter: (exchange) => meterOpenAIShaped('azure-openai', exchange),
};
