import {
  contentText,
  createGateway,
  createRequestContext,
  isEngineStream,
  sourceTextOf,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type Gateway,
  type GatewayPlugin,
  type RequestContext,
} from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createResponseCache, type ResponseCache } from '../src/cache/response-cache';

// The cache only looks at answers, so it must not cost the engine the upstream's own text
// (sent as it is, with no second serialisation); and transforms of other plugins run again on
// every replayed answer, so it must keep what the upstream said, not what they made of it.

const MARK = ' [checked]';

/** A transform that changes answers in place, as a tap may: each content gets MARK once. */
const marker: GatewayPlugin = {
  name: 'marker',
  apply(hooks) {
    hooks.afterResponse.tap('marker', (response) => {
      for (const choice of response.choices)
        choice.message.content = `${contentText(choice.message.content)}${MARK}`;
      return response;
    });
    hooks.onStreamChunk.tap('marker', (chunk) => {
      for (const choice of chunk.choices) if (choice.delta.content) choice.delta.content += MARK;
      return chunk;
    });
  },
};

let upstream: MockUpstream;
const gateways: Gateway[] = [];
const request: ChatCompletionRequest = {
  model: 'demo',
  messages: [{ role: 'user', content: 'hello cache' }],
  temperature: 0,
};

function setup(plugins: (cache: ResponseCache) => GatewayPlugin[] = (cache) => [cache]): {
  gateway: Gateway;
  cache: ResponseCache;
} {
  const cache = createResponseCache({ memory: { maxBytes: 1024 * 1024 } });
  const gateway = createGateway({
    providers: [
      { name: 'openai', type: 'openai', apiKey: 'sk-test-0000000000000000', baseUrl: `${upstream.url}/v1` },
    ],
    models: [{ name: 'demo', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    plugins: plugins(cache),
  });
  gateways.push(gateway);
  return { gateway, cache };
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const contentOf = (chunks: readonly ChatCompletionChunk[]): string[] =>
  chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta.content ?? ''));
const chatRequests = (): number =>
  upstream.requests.filter((sent) => sent.path.endsWith('/chat/completions')).length;

beforeAll(async () => {
  upstream = await createMockUpstream();
});
afterEach(async () => {
  upstream.reset();
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});
afterAll(() => upstream.close());

describe('response cache and the upstream text', () => {
  it('leaves a whole answer nothing changed its upstream text, and replays it on a hit', async () => {
    const { gateway, cache } = setup();
    const miss: RequestContext = createRequestContext();
    const first = await gateway.chat(request, { context: miss });
    expect(miss.cacheStatus).toBe('MISS');
    const text = sourceTextOf(first);
    expect(text).toBeDefined();
    expect(JSON.parse(text ?? 'null')).toEqual(first);

    const hit = createRequestContext();
    const second = await gateway.chat(request, { context: hit });
    expect(hit.cacheStatus).toBe('HIT');
    expect(second).toEqual(first);
    expect(chatRequests()).toBe(1);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, stores: 1 });
  });

  it('leaves each streamed chunk nothing changed its upstream text, and replays the stream on a hit, usage included', async () => {
    const { gateway } = setup();
    const stream = await gateway.stream(request, { context: createRequestContext() });
    expect(isEngineStream(stream)).toBe(true);
    const first = await collect(stream);
    expect(first.map((chunk) => sourceTextOf(chunk) !== undefined)).toEqual(first.map(() => true));
    expect(first.every((chunk) => chunk.usage === undefined)).toBe(true);

    const hit = createRequestContext();
    const replayed = await collect(await gateway.stream(request, { context: hit }));
    expect(hit.cacheStatus).toBe('HIT');
    expect(replayed).toEqual(first);
    expect(hit.usage?.total_tokens).toBeGreaterThan(0);
    // the first client did not ask for usage; one that does gets it from the cached stream
    const withUsage = await collect(
      await gateway.stream(
        { ...request, stream_options: { include_usage: true } },
        { context: createRequestContext() },
      ),
    );
    expect(withUsage.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: hit.usage?.total_tokens } });
    expect(withUsage.slice(0, -1)).toEqual(first);
    expect(chatRequests()).toBe(1);
  });

  for (const order of ['before', 'after'] as const) {
    it(`applies another plugin's transforms exactly once on a hit (transform registered ${order} the cache)`, async () => {
      const { gateway } = setup((cache) => (order === 'before' ? [marker, cache] : [cache, marker]));
      const first = await gateway.chat(request, { context: createRequestContext() });
      const content = contentText(first.choices[0]?.message.content);
      expect(content.endsWith(MARK) && !content.endsWith(MARK + MARK)).toBe(true);
      const hit = createRequestContext();
      expect(await gateway.chat(request, { context: hit })).toEqual(first);
      expect(hit.cacheStatus).toBe('HIT');

      const streamed = contentOf(
        await collect(await gateway.stream(request, { context: createRequestContext() })),
      );
      expect(
        streamed
          .filter((piece) => piece !== '')
          .every((piece) => piece.endsWith(MARK) && !piece.endsWith(MARK + MARK)),
      ).toBe(true);
      const streamHit = createRequestContext();
      expect(contentOf(await collect(await gateway.stream(request, { context: streamHit })))).toEqual(
        streamed,
      );
      expect(streamHit.cacheStatus).toBe('HIT');
      expect(chatRequests()).toBe(2);
    });
  }

  it('does not store an answer a transform refused', async () => {
    let refuse = true;
    const guard: GatewayPlugin = {
      name: 'guard',
      apply: (hooks) =>
        hooks.afterResponse.tap('guard', (response) => {
          if (refuse) throw new Error('refused');
          return response;
        }),
    };
    const { gateway, cache } = setup((cache) => [guard, cache]);
    await expect(gateway.chat(request, { context: createRequestContext() })).rejects.toBeDefined();
    refuse = false;
    const next = createRequestContext();
    await gateway.chat(request, { context: next });
    expect(next.cacheStatus).toBe('MISS');
    expect(cache.stats().stores).toBe(1);
  });
});
