export {
  ANTHROPIC_DEFAULTS,
  AnthropicAdapter,
  anthropicProvider,
  AnthropicProviderOptionsSchema,
} from './anthropic-adapter';
export type { AnthropicProviderOptions } from './anthropic-adapter';
