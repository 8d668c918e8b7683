import type { GatewayPlugin } from '../hooks/gateway-hooks';
import { anthropicProvider } from '../providers/anthropic';
import { azureOpenAIProvider } from '../providers/azure-openai';
import { bedrockProvider } from '../providers/bedrock';
import { cohereProvider } from '../providers/cohere';
import { geminiProvider } from '../providers/gemini';
import { mockProvider } from '../providers/mock';
import { ollamaProvider } from '../providers/ollama';
import { openAIPresetProviders, openAIProvider } from '../providers/openai';

/** Registers the built-in provider types through the same hook a third-party plugin uses. */
export const builtinProvidersPlugin: GatewayPlugin = {
  name: 'switchyard:builtin-providers',
  apply(hooks) {
    hooks.registerProviders.tap('switchyard:builtin-providers', (registry) => {
      registry.register(openAIProvider);
      registry.register(mockProvider);
      registry.register(geminiProvider);
      registry.register(ollamaProvider);
      registry.register(cohereProvider);
      for (const preset of openAIPresetProviders) registry.register(preset);
      registry.register(anthropicProvider);
      registry.register(azureOpenAIProvider);
      registry.register(bedrockProvider);
    });
  },
};
