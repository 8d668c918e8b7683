// The public surface of @switchyard/proxy-core, listed by hand.

// wire types
export type {
  ChatAllowedToolsChoice,
  ChatAssistantMessage,
  ChatChoice,
  ChatChunkChoice,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatContentPart,
  ChatCustomTool,
  ChatCustomToolCall,
  ChatDelta,
  ChatFinishReason,
  ChatFunctionMessage,
  ChatFunctionTool,
  ChatFunctionToolCall,
  ChatImagePart,
  ChatLegacyFunction,
  ChatMessage,
  ChatResponseFormat,
  ChatResponseMessage,
  ChatSystemMessage,
  ChatTextPart,
  ChatTool,
  ChatToolCall,
  ChatToolCallDelta,
  ChatToolChoice,
  ChatToolMessage,
  ChatToolReference,
  ChatUrlCitation,
  ChatUsage,
  ChatUserMessage,
  ChatWebSearchOptions,
  OpenAIErrorBody,
} from './wire/openai-chat';
export type {
  Embedding,
  EmbeddingRequest,
  EmbeddingResponse,
  ModelEntry,
  ModelList,
} from './wire/openai-embeddings';
export {
  ChatCompletionRequestSchema,
  EmbeddingRequestSchema,
  MAX_CHAT_MESSAGES,
} from './wire/chat-request-schema';
export { CompletionRequestSchema } from './wire/openai-completions';
export type {
  CompletionLogprobs,
  CompletionRequest,
  TextCompletion,
  TextCompletionChoice,
} from './wire/openai-completions';

// legacy completions: the chat view they travel the gateway as
export {
  completionChatView,
  LEGACY_COMPLETION_DEFAULTS,
  LEGACY_COMPLETION_FIELD,
} from './completions/completion-chat-view';
export type { LegacyCompletionFields } from './completions/completion-chat-view';

// the Anthropic Messages ingress: Anthropic request -> chat request, chat answers -> Anthropic shapes
export { AnthropicMessagesRequestSchema } from './ingress/anthropic-messages-schema';
export {
  messagesToChatRequest,
  TOOL_ERROR_PREFIX,
  translateMessagesRequest,
} from './ingress/messages-to-chat-request';
export type { MessagesIngressRequest } from './ingress/messages-to-chat-request';
export { anthropicMessageId, chatToAnthropicMessage } from './ingress/chat-to-anthropic-message';
export type { AnthropicIngressMessage } from './ingress/chat-to-anthropic-message';
export {
  chatStreamToAnthropicEvents,
  ChatToAnthropicStreamMapper,
} from './ingress/chat-stream-to-anthropic-events';
export { mapChatUsageToAnthropic } from './ingress/map-chat-usage-to-anthropic';
export type { AnthropicIngressUsage } from './ingress/map-chat-usage-to-anthropic';
export { mapFinishReasonToAnthropic } from './ingress/map-finish-reason-to-anthropic';
export { ANTHROPIC_ERROR_TYPES, toAnthropicError } from './ingress/to-anthropic-error';
export type { AnthropicErrorType, AnthropicIngressErrorBody } from './ingress/to-anthropic-error';
export type {
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicRequestBlock,
  AnthropicStopReason,
  AnthropicStreamEvent,
  AnthropicTool,
  AnthropicToolChoice,
  AnthropicUsage,
} from './providers/anthropic/anthropic-wire';

// errors
export { ERROR_CATALOG, isSwitchyardErrorCode } from './errors/error-catalog';
export type { ErrorCodeInfo, SwitchyardErrorCode } from './errors/error-catalog';
export { SwitchyardError, isSwitchyardError, toSwitchyardError } from './errors/switchyard-error';
export type { SwitchyardErrorOptions } from './errors/switchyard-error';

// the engine
export { createGateway } from './gateway/create-gateway';
export type { CallOptions, ChatStream, Gateway, GatewayTimeouts } from './gateway/create-gateway';
export {
  GATEWAY_DEFAULTS,
  GatewayConfigSchema,
  ModelRouteSchema,
  RouteTargetSchema,
  RoutingOptionsSchema,
  RoutingStrategySchema,
} from './gateway/gateway-options';
export type { GatewayOptions, ModelRouteConfig } from './gateway/gateway-options';
export { createRequestContext, elapsedMs, isChatRequestEndpoint } from './gateway/request-context';
export { timeOrderedUuid } from './gateway/time-ordered-uuid';
export type {
  AttemptRecord,
  CacheStatus,
  CondensationReport,
  GatewayEndpoint,
  RequestContext,
  RequestContextInit,
  RequestDirectives,
  RequestMetadata,
} from './gateway/request-context';
export type { ModelCatalog, ModelInfo, ModelPriceReference } from './catalog/model-catalog';
export { upstreamRequestChannel } from './gateway/run-attempts';

// hooks and plugins
export { createGatewayHooks } from './hooks/gateway-hooks';
export type {
  AttemptPlan,
  GatewayHooks,
  GatewayPlugin,
  PrecomputedAnswer,
  UsageReport,
} from './hooks/gateway-hooks';

// routing
export { orderTargets } from './router/order-targets';
export { targetKey } from './router/target-key';
export {
  DEFAULT_OUTPUT_TOKENS,
  estimateEmbeddingTokens,
  estimatePromptTokens,
  estimateTextTokens,
  requestedChoices,
  requestedOutputTokens,
  type RequestedChoicesInput,
} from './router/estimate-tokens';
export type { CostEstimator, CostQuery } from './router/cost-estimator';
export type {
  FallbackOn,
  ResolvedRoute,
  RouteQuery,
  RouteTarget,
  RouteTargetLimits,
  RoutingStrategyName,
} from './router/route-types';
export type { RouteCandidate } from './router/route-candidate';

// resilience
export {
  BreakerOptionsSchema,
  LimiterOptionsSchema,
  LimiterRedisOptionsSchema,
  RESILIENCE_DEFAULTS,
  RetryOptionsSchema,
  TargetLimitsSchema,
} from './resilience/resilience-options';
export type {
  BreakerOptions,
  LimiterOptions,
  LimiterRedisOptions,
  RetryOptions,
  TargetLimits,
} from './resilience/resilience-options';
export { breakerStateChannel } from './resilience/resilience-events';
export type {
  BreakerState,
  BreakerStateMessage,
  LimiterMode,
  ResilienceCounters,
  ResilienceEvent,
  ResilienceStats,
} from './resilience/resilience-events';
export { AbortSourceController } from './resilience/linked-abort-controller';
export { withTimeout } from './resilience/with-timeout';
export type { AbortSource } from './resilience/linked-abort-controller';

// the provider kit: everything a provider adapter (built-in or plugin) builds on
export { PROVIDER_CONTRACT_VERSION } from './providers/provider-adapter';
export type {
  ProviderAdapter,
  ProviderCallContext,
  ProviderConfig,
  ProviderConfigBase,
  ProviderFactory,
  ProviderKit,
} from './providers/provider-adapter';
export { callCancellation } from './providers/provider-call-cancellation';
export { ProviderRegistry } from './providers/provider-registry';
export { readJsonBody, readOpenAIStyleError, upstreamRequest } from './http/upstream-request';
export type { UpstreamRequestOptions, UpstreamResponse } from './http/upstream-request';
export { upstreamJsonRequest } from './http/upstream-json-request';
export type { UpstreamJsonResponse } from './http/upstream-json-request';
export { upstreamStreamRequest } from './http/upstream-stream-request';
export type { UpstreamBody, UpstreamStreamResponse } from './http/upstream-stream-request';
export { upstreamServerOf } from './http/upstream-server';
export type { UpstreamServer } from './http/upstream-server';
export {
  providerErrorFields,
  streamEventErrorCode,
  transportError,
  upstreamError,
} from './http/upstream-error';
export type { UpstreamFailure } from './http/upstream-error';
export { parseDurationMs, retryAfterMsFromHeaders, retryAfterMsFromMessage } from './http/retry-after';
export { redactSecrets } from './http/redact-secrets';
export { isValidHeaderValue } from './http/header-value';
export { credentialSecret, SECRET_QUERY_PARAMS } from './http/call-credentials';
export { addressRefusal, assertAllowedTarget, hostMatches } from './http/assert-allowed-target';
export type { TargetPolicy } from './http/assert-allowed-target';
export { canonicalAddress, classifyAddress, isIpLiteral } from './http/ip-address-class';
export type { AddressClass } from './http/ip-address-class';
export { createGuardedAgent, createGuardedLookup } from './http/guarded-agent';
export type { GuardedAgentOptions, ResolveAll } from './http/guarded-agent';
export { readNdjson, readSse } from './stream/read-sse';
export type { SseEvent } from './stream/read-sse';
export { mapUpstreamStream } from './stream/map-upstream-stream';
export { isEngineGateway, isEngineStream, sourceTextOf } from './stream/chunk-source-text';
export { engineStreamReads } from './stream/chunk-reads';
export type { ChunkReads } from './stream/chunk-reads';
export type { StreamMapper } from './stream/map-upstream-stream';
export { usageSoFarOf, withUsageSoFar } from './stream/stream-usage-so-far';
export type { UsageSoFar } from './stream/stream-usage-so-far';
export {
  contentText,
  imageMediaTypeFromUrl,
  invalidRequest,
  parseDataUrl,
  parseToolArguments,
  toolNamesById,
  unsupportedFeature,
} from './wire/chat-message-parts';
export type { InlineImage } from './wire/chat-message-parts';
export { embeddingTexts, toEmbedding } from './embeddings/embedding-encoding';
export { schemaProblems } from './options/validate-schema';
export { MAX_TIMER_MS, timerDelayProblem, timerDelayReason, timerDelaySchema } from './options/max-timer';
export { SchemaReason, withReason } from './options/schema-reason';
export type { SchemaReasonFunction } from './options/schema-reason';
export { silentLogger } from './options/logger';
export type { LogFn, Logger } from './options/logger';
// a record's own entry under a client-chosen name, never an Object.prototype member
export { ownEntry } from './util/own-entry';

// built-in providers
export { MockAdapter, mockProvider, MockProviderOptionsSchema } from './providers/mock';
export type { MockProviderOptions } from './providers/mock';
export { OpenAIAdapter, openAIProvider, OpenAIProviderOptionsSchema } from './providers/openai';
export type {
  OpenAIPreset,
  OpenAIPresetType,
  OpenAIProviderOptions,
  ToolCallIdFormat,
} from './providers/openai';
export { OPENAI_PRESETS, openAIPresetProvider, openAIPresetProviders } from './providers/openai';
export {
  GEMINI_DEFAULTS,
  GeminiAdapter,
  geminiProvider,
  GeminiProviderOptionsSchema,
} from './providers/gemini';
export type { GeminiProviderOptions } from './providers/gemini';
export { mapGeminiUsage } from './providers/gemini/from-gemini-response';
export { GeminiWebSearches } from './providers/gemini/gemini-web-searches';
export type {
  GeminiGroundingMetadata,
  GeminiModalityTokenCount,
  GeminiUsageMetadata,
} from './providers/gemini/gemini-wire';
export {
  OLLAMA_DEFAULTS,
  OllamaAdapter,
  ollamaProvider,
  OllamaProviderOptionsSchema,
} from './providers/ollama';
export type { OllamaProviderOptions } from './providers/ollama';
export {
  COHERE_DEFAULTS,
  CohereAdapter,
  cohereProvider,
  CohereProviderOptionsSchema,
} from './providers/cohere';
export type { CohereProviderOptions } from './providers/cohere';
export {
  ANTHROPIC_DEFAULTS,
  AnthropicAdapter,
  anthropicProvider,
  AnthropicProviderOptionsSchema,
} from './providers/anthropic';
export type { AnthropicProviderOptions } from './providers/anthropic';
export {
  AZURE_OPENAI_DEFAULTS,
  AzureOpenAIAdapter,
  azureOpenAIProvider,
  AzureOpenAIProviderOptionsSchema,
} from './providers/azure-openai';
export type { AzureOpenAIProviderOptions } from './providers/azure-openai';
export {
  BEDROCK_DEFAULTS,
  BedrockAdapter,
  bedrockProvider,
  BedrockProviderOptionsSchema,
} from './providers/bedrock';
export type { BedrockProviderOptions } from './providers/bedrock';

// Redis (shared by the libs that keep state in it)
export {
  createRedisClient,
  isRedisCluster,
  pingRedis,
  redisEndpointOf,
  redisEndpointProblems,
  redisUrlProblem,
  RedisClusterOptionsSchema,
  RedisUrlSchema,
} from './redis/redis-client';
export type {
  RedisClient,
  RedisClientSettings,
  RedisClusterOptions,
  RedisEndpoint,
} from './redis/redis-client';
