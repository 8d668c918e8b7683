import { describe, expect, it } from 'vitest';
import { BUILTIN_MODELS } from './catalog-data';
import { createModelCatalog } from './model-catalog';

describe('model catalog', () => {
  it('knows the shipped models by dated, prefixed and latest names', () => {
    const catalog = createModelCatalog();
    expect(catalog.lookup('gpt-4o')?.contextWindow).toBe(128_000);
    expect(catalog.lookup('gpt-4o-2024-08-06')?.id).toBe('gpt-4o');
    expect(catalog.lookup('openai/gpt-4o-mini')?.id).toBe('gpt-4o-mini');
    expect(catalog.lookup('claude-3-5-sonnet-20241022')?.maxOutputTokens).toBe(8_192);
    expect(catalog.lookup('claude-3-5-haiku-latest')?.provider).toBe('anthropic');
    expect(catalog.lookup('no-such-model')).toBeUndefined();
    expect(catalog.list()).toHaveLength(BUILTIN_MODELS.length);
  });

  it('takes overrides and new models from config', () => {
    const catalog = createModelCatalog({
      models: {
        'gpt-4o': { contextWindow: 64_000 },
        'local-llama': { contextWindow: 8_192, maxOutputTokens: 1_024 },
      },
    });
    expect(catalog.lookup('gpt-4o')).toMatchObject({ contextWindow: 64_000, maxOutputTokens: 16_384 });
    expect(catalog.lookup('local-llama')).toMatchObject({
      contextWindow: 8_192,
      supportsTools: false,
      provider: 'custom',
    });
  });

  it('rejects incomplete or invalid overrides, listing every problem', () => {
    const build = () =>
      createModelCatalog({ models: { unknown: { maxOutputTokens: 10 }, 'gpt-4o': { contextWindow: -1 } } });
    expect(build).toThrow(/unknown: a model the catalog does not know/);
    expect(build).toThrow(/gpt-4o\/contextWindow/);
  });

  it('ships sane data: every window holds its output and every price is non-negative', () => {
    for (const info of BUILTIN_MODELS) {
      expect(info.maxOutputTokens).toBeLessThanOrEqual(info.contextWindow);
      expect(info.pricing?.inputPerMTokUsd ?? 0).toBeGreaterThanOrEqual(0);
    }
  });
});
