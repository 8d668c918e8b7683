import type { GatewayEndpoint } from '@switchyard/proxy-core';

/**
 * OpenTelemetry GenAI semantic-convention attribute names (development status) used on
 * Switchyard's spans, plus the general `server.*` and `error.type` attributes.
 * @see https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/
 */
export const GENAI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestStream: 'gen_ai.request.stream',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
} as const;

/** The GenAI operation an endpoint performs (`chat`, `text_completion`, `embeddings`). */
export function genaiOperation(endpoint: GatewayEndpoint, operation: string | undefined): string {
  switch (endpoint) {
    case 'chat':
    case 'messages':
      return 'chat';
    case 'completions':
      return 'text_completion';
    case 'embeddings':
      return 'embeddings';
    case 'proxy':
      return operation === undefined || operation === '' ? 'proxy' : operation;
  }
}

// provider types whose well-known GenAI name differs from the type
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  gemini: 'gcp.gemini',
  bedrock: 'aws.bedrock',
  'azure-openai': 'azure.ai.openai',
  mistral: 'mistral_ai',
  xai: 'x_ai',
};

/** The `gen_ai.provider.name` of a provider type: the convention's well-known value where there is one, else the type. */
export function genaiProviderName(providerType: string): string {
  return PROVIDER_NAMES[providerType] ?? providerType;
}
