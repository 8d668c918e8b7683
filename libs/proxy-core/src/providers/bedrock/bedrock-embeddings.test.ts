import { BEDROCK_TEST_CREDENTIALS, createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callContext, rejection } from '../../../test/support/provider-test-kit';
import { silentLogger } from '../../options/logger';
import { BedrockAdapter, type BedrockProviderOptions } from './bedrock-adapter';

const TITAN = 'amazon.titan-embed-text-v2:0';
const COHERE = 'cohere.embed-english-v3';
let upstream: MockUpstream;
let dispatcher: Agent;

const make = (options: Partial<BedrockProviderOptions> = {}): BedrockAdapter =>
  new BedrockAdapter(
    {
      name: 'bedrock',
      type: 'bedrock',
      region: 'us-east-1',
      baseUrl: upstream.url,
      ...BEDROCK_TEST_CREDENTIALS,
      ...options,
    },
    { dispatcher, logger: silentLogger },
  );

beforeAll(async () => {
  upstream = await createMockUpstream();
  dispatcher = new Agent();
});
afterEach(() => upstream.reset());
afterAll(async () => {
  await dispatcher.close();
  await upstream.close();
});

describe('bedrock adapter: embeddings', () => {
  it('embeds with Titan V2 one signed InvokeModel call per input, in input order, with dimensions and token counts', async () => {
    const input = ['one', 'the second text', 'three words here'];
    const response = await make().embed({ model: 'titan', input, dimensions: 256 }, callContext(TITAN));
    expect(upstream.requests.map((request) => request.path)).toEqual(
      Array(3).fill('/model/amazon.titan-embed-text-v2%3A0/invoke'),
    );
    expect(
      upstream.requests
        .map((request) => request.body)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([
      { inputText: 'one', dimensions: 256, normalize: true },
      { inputText: 'the second text', dimensions: 256, normalize: true },
      { inputText: 'three words here', dimensions: 256, normalize: true },
    ]);
    for (const request of upstream.requests)
      expect(request.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(response.data.map((entry) => entry.index)).toEqual([0, 1, 2]);
    // the mock's vectors depend on each text's length: order is the input's
    const first = response.data.map((entry) => (entry.embedding as number[])[0]);
    expect(first).toEqual([0.004, 0.016, 0.017]);
    expect(response.data.every((entry) => (entry.embedding as number[]).length === 256)).toBe(true);
    expect(response.usage).toEqual({ prompt_tokens: 1 + 3 + 3, total_tokens: 7 });
    expect(response.model).toBe(TITAN);
  });

  it('keeps at most embedConcurrency Titan calls in flight', async () => {
    // the server holds each answer until two calls are waiting (or the last one came)
    let inFlight = 0;
    let most = 0;
    let arrived = 0;
    let waiting: Array<() => void> = [];
    const gated = await createMockUpstream({
      routes: [
        {
          method: 'POST',
          path: /\/invoke$/,
          handle: async ({ res, body }) => {
            inFlight += 1;
            arrived += 1;
            most = Math.max(most, inFlight);
            const released = new Promise<void>((resolve) => waiting.push(resolve));
            if (waiting.length === 2 || arrived === 5) {
              const release = waiting;
              waiting = [];
              release.forEach((resolve) => resolve());
            }
            await released;
            inFlight -= 1;
            const text = (body as { inputText: string }).inputText;
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ embedding: [text.charCodeAt(0)], inputTextTokenCount: 1 }));
          },
        },
      ],
    });
    try {
      const adapter = new BedrockAdapter(
        {
          name: 'bedrock',
          type: 'bedrock',
          region: 'us-east-1',
          baseUrl: gated.url,
          ...BEDROCK_TEST_CREDENTIALS,
          embedConcurrency: 2,
        },
        { dispatcher, logger: silentLogger },
      );
      const response = await adapter.embed(
        { model: 'titan', input: ['a', 'b', 'c', 'd', 'e'] },
        callContext(TITAN),
      );
      expect(response.data.map((entry) => entry.embedding)).toEqual([[97], [98], [99], [100], [101]]);
      expect(arrived).toBe(5);
      expect(most).toBe(2);
    } finally {
      await gated.close();
    }
  });

  it('returns base64 float32 vectors when asked, as OpenAI encodes them', async () => {
    const floats = await make().embed(
      { model: 'titan', input: 'hello', dimensions: 256 },
      callContext(TITAN),
    );
    const encoded = await make().embed(
      { model: 'titan', input: 'hello', dimensions: 256, encoding_format: 'base64' },
      callContext(TITAN),
    );
    const bytes = Buffer.from(encoded.data[0]?.embedding as string, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(decoded).toHaveLength(256);
    decoded.forEach((value, i) =>
      expect(value).toBeCloseTo((floats.data[0]?.embedding as number[])[i] as number, 6),
    );
  });

  it('embeds with Cohere in batches of 96, input_type from the options, tokens from the response header', async () => {
    const input = Array.from({ length: 100 }, (_, i) => `text number ${i}`);
    const response = await make({ embeddingInputType: 'search_query' }).embed(
      { model: 'cohere', input },
      callContext(COHERE),
    );
    expect(upstream.requests).toHaveLength(2);
    const sizes = upstream.requests
      .map((request) => (request.body as { texts: string[] }).texts.length)
      .sort((a, b) => a - b);
    expect(sizes).toEqual([4, 96]);
    expect(upstream.requests[0]?.body).toMatchObject({
      input_type: 'search_query',
      embedding_types: ['float'],
    });
    expect(response.data).toHaveLength(100);
    expect(response.data.map((entry) => entry.index)).toEqual(input.map((_, i) => i));
    expect(response.usage).toEqual({ prompt_tokens: 300, total_tokens: 300 });
  });

  it('fails the whole request when one Titan call fails, and refuses what the models cannot do before calling', async () => {
    upstream.fault({
      kind: 'status',
      status: 429,
      body: { message: 'Too many requests, please wait before trying again.' },
      headers: {
        'x-amzn-errortype': 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/',
      },
      times: 1,
    });
    const throttled = await rejection(
      make({ embedConcurrency: 1 }).embed({ model: 'titan', input: ['a', 'b'] }, callContext(TITAN)),
    );
    expect(throttled.code).toBe('upstream_rate_limited');
    upstream.reset();
    expect(
      (
        await rejection(
          make().embed({ model: 'x', input: 'a' }, callContext('anthropic.claude-3-5-sonnet-20240620-v1:0')),
        )
      ).code,
    ).toBe('unsupported_feature');
    expect((await rejection(make().embed({ model: 'x', input: [[1, 2]] }, callContext(TITAN)))).code).toBe(
      'unsupported_feature',
    );
    expect(
      (await rejection(make().embed({ model: 'x', input: 'a', dimensions: 256 }, callContext(COHERE)))).code,
    ).toBe('unsupported_feature');
    const fanOut = await rejection(
      make({ titanMaxInputs: 2 }).embed({ model: 'x', input: ['a', 'b', 'c'] }, callContext(TITAN)),
    );
    expect(fanOut).toMatchObject({ code: 'unsupported_feature', param: 'input' });
    expect(upstream.requests).toHaveLength(0);
  });
});
