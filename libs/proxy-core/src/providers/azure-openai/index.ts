export {
  AZURE_OPENAI_DEFAULTS,
  AzureOpenAIAdapter,
  azureOpenAIProvider,
  AzureOpenAIProviderOptionsSchema,
} from './azure-openai-adapter';
export type { AzureOpenAIProviderOptions } from './azure-openai-adapter';
