import { createGateway, type GatewayPlugin, type RequestContext } from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPricingPlugin } from '../src/pricing/pricing-plugin';

// Perplexity through the gateway (the OpenAI-compatible adapter, over real HTTP to the mock
// upstream): its usage carries the cost of the request, whose fee depends on the search
// context size, and its search queries (deep research).

// Perplexity's usage shape: https://docs.perplexity.ai/api-reference/chat-completions-post
const SONAR_USAGE = {
  prompt_tokens: 14,
  completion_tokens: 120,
  total_tokens: 134,
  search_context_size: 'low',
  cost: {
    input_tokens_cost: 0.000014,
    output_tokens_cost: 0.00012,
    request_cost: 0.005,
    total_cost: 0.005134,
  },
};

async function costOf(
  upstream: MockUpstream,
  model: string,
  stream: boolean,
  more: GatewayPlugin[] = [],
  pricing: GatewayPlugin = createPricingPlugin({ now: () => new Date('2026-11-23T12:00:00Z') }),
): Promise<number | null | undefined> {
  let ended: RequestContext | undefined;
  const recorder: GatewayPlugin = {
    name: 'test:recorder',
    apply: (hooks) => hooks.onRequestEnd.tap('test:recorder', (context) => (ended = context)),
  };
  const gateway = createGateway({
    providers: [{ name: 'pplx', type: 'perplexity', baseUrl: upstream.url, apiKey: 'pplx-test' }],
    models: [{ name: 'm', targets: [{ provider: 'pplx', model }] }],
    plugins: [pricing, recorder, ...more],
  });
  try {
    const request = { model: 'm', messages: [{ role: 'user' as const, content: 'Hi' }] };
    if (stream) {
      for await (const chunk of await gateway.stream(request)) void chunk;
    } else {
      await gateway.chat(request);
    }
  } finally {
    await gateway.close();
  }
  return ended?.costUsd;
}

describe('perplexity on /v1', () => {
  let upstream: MockUpstream;
  let deepResearch: MockUpstream;
  let unstated: MockUpstream;
  let reasoned: MockUpstream;
  let cited: MockUpstream;
  beforeAll(async () => {
    upstream = await createMockUpstream({ chatUsage: SONAR_USAGE });
    unstated = await createMockUpstream({
      chatUsage: { prompt_tokens: 1000, completion_tokens: 1000, total_tokens: 2000 },
    });
    deepResearch = await createMockUpstream({
      chatUsage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100, num_search_queries: 3 },
    });
    // deep research counts its reasoning tokens apart from the completion tokens (and out of the total)
    reasoned = await createMockUpstream({
      chatUsage: {
        prompt_tokens: 1000,
        completion_tokens: 100,
        total_tokens: 1100,
        num_search_queries: 3,
        reasoning_tokens: 600,
      },
    });
    // and its citation tokens apart from the prompt and completion tokens: Perplexity's documented
    // deep research usage, without the cost it states
    cited = await createMockUpstream({
      chatUsage: {
        prompt_tokens: 19,
        completion_tokens: 4978,
        total_tokens: 4997,
        citation_tokens: 10837,
        num_search_queries: 22,
        reasoning_tokens: 81245,
        search_context_size: 'low',
      },
    });
  });
  afterAll(async () => {
    await upstream.close();
    await deepResearch.close();
    await unstated.close();
    await reasoned.close();
    await cited.close();
  });

  it('costs what Perplexity reports (the low-context request fee), not the catalog high-context fee', async () => {
    expect(await costOf(upstream, 'sonar', false)).toBe(0.005134);
    expect(await costOf(upstream, 'sonar', true)).toBe(0.005134);
  });

  it('prices the search queries of deep research when no cost is reported', async () => {
    // 1000 x $2 + 100 x $8, per million, and 3 searches at $5 per 1000
    expect(await costOf(deepResearch, 'sonar-deep-research', false)).toBe(0.0178);
    expect(await costOf(deepResearch, 'sonar-deep-research', true)).toBe(0.0178);
  });

  it('prices the reasoning tokens of deep research at their own rate, on top of the completion tokens', async () => {
    // 1000 x $2 + 100 x $8 + 600 x $3, per million, and 3 searches at $5 per 1000
    expect(await costOf(reasoned, 'sonar-deep-research', false)).toBe(0.0196);
    expect(await costOf(reasoned, 'sonar-deep-research', true)).toBe(0.0196);
  });

  it('prices the citation tokens of deep research at their own rate, apart from the prompt and completion tokens', async () => {
    // 19 x $2 + 4978 x $8 + 10837 x $2 + 81245 x $3, per million, and 22 searches at $5 per 1000:
    // the total cost Perplexity states for the same usage ($0.41527, its parts rounded to five decimals)
    expect(await costOf(cited, 'sonar-deep-research', false)).toBe(0.415271);
    expect(await costOf(cited, 'sonar-deep-research', true)).toBe(0.415271);
  });

  it('leaves the cost of citation tokens unknown where the price has no citation rate, never priced low', async () => {
    const keys: string[] = [];
    const configured = createPricingPlugin({
      catalog: 'none',
      models: {
        'pplx/sonar-deep-research': {
          inputPerMTok: 2,
          outputPerMTok: 8,
          reasoningPerMTok: 3,
          perWebSearch: 0.005,
        },
      },
      onUnknownPrice: (key) => keys.push(key),
    });
    expect(await costOf(cited, 'sonar-deep-research', false, [], configured)).toBeNull();
    expect(keys).toEqual(['pplx/sonar-deep-research:citation_tokens']);
    // the same price with a citation rate prices them
    const rated = createPricingPlugin({
      catalog: 'none',
      models: {
        'pplx/sonar-deep-research': {
          inputPerMTok: 2,
          outputPerMTok: 8,
          reasoningPerMTok: 3,
          citationPerMTok: 2,
          perWebSearch: 0.005,
        },
      },
    });
    expect(await costOf(cited, 'sonar-deep-research', true, [], rated)).toBe(0.415271);
  });

  it('prices the search options the request goes upstream with, those a plugin set included', async () => {
    // a plugin installed after pricing asks every request for Pro Search
    const proSearch: GatewayPlugin = {
      name: 'test:pro-search',
      apply: (hooks) =>
        hooks.beforeRequest.tap('test:pro-search', (request) => ({
          ...request,
          web_search_options: { search_type: 'pro' },
        })),
    };
    // sonar-pro: 1000 x $3 + 1000 x $15 per million, and Pro Search's high fee ($22 per 1000:
    // the size unsaid) when streamed; not streamed, the standard high fee ($14 per 1000)
    expect(await costOf(unstated, 'sonar-pro', true, [proSearch])).toBe(0.04);
    expect(await costOf(unstated, 'sonar-pro', false, [proSearch])).toBe(0.032);
  });
});
