import {
  createGateway,
  createRequestContext,
  type ChatCompletionChunk,
  type Gateway,
  type GatewayPlugin,
  type RequestContextInit,
} from '@switchyard/proxy-core';
import { createResponseCache, type ResponseCache } from '../../src/cache/response-cache';
import type { ResponseCacheOptions } from '../../src/cache/response-cache-options';

/**
 * A gateway on the in-process mock provider (alias `demo` -> model `echo`) with a response cache
 * of 1 MiB in memory, counting upstream attempts; `plugins` run before the cache.
 */
export function cacheGateway(
  options: Partial<ResponseCacheOptions> = {},
  plugins: GatewayPlugin[] = [],
): { gateway: Gateway; cache: ResponseCache; upstreamCalls: () => number } {
  const cache = createResponseCache({ memory: { maxBytes: 1024 * 1024 }, ...options });
  let calls = 0;
  const counter: GatewayPlugin = {
    name: 'count',
    apply: (hooks) => hooks.onAttempt.tap('count', () => void (calls += 1)),
  };
  const gateway = createGateway({
    providers: [{ name: 'mock', type: 'mock' }],
    models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    plugins: [counter, ...plugins, cache],
  });
  return { gateway, cache, upstreamCalls: () => calls };
}

/** Every chunk of a stream. */
export async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** A request context of the client key `key-a` (the cache's scope). */
export function cacheContext(init: RequestContextInit = {}) {
  return createRequestContext({ metadata: { apiKeyId: 'key-a' }, ...init });
}
