import { createGateway, createRequestContext, type ChatCompletionRequest } from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponseCache } from '../src/cache/response-cache';

describe('response cache with an upstream stream that breaks', () => {
  let upstream: MockUpstream;
  beforeAll(async () => {
    upstream = await createMockUpstream();
  });
  afterAll(() => upstream.close());

  it('never stores a stream cut after the first chunks, and stores the next complete one', async () => {
    const cache = createResponseCache({ memory: { maxBytes: 1024 * 1024 } });
    const gateway = createGateway({
      providers: [
        { name: 'openai', type: 'openai', apiKey: 'sk-test-0000000000000000', baseUrl: `${upstream.url}/v1` },
      ],
      models: [{ name: 'demo', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      plugins: [cache],
    });
    const request: ChatCompletionRequest = {
      model: 'demo',
      messages: [{ role: 'user', content: 'break me' }],
      temperature: 0,
    };
    upstream.fault({ kind: 'stream-error', afterChunks: 3, times: 1 });
    const broken = createRequestContext();
    const consume = async () => {
      for await (const _chunk of await gateway.stream(request, { context: broken })) {
        // read to the failure
      }
    };
    await expect(consume()).rejects.toMatchObject({ code: 'upstream_stream_error' });
    expect(cache.stats()).toMatchObject({ stores: 0, abandonedStreams: 1 });

    const complete = createRequestContext();
    for await (const _chunk of await gateway.stream(request, { context: complete })) {
      // read to the end
    }
    expect(complete.cacheStatus).toBe('MISS');
    const replay = createRequestContext();
    for await (const _chunk of await gateway.stream(request, { context: replay })) {
      // replayed from the cache
    }
    expect(replay.cacheStatus).toBe('HIT');
    expect(upstream.requests).toHaveLength(2);
    await gateway.close();
  });
});
