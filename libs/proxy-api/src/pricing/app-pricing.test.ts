import { createGateway, createGatewayHooks, type GatewayOptions } from '@switchyard/proxy-core';
import { afterAll, describe, expect, it } from 'vitest';
import { appPricing } from './app-pricing';

// Output at $1 per token and free input, so a reservation reads as the output tokens it covers.
const pricing = appPricing({ catalog: 'none', models: { 'up/instruct': { inputPerMTok: 0, outputPerMTok: 1_000_000 } } });
const gateway = createGateway({
  providers: [{ name: 'up', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-unused' }],
  models: [{ name: 'instruct', targets: [{ provider: 'up', model: 'instruct' }] }],
});
const estimator = pricing.budgetEstimator(gateway);
const reserve = (body: Record<string, unknown>) => estimator.estimateMaxCostUsd({ model: 'instruct', endpoint: 'chat', body: { model: 'instruct', max_tokens: 10, ...body } });

afterAll(async () => gateway.close());

describe('budget reservations for legacy completions', () => {
  it('cover every choice the upstream bills: n, best_of and each prompt of a batch', async () => {
    expect(await reserve({ prompt: 'hi' })).toBe(10);
    expect(await reserve({ prompt: 'hi', n: 2 })).toBe(20);
    expect(await reserve({ prompt: 'hi', n: 2, best_of: 5 })).toBe(50);
    expect(await reserve({ prompt: ['a', 'b', 'c'], n: 2 })).toBe(60);
    expect(await reserve({ prompt: [[1, 2], [3]] })).toBe(20);
    expect(await reserve({ prompt: [1, 2, 3] })).toBe(10); // one prompt given as tokens
  });

  it('leave chat requests to their own n', async () => {
    expect(await reserve({ messages: [{ role: 'user', content: 'hi' }], n: 3 })).toBe(30);
  });
});

describe('the pricing plugin the app adds', () => {
  // the beforeRequest taps the app's pricing plugin adds to a gateway of these providers
  function pricingTaps(providers: GatewayOptions['providers']): string[] {
    const hooks = createGatewayHooks();
    for (const plugin of appPricing({}).withPlugin({ providers, models: [] }).plugins ?? []) plugin.apply(hooks);
    return hooks.beforeRequest.taps.map((tap) => tap.name);
  }

  it("reads requests (Perplexity's web_search_options) only where a Perplexity provider is configured", () => {
    expect(pricingTaps([{ name: 'up', type: 'openai' }, { name: 'google', type: 'gemini' }])).toEqual([]);
    expect(pricingTaps([{ name: 'up', type: 'openai' }, { name: 'pplx', type: 'perplexity' }])).toEqual(['switchyard:pricing']);
    // options createGateway will refuse: the types are not known, and the tap stays (as before)
    expect(pricingTaps([{ name: 'broken' } as unknown as GatewayOptions['providers'][number]])).toEqual(['switchyard:pricing']);
  });
});
