export { OpenAIAdapter, openAIProvider, OpenAIProviderOptionsSchema } from './openai-adapter';
export type { OpenAIProviderOptions } from './openai-adapter';
export { OPENAI_PRESETS, openAIPresetProvider, openAIPresetProviders } from './openai-presets';
export type { OpenAIPreset, OpenAIPresetType } from './openai-presets';
export type { ToolCallIdFormat } from './openai-tool-call-id';
