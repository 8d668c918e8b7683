export {
  COHERE_DEFAULTS,
  CohereAdapter,
  cohereProvider,
  CohereProviderOptionsSchema,
} from './cohere-adapter';
export type { CohereProviderOptions } from './cohere-adapter';
