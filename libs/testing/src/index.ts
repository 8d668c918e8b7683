export { createMockUpstream } from './mock-upstream';
export type { MockExchange, MockRoute, MockUpstream, MockUpstreamOptions, RecordedRequest } from './mock-upstream';
export type { MockFault } from './mock-fault';
export { sendJson, splitText, startSse, writeSse } from './sse';
export { openAIRoutes } from './openai/openai-routes';
export { requireService, TEST_DATABASE_URL, TEST_REDIS_URL } from './require-service';
export { geminiRoutes } from './gemini/gemini-routes';
export { ndjsonChunks, replyWithFixture, sseChunks, writeChunks } from './stream-chunks';
export type { ChunkedBody, FixtureReply } from './stream-chunks';
