export {
  BEDROCK_DEFAULTS,
  BedrockAdapter,
  bedrockProvider,
  BedrockProviderOptionsSchema,
} from './bedrock-adapter';
export type { BedrockProviderOptions } from './bedrock-adapter';
