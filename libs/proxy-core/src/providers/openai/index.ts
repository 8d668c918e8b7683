export { OpenAIAdapter, openAIProvider, OpenAIProviderOptionsSchema } from './openai-adapter';
export type { OpenAIProviderOptions } from './openai-adapter';
