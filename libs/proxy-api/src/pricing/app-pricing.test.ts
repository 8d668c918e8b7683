import { createGateway, createGatewayHooks, type GatewayOptions, type ModelCatalog, type ModelInfo } from '@switchyard/proxy-core';
import { afterAll, describe, expect, it } from 'vitest';
import { appPricing } from './app-pricing';

// Output at $1 per token and free input, so a reservation reads as the output tokens it covers.
const outputOnly = { inputPerMTok: 0, outputPerMTok: 1_000_000 };
const pricing = appPricing({ catalog: 'none', models: { 'up/instruct': outputOnly, 'up/unbounded': outputOnly } });
// a catalog of a plugin's own that does not know `unbounded`'s output limit (and lists no other model)
const unbounded: ModelInfo = { id: 'unbounded', provider: 'custom', contextWindow: 100_000, maxOutputTokens: Number.POSITIVE_INFINITY, inputModalities: ['text'], outputModalities: ['text'], supportsTools: false };
const modelCatalog: ModelCatalog = { lookup: (model) => (model === 'unbounded' ? unbounded : undefined), list: () => [unbounded] };
const gateway = createGateway({
  providers: [{ name: 'up', type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-unused' }],
  models: ['instruct', 'unbounded'].map((name) => ({ name, targets: [{ provider: 'up', model: name }] })),
  modelCatalog,
});
const estimator = pricing.budgetEstimator(gateway);
const reserve = (body: Record<string, unknown>, model = 'instruct') => estimator.estimateMaxCostUsd({ model, endpoint: 'chat', body: { model, max_tokens: 10, ...body } });

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

describe('budget reservations for legacy completions without max_tokens', () => {
  it('cover the legacy default of 16 tokens the request is sent with, not the pricing default', async () => {
    expect(await reserve({ prompt: 'hi', max_tokens: undefined })).toBe(16);
    expect(await reserve({ prompt: 'hi', max_tokens: null, n: 2 })).toBe(32);
  });
});

describe('budget reservations on a model whose max output the catalog does not know', () => {
  it('reserve the pricing default for a request without max_tokens, as for a model the catalog does not list', async () => {
    const messages = [{ role: 'user', content: 'hi' }];
    expect(await reserve({ messages, max_tokens: undefined }, 'unbounded')).toBe(4096);
    expect(await reserve({ messages, max_tokens: null }, 'unbounded')).toBe(4096);
    expect(await reserve({ messages, max_tokens: 32_000 }, 'unbounded')).toBe(32_000);
  });
});
