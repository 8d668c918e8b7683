import { createGateway, createGatewayHooks, SwitchyardError } from '@switchyard/proxy-core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PricingOptions } from './pricing-options';
import { createPricingPlugin } from './pricing-plugin';

// the beforeRequest taps of a pricing plugin applied to fresh hooks
function requestTaps(plugin: ReturnType<typeof createPricingPlugin>): string[] {
  const hooks = createGatewayHooks();
  plugin.apply(hooks);
  expect(hooks.onUsage.taps.map((tap) => tap.name)).toEqual(['switchyard:pricing']);
  return hooks.beforeRequest.taps.map((tap) => tap.name);
}

describe('pricing plugin', () => {
  it("reads each request (Perplexity's web_search_options) only when the gateway may have a Perplexity provider", () => {
    // providers not known (a gateway built by hand): as before, every request
    expect(requestTaps(createPricingPlugin())).toEqual(['switchyard:pricing']);
    expect(requestTaps(createPricingPlugin({}, { providerTypes: ['openai', 'perplexity'] }))).toEqual([
      'switchyard:pricing',
    ]);
    // no Perplexity: nothing to read, no tap on the request path
    expect(requestTaps(createPricingPlugin({}, { providerTypes: ['openai', 'gemini'] }))).toEqual([]);
    expect(requestTaps(createPricingPlugin({}, { providerTypes: [] }))).toEqual([]);
  });

  it('refuses provider types that are not a list of names', () => {
    const refused = (providerTypes: unknown): unknown => {
      try {
        createPricingPlugin({}, { providerTypes: providerTypes as string[] });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const value of ['perplexity', [1], null])
      expect(refused(value)).toMatchObject({ code: 'invalid_options' });
    expect(refused(['openai'])).toBeUndefined();
    expect(refused('openai,perplexity')).toBeInstanceOf(SwitchyardError);
  });
});

describe('pricing plugin and service tiers', () => {
  // catalog prices are dated; pin the clock (o3 at $2 in and $8 out per 1M)
  const now = (): Date => new Date('2026-11-23T12:00:00Z');
  const million = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 };
  let upstream: MockUpstream;
  beforeEach(async () => {
    upstream = await createMockUpstream();
  });
  afterEach(async () => upstream.close());

  /** The cost of one o3 answer served on `tier` (absent: not named), as the plugin prices it. */
  async function costOfAnswer(
    tier: string | undefined,
    options: PricingOptions = {},
  ): Promise<{ cost: number | null | undefined; unknown: string[] }> {
    const pricing = createPricingPlugin({ now, ...options });
    let cost: number | null | undefined;
    const gateway = createGateway({
      providers: [{ name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-test' }],
      models: [{ name: 'o3', targets: [{ provider: 'primary', model: 'o3' }] }],
      plugins: [
        pricing,
        {
          name: 'test:cost',
          apply: (hooks) => hooks.onRequestEnd.tap('test:cost', (context) => void (cost = context.costUsd)),
        },
      ],
    });
    upstream.fault({
      kind: 'status',
      status: 200,
      times: 1,
      body: {
        id: 'c1',
        object: 'chat.completion',
        created: 1,
        model: 'o3',
        ...(tier === undefined ? {} : { service_tier: tier }),
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage: million,
      },
    });
    try {
      await gateway.chat({ model: 'o3', messages: [{ role: 'user', content: 'hi' }] });
    } finally {
      await gateway.close();
    }
    return { cost, unknown: [...pricing.counters.unknownPriceByKey.entries()].map(([key]) => key) };
  }

  it('prices an answer on a non-standard tier without rates for it as unknown, never at the standard rates', async () => {
    expect(await costOfAnswer(undefined)).toEqual({ cost: 10, unknown: [] });
    expect(await costOfAnswer('default')).toEqual({ cost: 10, unknown: [] });
    expect(await costOfAnswer('priority')).toEqual({
      cost: null,
      unknown: ['primary/o3:service_tier_priority'],
    });
    expect((await costOfAnswer('flex')).cost).toBeNull();
  });

  it("prices an answer on a tier at the configured price's rates for it", async () => {
    const o3 = {
      inputPerMTok: 2,
      outputPerMTok: 8,
      serviceTiers: {
        priority: { inputPerMTok: 3.5, outputPerMTok: 14 },
        flex: { inputPerMTok: 1, outputPerMTok: 4 },
      },
    };
    const options = { models: { 'openai/o3': o3 } };
    expect(await costOfAnswer('priority', options)).toEqual({ cost: 17.5, unknown: [] });
    expect(await costOfAnswer('flex', options)).toEqual({ cost: 5, unknown: [] });
    expect(await costOfAnswer('default', options)).toEqual({ cost: 10, unknown: [] });
    expect((await costOfAnswer('scale', options)).cost).toBeNull();
  });

  it('prices a stream by the service tier its usage chunk names', async () => {
    // an OpenAI stream whose chunks name the tier, the last one with the usage
    const sse = (tier: string): string =>
      [
        { choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: null }] },
        { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
        { choices: [], usage: million },
      ]
        .map(
          (fields) =>
            `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'o3', service_tier: tier, ...fields })}\n\n`,
        )
        .join('') + 'data: [DONE]\n\n';
    let tier = 'default';
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse(tier));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const costOf = async (served: string): Promise<number | null | undefined> => {
      tier = served;
      let cost: number | null | undefined;
      const gateway = createGateway({
        providers: [
          {
            name: 'primary',
            type: 'openai',
            baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
            apiKey: 'sk-test',
          },
        ],
        models: [{ name: 'o3', targets: [{ provider: 'primary', model: 'o3' }] }],
        plugins: [
          createPricingPlugin({ now }),
          {
            name: 'test:cost',
            apply: (hooks) => hooks.onRequestEnd.tap('test:cost', (context) => void (cost = context.costUsd)),
          },
        ],
      });
      try {
        for await (const chunk of await gateway.stream({
          model: 'o3',
          messages: [{ role: 'user', content: 'hi' }],
        }))
          void chunk;
      } finally {
        await gateway.close();
      }
      return cost;
    };
    try {
      expect(await costOf('default')).toBe(10);
      expect(await costOf('priority')).toBeNull();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
