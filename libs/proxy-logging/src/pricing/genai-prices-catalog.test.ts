import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { computeTokenCost } from './compute-token-cost';
import { lookupGenaiPrice } from './genai-prices-catalog';
import { createPricingRegistry } from './pricing-registry';

// catalog prices are dated; pin the clock so figures are reproducible
const at = new Date('2026-11-23T12:00:00Z');
const usage = { inputTokens: 1000, outputTokens: 100 };

// provider type, model as a client names it
const FREE: readonly (readonly [string, string])[] = [
  // OpenRouter's `:free` variants
  ['openrouter', 'deepseek/deepseek-chat:free'],
  ['openrouter', 'meta-llama/llama-3.3-70b-instruct:free'],
  // named "Gemma 3 (free)" and "Gemma 3n (free)" in the catalog
  ['gemini', 'gemma-3-27b-it'],
  ['gemini', 'gemma-3n-e4b-it'],
  // free of charge by the catalog's notes only
  ['gemini', 'gemma-4-31b-it'],
  ['openai', 'omni-moderation-latest'],
];

describe('genai-prices catalog', () => {
  it.each(FREE)(
    'prices %s %s, which the catalog lists as free, at a known 0 (it was unknown)',
    (type, model) => {
      const entry = lookupGenaiPrice(type, model, at);
      expect(entry).toBeDefined();
      const cost = entry === undefined ? undefined : computeTokenCost(entry.price, usage);
      expect(cost?.totalUsd).toBe(0);
      // the catalog's own figure
      const providerId = type === 'gemini' ? 'google' : type;
      expect(
        calcPrice({ input_tokens: 1000, output_tokens: 100 }, model, { providerId, timestamp: at })
          ?.total_price,
      ).toBe(0);
    },
  );

  it('keeps a free model at 0 for every kind of token it may report', () => {
    const entry = lookupGenaiPrice('openrouter', 'deepseek/deepseek-r1:free', at);
    const cost =
      entry === undefined
        ? undefined
        : computeTokenCost(entry.price, {
            inputTokens: 5000,
            outputTokens: 3000,
            cachedInputTokens: 1000,
            cacheWriteTokens: 500,
            reasoningTokens: 2000,
            audioInputTokens: 100,
            imageInputTokens: 200,
          });
    expect(cost).toMatchObject({
      totalUsd: 0,
      inputUsd: 0,
      cachedInputUsd: 0,
      reasoningUsd: 0,
      outputUsd: 0,
    });
  });

  it('leaves a catalog entry without rates unknown unless the catalog says the model is free', () => {
    const unknown: readonly (readonly [string, string])[] = [
      // priced per hour of audio (a unit token usage cannot feed), not free
      ['openai', 'whisper-1'],
      // listed without a rate and without a word of being free
      ['cerebras', 'qwen-3-coder-480b'],
      ['openrouter', 'google/lyria-3-pro-preview'],
      ['openrouter', 'google/gemini-flash-1.5-8b-exp'],
    ];
    for (const [type, model] of unknown) {
      const entry = lookupGenaiPrice(type, model, at);
      expect(entry, `${type}/${model}`).toBeDefined();
      expect(entry && computeTokenCost(entry.price, usage), `${type}/${model}`).toBeUndefined();
    }
  });

  it('keeps the rates of a paid model whose free variant is free', () => {
    const paid = lookupGenaiPrice('openrouter', 'deepseek/deepseek-chat', at);
    expect(paid?.modelId).toBe('deepseek/deepseek-chat');
    expect(paid && computeTokenCost(paid.price, usage)?.totalUsd).toBeGreaterThan(0);
  });

  it('reads only its own provider ids: a provider type named as an Object member is not one', () => {
    for (const type of ['constructor', 'toString', '__proto__'])
      expect(() => lookupGenaiPrice(type, 'gpt-4o', at)).not.toThrow();
  });

  it('counts no unknown price for a free model, and quotes it at 0 before the call', () => {
    const unknown: string[] = [];
    const registry = createPricingRegistry({ now: () => at, onUnknownPrice: (key) => unknown.push(key) });
    for (const [provider, model] of [
      ['openrouter', 'deepseek/deepseek-chat:free'],
      ['gemini', 'gemma-3-27b-it'],
    ] as const) {
      expect(registry.tokenCost({ provider, model }, usage)?.totalUsd).toBe(0);
      expect(registry.meteredCostUsd({ provider, model, tokens: usage, units: {} })).toBe(0);
    }
    expect(registry.counters.unknownPrice).toBe(0);
    expect(unknown).toEqual([]);
  });
});
