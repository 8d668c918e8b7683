import type { ProviderFactory } from '../providers/provider-adapter';
import type { GatewayPlugin } from '../hooks/gateway-hooks';
import { anthropicProvider } from '../providers/anthropic';
import { azureOpenAIProvider } from '../providers/azure-openai';
import { bedrockProvider } from '../providers/bedrock';
import { cohereProvider } from '../providers/cohere';
import { geminiProvider } from '../providers/gemini';
import { mockProvider } from '../providers/mock';
import { ollamaProvider } from '../providers/ollama';
import { openAIPresetProviders, openAIProvider } from '../providers/openai';

/**
 * The built-in provider factories. Their adapters end every call when its cancellation aborts
 * (their tests hold them to it), so the engine awaits them as they are; it races a plugin's
 * adapter against the attempt's abort (`raceAbort`).
 */
export const BUILTIN_PROVIDER_FACTORIES: ReadonlySet<ProviderFactory> = new Set<ProviderFactory>([
  openAIProvider,
  mockProvider,
  geminiProvider,
  ollamaProvider,
  cohereProvider,
  ...openAIPresetProviders,
  anthropicProvider,
  azureOpenAIProvider,
  bedrockProvider,
]);

/** Registers the built-in provider types through the same hook a third-party plugin uses. */
export const builtinProvidersPlugin: GatewayPlugin = {
  name: 'switchyard:builtin-providers',
  apply(hooks) {
    hooks.registerProviders.tap('switchyard:builtin-providers', (registry) => {
      for (const factory of BUILTIN_PROVIDER_FACTORIES) registry.register(factory);
    });
  },
};
