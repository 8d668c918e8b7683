export {
  OLLAMA_DEFAULTS,
  OllamaAdapter,
  ollamaProvider,
  OllamaProviderOptionsSchema,
} from './ollama-adapter';
export type { OllamaProviderOptions } from './ollama-adapter';
