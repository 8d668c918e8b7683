import type { GatewayPlugin, RequestContext } from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// Perplexity on /v1/chat/completions (the `perplexity` preset of the OpenAI-compatible adapter,
// over real HTTP to the mock upstream): the request's `web_search_options` reach Perplexity, and
// its request fee is priced by them as the universal proxy prices it, where Perplexity states no
// cost. Sonar Pro: $3 / $15 per million tokens, a request fee per 1000 of $6 / $10 / $14 by search
// context size, and $14 / $18 / $22 with Pro Search, which runs on streamed requests only.
// https://docs.perplexity.ai/getting-started/pricing, https://docs.perplexity.ai/docs/sonar/pro-search/quickstart

const TOKENS_USD = 1000 * 3e-6 + 1000 * 15e-6;

let upstream: MockUpstream;
let sized: MockUpstream;
let app: FastifyInstance;
const ended: RequestContext[] = [];
const recorder: GatewayPlugin = {
  name: 'test:ended',
  apply: (hooks) => hooks.onRequestEnd.tap('test:ended', (context) => ended.push(context)),
};

beforeAll(async () => {
  // no cost in the usage, and (on `sized`) the search context size the answer says was used
  upstream = await createMockUpstream({
    chatUsage: { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 },
  });
  sized = await createMockUpstream({
    chatUsage: {
      prompt_tokens: 1000,
      completion_tokens: 1000,
      total_tokens: 2000,
      search_context_size: 'low',
    },
  });
  app = createApp({
    gateway: {
      providers: [
        { name: 'pplx', type: 'perplexity', baseUrl: upstream.url, apiKey: 'pplx-test' },
        { name: 'pplx-sized', type: 'perplexity', baseUrl: sized.url, apiKey: 'pplx-test' },
      ],
      models: [
        { name: 'sonar-pro', targets: [{ provider: 'pplx', model: 'sonar-pro' }] },
        { name: 'sonar-pro-sized', targets: [{ provider: 'pplx-sized', model: 'sonar-pro' }] },
      ],
      plugins: [recorder],
    },
    pricing: { now: () => new Date('2026-11-23T12:00:00Z') },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await upstream.close();
  await sized.close();
});
beforeEach(() => {
  upstream.reset();
  sized.reset();
  ended.length = 0;
});

async function costOf(
  model: string,
  stream: boolean,
  webSearchOptions: Record<string, unknown>,
): Promise<number | null | undefined> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: {
      model,
      stream,
      messages: [{ role: 'user', content: 'What changed in the EU AI Act this week?' }],
      web_search_options: webSearchOptions,
    },
  });
  expect(response.statusCode).toBe(200);
  await expect.poll(() => ended.length).toBe(1);
  return ended[0]!.costUsd;
}

describe('Perplexity search options on /v1', () => {
  it('reach Perplexity as the client sent them, streamed or not', async () => {
    const options = { search_type: 'pro', search_context_size: 'medium' };
    await costOf('sonar-pro', true, options);
    ended.length = 0;
    await costOf('sonar-pro', false, options);
    expect(
      upstream.requests.map(
        (request) => (request.body as { web_search_options?: unknown }).web_search_options,
      ),
    ).toEqual([options, options]);
  });

  it('price a streamed Pro Search at its own fee, of the size asked for where the answer does not say it', async () => {
    expect(
      await costOf('sonar-pro', true, { search_type: 'pro', search_context_size: 'medium' }),
    ).toBeCloseTo(TOKENS_USD + 0.018, 10);
  });

  it('price auto (the answer does not say what it chose) at the Pro Search fee, high where the size is unknown', async () => {
    expect(await costOf('sonar-pro', true, { search_type: 'auto' })).toBeCloseTo(TOKENS_USD + 0.022, 10);
  });

  it('take the size the answer says over the one asked for', async () => {
    expect(
      await costOf('sonar-pro-sized', true, { search_type: 'pro', search_context_size: 'high' }),
    ).toBeCloseTo(TOKENS_USD + 0.014, 10);
  });

  it('price a request not streamed at the standard fee (Pro Search falls back), of the size asked for', async () => {
    expect(
      await costOf('sonar-pro', false, { search_type: 'pro', search_context_size: 'medium' }),
    ).toBeCloseTo(TOKENS_USD + 0.01, 10);
  });
});
