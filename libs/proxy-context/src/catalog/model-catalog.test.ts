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

  it('knows Claude by its Bedrock ids (model, cross-region inference profile, ARN, provisioned context) and its Vertex ids (they were unknown: the condenser was off)', () => {
    const catalog = createModelCatalog();
    const cases: [string, string][] = [
      ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-3-5-sonnet'],
      ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet'],
      ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'claude-sonnet-4'],
      ['eu.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet'],
      ['global.anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1'],
      ['anthropic.claude-3-haiku-20240307-v1:0:200k', 'claude-3-haiku'],
      [
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0',
        'claude-3-5-haiku',
      ],
      ['claude-sonnet-4@20250514', 'claude-sonnet-4'],
      ['claude-3-5-haiku@20241022', 'claude-3-5-haiku'],
      ['claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet'],
      ['gemini-2.0-flash-001', 'gemini-2.0-flash'],
    ];
    for (const [id, expected] of cases) expect(catalog.lookup(id)?.id, id).toBe(expected);
    // only Bedrock's own prefixes and version suffixes are dropped
    expect(catalog.lookup('acme.claude-3-5-sonnet-v1:0')).toBeUndefined();
    expect(catalog.lookup('claude-3-5-sonnet-v1')).toBeUndefined();
  });

  it('does not take a -preview model for the model it previewed: o1-preview has its own window and output limit (it resolved to o1)', () => {
    const catalog = createModelCatalog();
    expect(catalog.lookup('o1-preview')).toMatchObject({
      id: 'o1-preview',
      contextWindow: 128_000,
      maxOutputTokens: 32_768,
    });
    expect(catalog.lookup('o1-preview-2024-09-12')?.id).toBe('o1-preview');
    expect(catalog.lookup('gpt-4-turbo-preview')?.id).toBe('gpt-4-turbo-preview');
    // an unknown preview is unknown (condenser off), not taken for the model it previews
    expect(catalog.lookup('gpt-4o-realtime-preview')).toBeUndefined();
    expect(catalog.lookup('o3-preview')).toBeUndefined();
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
