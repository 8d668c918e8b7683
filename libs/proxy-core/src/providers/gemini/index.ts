export {
  GEMINI_DEFAULTS,
  GeminiAdapter,
  geminiProvider,
  GeminiProviderOptionsSchema,
} from './gemini-adapter';
export type { GeminiProviderOptions } from './gemini-adapter';
