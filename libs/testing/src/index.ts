export { createMockUpstream } from './mock-upstream';
export type {
  MockExchange,
  MockRoute,
  MockUpstream,
  MockUpstreamOptions,
  RecordedRequest,
} from './mock-upstream';
export type { MockFault } from './mock-fault';
export { sendJson, splitText, startSse, writeSse } from './sse';
export { openAIRoutes } from './openai/openai-routes';
export { requireService, TEST_DATABASE_URL, TEST_REDIS_URL } from './require-service';
export { CHROMIUM_PATH, requireChromium } from './require-chromium';
export { GEMINI_GROUNDING_EXAMPLE, geminiRoutes } from './gemini/gemini-routes';
export { ndjsonChunks, replyWithFixture, sseChunks, writeChunks } from './stream-chunks';
export type { ChunkedBody, FixtureReply } from './stream-chunks';
export { OLLAMA_MOCK_THINKING, ollamaRoutes } from './ollama/ollama-routes';
export { describeReadmeExample, readmeEmbeds, runExample } from './readme-examples';
export type { ReadmeExampleOptions } from './readme-examples';
export { cohereRoutes } from './cohere/cohere-routes';
export { anthropicRoutes } from './anthropic/anthropic-routes';
export { replaySse } from './sse-replay';
export type { SseFrame } from './sse-replay';
export { azureOpenAIRoutes } from './azure-openai/azure-openai-routes';
export { bedrockRoutes } from './bedrock/bedrock-routes';
export { vertexRoutes } from './vertex/vertex-routes';
export {
  encodeBedrockEvent,
  encodeBedrockException,
  eventStreamChunks,
} from './bedrock/bedrock-event-stream';
export { BEDROCK_TEST_API_KEY, BEDROCK_TEST_CREDENTIALS, verifyBedrockAuth } from './bedrock/verify-sigv4';
export type { SigV4Refusal } from './bedrock/verify-sigv4';
export {
  anthropicErrorProblems,
  anthropicMessageProblems,
  anthropicStreamProblems,
  parseNamedSse,
} from './anthropic/anthropic-shapes';
export type { NamedSseEvent } from './anthropic/anthropic-shapes';
export { requireRedisCluster, startRedisCluster } from './redis-cluster';
export type { TestRedisCluster, TestRedisClusterOptions } from './redis-cluster';
export { startFrozenRelay } from './frozen-relay';
export type { FrozenRelay } from './frozen-relay';
export { captureLogLines } from './log-lines';
export type { CapturedLog } from './log-lines';
export { freeTcpPort, startRedisServer } from './redis-server';
export type { TestRedisServer } from './redis-server';
export { UNTIL_SETTLED } from './waits';
