import { findProvider } from '@pydantic/genai-prices';
import {
  LEGACY_COMPLETION_FIELD,
  requestedChoices,
  type ChatCompletionRequest,
  type ChatUsage,
} from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { createCostEstimator } from './cost-estimator';
import { chatUsageFromTokenUsage, tokenUsageFromChatUsage, type TokenUsage } from '../usage/token-usage';
import { createPricingRegistry } from './pricing-registry';

// catalog prices are dated; pin the clock so figures are reproducible
const now = (): Date => new Date('2026-11-23T12:00:00Z');

describe('pricing registry', () => {
  it("prices a dated snapshot at the price configured for its alias (the universal proxy prices the answer's model: a negotiated openai/gpt-4o rate was ignored for gpt-4o-2024-08-06)", () => {
    const registry = createPricingRegistry({
      now,
      models: {
        'openai/gpt-4o': { inputPerMTok: 2, outputPerMTok: 8 },
        'openai/gpt-4o-2024-05-13': { inputPerMTok: 4, outputPerMTok: 12 },
        'anthropic/claude-sonnet-4-5': { inputPerMTok: 1, outputPerMTok: 1 },
      },
    });
    const million = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    const cost = (provider: string, model: string): number | null =>
      registry.meteredCostUsd({ provider, model, tokens: million, units: {} });
    expect(cost('openai', 'gpt-4o-2024-08-06')).toBe(10);
    // its own configured price first
    expect(cost('openai', 'gpt-4o-2024-05-13')).toBe(16);
    expect(cost('anthropic', 'claude-sonnet-4-5-20250929')).toBe(2);
    expect(registry.resolve({ provider: 'openai', model: 'gpt-4o-2024-08-06' })).toMatchObject({
      source: 'config',
      id: 'openai/gpt-4o',
      model: 'gpt-4o',
    });
    // not a snapshot of a configured alias: the catalog's price
    expect(registry.resolve({ provider: 'openai', model: 'gpt-4o-mini-2024-07-18' })?.source).toBe(
      'genai-prices',
    );
  });

  it('leaves out detail counts an OpenAI-compatible host sent as no number (a string was joined as text into the cost)', () => {
    const registry = createPricingRegistry({ now });
    const target = { provider: 'openai', model: 'gpt-4o-mini' };
    const chat = {
      prompt_tokens: 1000,
      completion_tokens: 100,
      total_tokens: 1100,
      prompt_tokens_details: { cached_tokens: '200', image_tokens: -1, cache_creation_1h_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: '50', audio_tokens: Number.NaN },
    } as unknown as ChatUsage;
    expect(tokenUsageFromChatUsage(chat)).toEqual({
      inputTokens: 1000,
      outputTokens: 100,
      cacheWrite1hTokens: 0,
    });
    // 1000 x $0.15 + 100 x $0.60 per million
    expect(createCostEstimator(registry).costUsd(target, chat)).toBeCloseTo(0.00021, 10);
  });

  it('prices usage without an output count as no output: a finite cost, never NaN', () => {
    const registry = createPricingRegistry({ now });
    const target = { provider: 'openai', model: 'gpt-4o-mini' };
    // OpenAI-shaped usage without completion_tokens, as an upstream may send it
    const chat = { prompt_tokens: 1000, total_tokens: 1000 } as unknown as ChatUsage;
    expect(tokenUsageFromChatUsage(chat)).toEqual({ inputTokens: 1000, outputTokens: 0 });
    // 1000 x $0.15 per million
    expect(createCostEstimator(registry).costUsd(target, chat)).toBe(0.00015);
    // a caller's normalised usage without its output total
    expect(registry.tokenCost(target, { inputTokens: 1000 } as TokenUsage)?.totalUsd).toBe(0.00015);
    expect(chatUsageFromTokenUsage({ inputTokens: 1000 } as TokenUsage).total_tokens).toBe(1000);
    expect(registry.counters.unknownPrice).toBe(0);
  });

  it('quotes a cost before a call without counting an unknown price (no exchange was priced)', () => {
    const unknown: string[] = [];
    const registry = createPricingRegistry({ now, onUnknownPrice: (key) => unknown.push(key) });
    const estimator = createCostEstimator(registry);
    const usage = { inputTokens: 1000, outputTokens: 0 };
    expect(estimator.quoteUsd({ provider: 'openai', model: 'gpt-4o-mini' }, usage)).toBe(0.00015);
    expect(estimator.quoteUsd({ provider: 'local', model: 'no-such-model' }, usage)).toBeNull();
    expect(registry.counters.unknownPrice).toBe(0);
    expect(unknown).toEqual([]);
    // a cost after the call counts it
    expect(estimator.costUsd({ provider: 'local', model: 'no-such-model' }, usage)).toBeNull();
    expect(registry.counters.unknownPrice).toBe(1);
  });

  it("prices usage by its service tier: the price's rates for it, the standard ones on a standard tier, else unknown", () => {
    const registry = createPricingRegistry({
      now,
      models: {
        'local/tiered': {
          inputPerMTok: 1,
          outputPerMTok: 2,
          serviceTiers: { priority: { inputPerMTok: 2, outputPerMTok: 4 } },
        },
      },
    });
    const million = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    const cost = (provider: string, model: string, serviceTier?: string): number | undefined =>
      registry.tokenCost({ provider, model }, { ...million, ...(serviceTier ? { serviceTier } : {}) })
        ?.totalUsd;
    expect(cost('local', 'tiered')).toBe(3);
    for (const standard of ['default', 'auto', 'standard', 'on_demand'])
      expect(cost('local', 'tiered', standard)).toBe(3);
    expect(cost('local', 'tiered', 'priority')).toBe(6);
    // the catalog has no tier rates: o3 is $2 + $8 standard, $3.50 + $14 on priority, half on flex
    expect(cost('openai', 'o3')).toBe(10);
    for (const tier of ['priority', 'flex', 'scale', '__proto__', 'constructor'])
      expect(cost('openai', 'o3', tier), tier).toBeUndefined();
    expect(registry.counters.unknownPriceByKey.get('openai/o3:service_tier_priority')).toBe(1);
    // Groq bills flex at its on-demand rates
    expect(cost('groq', 'llama-3.3-70b-versatile', 'flex')).toBe(cost('groq', 'llama-3.3-70b-versatile'));
    expect(cost('groq', 'llama-3.3-70b-versatile', 'flex')).toBeGreaterThan(0);
  });

  it('checks the rates of configured service tiers', () => {
    expect(() =>
      createPricingRegistry({
        models: { 'openai/o3': { serviceTiers: { priority: { inputPerMTok: -1 } } } },
      }),
    ).toThrow(/pricing\/models\/openai~1o3\/serviceTiers\/priority\/inputPerMTok/);
    expect(() =>
      createPricingRegistry({
        models: { 'openai/o3': { serviceTiers: { priority: { serviceTiers: {} } } } as never },
      }),
    ).toThrow(/invalid|Invalid/);
  });

  it('prices gpt-4o from the bundled catalog with cached tokens at the cached rate', () => {
    const registry = createPricingRegistry({ now });
    // 800 uncached x $2.50 + 200 cached x $1.25 + 500 out x $10, per million
    const cost = registry.tokenCost(
      { provider: 'openai', model: 'gpt-4o' },
      { inputTokens: 1000, cachedInputTokens: 200, outputTokens: 500 },
    );
    expect(cost?.totalUsd).toBe(0.00725);
    expect(cost?.inputUsd).toBe(0.002);
    expect(cost?.cachedInputUsd).toBe(0.00025);
    expect(cost?.outputUsd).toBe(0.005);
  });

  it('applies the long-context tier to the whole request above the tier start', () => {
    const registry = createPricingRegistry({ now });
    const target = { provider: 'gemini', model: 'gemini-2.5-pro' };
    expect(registry.tokenCost(target, { inputTokens: 200_000, outputTokens: 1000 })?.totalUsd).toBe(0.26);
    expect(registry.tokenCost(target, { inputTokens: 300_000, outputTokens: 500 })?.totalUsd).toBe(0.7575);
  });

  it('prices by the time of day where the catalog does (DeepSeek off-peak hours)', () => {
    const at = (clock: string) => createPricingRegistry({ now: () => new Date(`2026-11-23T${clock}Z`) });
    const target = { provider: 'deepseek', model: 'deepseek-chat' };
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    // standard rates from 00:30 to 16:30 UTC, half outside them
    expect(at('12:00:00').tokenCost(target, usage)?.totalUsd).toBe(0.27 + 1.1);
    expect(at('00:30:00').tokenCost(target, usage)?.totalUsd).toBe(0.27 + 1.1);
    expect(at('16:30:00').tokenCost(target, usage)?.totalUsd).toBe(0.135 + 0.55);
    expect(at('23:59:59').tokenCost(target, usage)?.totalUsd).toBe(0.135 + 0.55);
  });

  it('picks the time-of-day price on every call, not once per registry', () => {
    let clock = new Date('2026-12-02T17:00:00Z');
    const registry = createPricingRegistry({ now: () => clock });
    const target = { provider: 'deepseek', model: 'deepseek-chat' };
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    expect(registry.tokenCost(target, usage)?.totalUsd).toBe(0.135 + 0.55);
    // the same registry, the next morning inside the standard-rate window
    clock = new Date('2026-12-03T08:00:00Z');
    expect(registry.tokenCost(target, usage)?.totalUsd).toBe(0.27 + 1.1);
    expect(registry.resolve(target)?.price.inputPerMTok).toBe(0.27);
    clock = new Date('2026-12-03T20:00:00Z');
    expect(registry.tokenCost(target, usage)?.totalUsd).toBe(0.135 + 0.55);
  });

  it('prices Anthropic cache writes and reads apart, and matches dated snapshots', () => {
    const registry = createPricingRegistry({ now });
    const cost = registry.tokenCost(
      { provider: 'anthropic', model: 'claude-sonnet-4-20250514' },
      {
        inputTokens: 1150,
        cacheWriteTokens: 100,
        cacheWrite1hTokens: 0,
        cachedInputTokens: 50,
        outputTokens: 500,
      },
    );
    // 1000 x $3 + 100 x $3.75 + 50 x $0.30 + 500 x $15, per million
    expect(cost?.totalUsd).toBe(0.01089);
  });

  it('prices Anthropic 1h cache writes at their own rate, and does not guess when the split is unknown', () => {
    const registry = createPricingRegistry({ now });
    const target = { provider: 'anthropic', model: 'claude-sonnet-4-20250514' };
    const writes = { inputTokens: 1150, cacheWriteTokens: 100, cachedInputTokens: 50, outputTokens: 500 };
    // 1000 x $3 + 60 x $3.75 + 40 x $6 (2x input) + 50 x $0.30 + 500 x $15, per million
    expect(registry.tokenCost(target, { ...writes, cacheWrite1hTokens: 40 })?.totalUsd).toBe(0.01098);
    expect(registry.tokenCost(target, writes)).toBeUndefined();
    expect(registry.counters.unknownPrice).toBe(1);
    // no cache writes, nothing to split
    expect(registry.tokenCost(target, { inputTokens: 1000, outputTokens: 500 })?.totalUsd).toBe(0.0105);
  });

  it('makes 1h cache writes unknown on a price without a 1h rate, never priced at the 5-minute one (Claude on Bedrock)', () => {
    const registry = createPricingRegistry({
      now,
      models: {
        'bedrock/my-claude': { inputPerMTok: 3, cacheWritePerMTok: 3.75, outputPerMTok: 15 },
        'bedrock/my-claude-1h': {
          inputPerMTok: 3,
          cacheWritePerMTok: 3.75,
          cacheWrite1hPerMTok: 6,
          outputPerMTok: 15,
        },
      },
    });
    const writes = { inputTokens: 100_100, cacheWriteTokens: 100_000, outputTokens: 100 };
    // the catalog has no 1h rate for Claude on Bedrock: 2x input on Anthropic's list, not 1.25x
    const catalog = { provider: 'bedrock', model: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0' };
    expect(registry.tokenCost(catalog, { ...writes, cacheWrite1hTokens: 100_000 })).toBeUndefined();
    expect(
      registry.tokenCost(
        { provider: 'bedrock', model: 'my-claude' },
        { ...writes, cacheWrite1hTokens: 40_000 },
      ),
    ).toBeUndefined();
    // counted by the rate to configure
    expect(registry.counters.unknownPriceByKey.get('bedrock/my-claude:cache_write_1h')).toBe(1);
    expect(
      registry.counters.unknownPriceByKey.get(
        'bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0:cache_write_1h',
      ),
    ).toBe(1);
    // 5-minute writes alone, or a split that is not given, at the cache-write rate:
    // 100 x $3 + 100000 x $3.75 + 100 x $15, per million
    expect(registry.tokenCost(catalog, { ...writes, cacheWrite1hTokens: 0 })?.totalUsd).toBe(0.3768);
    expect(registry.tokenCost(catalog, writes)?.totalUsd).toBe(0.3768);
    // a configured 1h rate prices them: 100 x $3 + 60000 x $3.75 + 40000 x $6 + 100 x $15, per million
    expect(
      registry.tokenCost(
        { provider: 'bedrock', model: 'my-claude-1h' },
        { ...writes, cacheWrite1hTokens: 40_000 },
      )?.totalUsd,
    ).toBe(0.4668);
  });

  it('reads web searches from an OpenAI-shaped usage (the Anthropic adapter, and Perplexity passed through)', () => {
    const estimator = createCostEstimator(createPricingRegistry({ now }));
    const usage = { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 };
    // 1000 x $3 + 100 x $15, per million, and 2 searches at $10 per 1000
    expect(
      estimator.costUsd(
        { provider: 'anthropic', model: 'claude-sonnet-4-20250514' },
        { ...usage, web_searches: 2 },
      ),
    ).toBe(0.0245);
    // 1000 x $2 + 100 x $8, per million, and 3 search queries at $5 per 1000
    expect(
      estimator.costUsd({ provider: 'perplexity', model: 'sonar-deep-research' }, {
        ...usage,
        num_search_queries: 3,
      } as typeof usage),
    ).toBe(0.0178);
    expect(chatUsageFromTokenUsage({ inputTokens: 1000, outputTokens: 100, webSearches: 2 })).toEqual({
      ...usage,
      web_searches: 2,
    });
  });

  it('reads image and audio tokens from an OpenAI-shaped usage (what the Gemini adapter reports)', () => {
    const estimator = createCostEstimator(createPricingRegistry({ now }));
    const image = { provider: 'gemini', model: 'gemini-2.5-flash-image' };
    const usage = { prompt_tokens: 277, completion_tokens: 1304, total_tokens: 1581 };
    // 277 x $0.3 + 14 x $2.5 + 1290 image x $30, per million
    expect(
      estimator.costUsd(image, {
        ...usage,
        prompt_tokens_details: { image_tokens: 258 },
        completion_tokens_details: { image_tokens: 1290 },
      }),
    ).toBe(0.0388181);
    expect(estimator.costUsd(image, usage)).toBeNull();
    // 6 x $0.3 + 800 audio x $1 + 10 x $2.5, per million (gemini-2.5-flash)
    const audio = {
      prompt_tokens: 806,
      completion_tokens: 10,
      total_tokens: 816,
      prompt_tokens_details: { audio_tokens: 800 },
    };
    expect(estimator.costUsd({ provider: 'gemini', model: 'gemini-2.5-flash' }, audio)).toBe(0.0008268);
    // the catalog lists gpt-4o-audio-preview's text rates only: its audio at OpenAI's $40 / $80
    // (6 x $2.5 + 800 audio x $40 + 100 audio out x $80 + 10 x $10, per million), not at $2.5 / $10
    const spoken = {
      prompt_tokens: 806,
      completion_tokens: 110,
      total_tokens: 916,
      prompt_tokens_details: { audio_tokens: 800 },
      completion_tokens_details: { audio_tokens: 100 },
    };
    expect(estimator.costUsd({ provider: 'openai', model: 'gpt-4o-audio-preview-2025-06-03' }, spoken)).toBe(
      0.040115,
    );
    expect(estimator.costUsd({ provider: 'azure-openai', model: 'gpt-4o-mini-audio-preview' }, spoken)).toBe(
      0.0100069,
    );
    expect(
      chatUsageFromTokenUsage({
        inputTokens: 277,
        imageInputTokens: 258,
        outputTokens: 1304,
        imageOutputTokens: 1290,
      }),
    ).toEqual({
      ...usage,
      prompt_tokens_details: { image_tokens: 258 },
      completion_tokens_details: { image_tokens: 1290 },
    });
  });

  it('prices cached image and audio tokens once, at the cache rate (prompt modality counts include cached tokens)', () => {
    const estimator = createCostEstimator(createPricingRegistry({ now }));
    const flash = { provider: 'gemini', model: 'gemini-2.5-flash' };
    const usage = { prompt_tokens: 1000, completion_tokens: 0, total_tokens: 1000 };
    // 100 x $0.3 + 900 cached x $0.03, per million: the 800 cached image tokens are not charged again at $0.3
    const split = {
      cached_tokens: 900,
      image_tokens: 800,
      cached_tokens_details: { audio_tokens: 0, image_tokens: 800 },
    };
    expect(estimator.costUsd(flash, { ...usage, prompt_tokens_details: split })).toBe(0.000057);
    // the split does not matter where images cost what text does
    expect(
      estimator.costUsd(flash, {
        ...usage,
        prompt_tokens_details: { cached_tokens: 900, image_tokens: 800 },
      }),
    ).toBe(0.000057);
    // uncached audio at $1: 100 audio + 100 text x $0.3 + 800 cached (none audio) x $0.03, per million
    const audio = {
      cached_tokens: 800,
      audio_tokens: 100,
      cached_tokens_details: { audio_tokens: 0, image_tokens: 0 },
    };
    expect(estimator.costUsd(flash, { ...usage, prompt_tokens_details: audio })).toBe(0.000154);
    // cached audio has its own cache rate ($0.1/M), which usage cannot be priced at
    expect(
      estimator.costUsd(flash, {
        ...usage,
        prompt_tokens_details: { ...audio, cached_tokens_details: { audio_tokens: 50 } },
      }),
    ).toBeNull();
    expect(
      chatUsageFromTokenUsage({
        inputTokens: 1000,
        outputTokens: 0,
        cachedInputTokens: 900,
        imageInputTokens: 800,
        cachedAudioInputTokens: 0,
        cachedImageInputTokens: 800,
      }),
    ).toEqual({
      ...usage,
      prompt_tokens_details: split,
    });
  });

  it('makes the cost unknown where cached tokens may be audio ones and the audio rate differs (configured prices)', () => {
    const registry = createPricingRegistry({
      catalog: 'none',
      models: {
        'local/listener': {
          inputPerMTok: 1,
          cachedInputPerMTok: 0.1,
          audioInputPerMTok: 10,
          outputPerMTok: 2,
        },
      },
    });
    const target = { provider: 'local', model: 'listener' };
    expect(
      registry.tokenCost(target, {
        inputTokens: 1000,
        cachedInputTokens: 500,
        audioInputTokens: 400,
        outputTokens: 0,
      }),
    ).toBeUndefined();
    // 500 cached (300 of them audio) x $0.1, 100 uncached audio x $10, 400 text x $1, per million
    const known = {
      inputTokens: 1000,
      cachedInputTokens: 500,
      audioInputTokens: 400,
      cachedAudioInputTokens: 300,
      outputTokens: 0,
    };
    expect(registry.tokenCost(target, known)?.totalUsd).toBe(0.00145);
  });

  it('reads the 1h cache writes from an OpenAI-shaped usage (what the Anthropic adapter reports)', () => {
    const estimator = createCostEstimator(createPricingRegistry({ now }));
    const target = { provider: 'anthropic', model: 'claude-sonnet-4-20250514' };
    const usage = { prompt_tokens: 1100, completion_tokens: 0, total_tokens: 1100 };
    // 1000 x $3 + 100 x $6, per million
    expect(
      estimator.costUsd(target, {
        ...usage,
        prompt_tokens_details: { cache_creation_tokens: 100, cache_creation_1h_tokens: 100 },
      }),
    ).toBe(0.0036);
    expect(
      estimator.costUsd(target, { ...usage, prompt_tokens_details: { cache_creation_tokens: 100 } }),
    ).toBeNull();
  });

  it('prices reasoning at the catalog reasoning rate where it has one (Perplexity deep research)', () => {
    const registry = createPricingRegistry({ now });
    const cost = registry.tokenCost(
      { provider: 'perplexity', model: 'sonar-deep-research' },
      { inputTokens: 1000, outputTokens: 1000, reasoningTokens: 600 },
    );
    // 1000 x $2 + 400 x $8 + 600 x $3, per million
    expect(cost?.totalUsd).toBe(0.007);
  });

  it('prices citation tokens at the catalog citation rate, on top of the input and output (Perplexity deep research)', () => {
    const registry = createPricingRegistry({ now });
    const cost = registry.tokenCost(
      { provider: 'perplexity', model: 'sonar-deep-research' },
      { inputTokens: 1000, outputTokens: 1000, reasoningTokens: 600, citationTokens: 5000 },
    );
    // 1000 x $2 + 400 x $8 + 600 x $3 + 5000 x $2, per million
    expect(cost).toMatchObject({
      totalUsd: 0.017,
      citationUsd: 0.01,
      reasoningUsd: 0.0018,
      outputUsd: 0.0032,
    });
  });

  it('prices citation tokens at a configured citation rate; a deep-research price without one leaves them unknown by reason, another bills none', () => {
    const keys: string[] = [];
    const registry = createPricingRegistry({
      catalog: 'none',
      models: {
        'local/cited': { inputPerMTok: 1, outputPerMTok: 2, citationPerMTok: 4 },
        'perplexity/sonar-deep-research': { inputPerMTok: 1, outputPerMTok: 2 },
        'perplexity/sonar-pro': { inputPerMTok: 1, outputPerMTok: 2 },
      },
      onUnknownPrice: (key) => keys.push(key),
    });
    const usage = { inputTokens: 1000, outputTokens: 1000, citationTokens: 500 };
    expect(registry.tokenCost({ provider: 'local', model: 'cited' }, usage)?.totalUsd).toBe(0.005);
    // never deep research's input and output alone: its citation tokens are billed, at a rate this price lacks
    const research = { provider: 'perplexity', model: 'sonar-deep-research' };
    expect(registry.tokenCost(research, usage)).toBeUndefined();
    expect(registry.counters.unknownPriceByKey.get('perplexity/sonar-deep-research:citation_tokens')).toBe(1);
    expect(keys).toEqual(['perplexity/sonar-deep-research:citation_tokens']);
    expect(registry.tokenCost(research, { ...usage, citationTokens: 0 })?.totalUsd).toBe(0.003);
    // Sonar Pro reports citation tokens Perplexity no longer bills: priced without them, not unknown
    expect(registry.tokenCost({ provider: 'perplexity', model: 'sonar-pro' }, usage)).toMatchObject({
      totalUsd: 0.003,
      citationUsd: 0,
    });
    expect(keys).toHaveLength(1);
  });

  it('prices a catalog Perplexity model that reports citation tokens but bills none (Sonar Pro)', () => {
    const registry = createPricingRegistry({ now });
    const cost = registry.tokenCost(
      { provider: 'perplexity', model: 'sonar-pro' },
      { inputTokens: 1000, outputTokens: 1000, citationTokens: 5000 },
    );
    expect(cost?.citationUsd).toBe(0);
    expect(cost?.totalUsd).toBeGreaterThan(0);
    expect(registry.counters.unknownPriceByKey.size).toBe(0);
  });

  it('makes the cost unknown where the catalog bills image or cached audio tokens usage does not count apart', () => {
    const registry = createPricingRegistry({ now });
    const image = { provider: 'gemini', model: 'gemini-2.5-flash-image' };
    // output may be image tokens at $30/M, not $2.5/M
    expect(registry.tokenCost(image, { inputTokens: 100, outputTokens: 1290 })).toBeUndefined();
    expect(registry.tokenCost(image, { inputTokens: 100, outputTokens: 0 })?.totalUsd).toBe(0.00003);
    const flash = { provider: 'gemini', model: 'gemini-2.5-flash' };
    expect(
      registry.tokenCost(flash, {
        inputTokens: 1000,
        audioInputTokens: 500,
        cachedInputTokens: 200,
        outputTokens: 10,
      }),
    ).toBeUndefined();
    // audio or cached alone is priced: 500 x $0.3 + 500 x $1 + 10 x $2.5, and 800 x $0.3 + 200 x $0.03 + 10 x $2.5, per million
    expect(
      registry.tokenCost(flash, { inputTokens: 1000, audioInputTokens: 500, outputTokens: 10 })?.totalUsd,
    ).toBe(0.000675);
    expect(
      registry.tokenCost(flash, { inputTokens: 1000, cachedInputTokens: 200, outputTokens: 10 })?.totalUsd,
    ).toBe(0.000271);
  });

  it('makes the cost unknown where usage reports video tokens the catalog bills at a video rate, never priced as text', () => {
    const registry = createPricingRegistry({ now });
    const embedding = { provider: 'gemini', model: 'gemini-embedding-2' };
    expect(registry.resolve(embedding)?.unfed).toContain('input_video_mtok');
    // video input at $12/M, not the $0.20/M of text
    expect(
      registry.tokenCost(embedding, {
        inputTokens: 1000,
        outputTokens: 0,
        imageInputTokens: 0,
        videoInputTokens: 800,
      }),
    ).toBeUndefined();
    expect(registry.counters.unknownPriceByKey.get('gemini/gemini-embedding-2')).toBe(1);
    // 1000 x $0.20, per million
    expect(
      registry.tokenCost(embedding, { inputTokens: 1000, outputTokens: 0, imageInputTokens: 0 })?.totalUsd,
    ).toBe(0.0002);
    expect(
      registry.tokenCost(embedding, {
        inputTokens: 1000,
        outputTokens: 0,
        imageInputTokens: 0,
        videoInputTokens: 0,
      })?.totalUsd,
    ).toBe(0.0002);
    const omni = { provider: 'gemini', model: 'gemini-omni-flash-preview' };
    expect(registry.resolve(omni)?.unfed).toEqual(['output_video_mtok']);
    expect(
      registry.tokenCost(omni, { inputTokens: 10, outputTokens: 1000, videoOutputTokens: 1000 }),
    ).toBeUndefined();
    // the catalog's cached image rate ($0.50/M against $0.40/M of cached text) is not fed either
    const realtime = { provider: 'openai', model: 'gpt-realtime' };
    expect(registry.resolve(realtime)?.unfed).toEqual(['cache_image_read_mtok']);
    expect(
      registry.tokenCost(realtime, {
        inputTokens: 1000,
        cachedInputTokens: 500,
        imageInputTokens: 500,
        cachedImageInputTokens: 500,
        outputTokens: 0,
      }),
    ).toBeUndefined();
    // 1000 x $4 + 10 x $16, per million: no video or cached image tokens, a known cost
    expect(
      registry.tokenCost(realtime, { inputTokens: 1000, imageInputTokens: 0, outputTokens: 10 })?.totalUsd,
    ).toBe(0.00416);
    // a catalog key usage cannot carry at all (Mistral OCR's pages) leaves the token price standing
    expect(registry.resolve({ provider: 'mistral', model: 'mistral-ocr-latest' })?.unfed).toBeUndefined();
  });

  it('prices GPT image models by text input, image input and image output tokens where usage splits them', () => {
    const registry = createPricingRegistry({ now });
    const image = { provider: 'openai', model: 'gpt-image-1' };
    // 10 text x $5 + 40 image x $10 in, 50 image x $40 out, per million
    const cost = registry.tokenCost(image, {
      inputTokens: 50,
      imageInputTokens: 40,
      outputTokens: 50,
      imageOutputTokens: 50,
    });
    expect(cost?.totalUsd).toBe(0.00245);
    expect(cost?.inputUsd).toBe(0.00005);
    // image tokens in and out are the images' cost
    expect(cost?.imagesUsd).toBe(0.0024);
    expect(cost?.outputUsd).toBe(0);
    // a text-only prompt says so with zero image tokens: 30 x $2 + 4160 x $8 (gpt-image-1-mini)
    expect(
      registry.tokenCost(
        { provider: 'openai', model: 'gpt-image-1-mini' },
        { inputTokens: 30, imageInputTokens: 0, outputTokens: 4160 },
      )?.totalUsd,
    ).toBe(0.03334);
    // without the split the image share could be anything from none to all
    expect(registry.tokenCost(image, { inputTokens: 50, outputTokens: 50 })).toBeUndefined();
    // cached tokens may be text or image ones, which cost differently
    expect(
      registry.tokenCost(image, {
        inputTokens: 50,
        imageInputTokens: 40,
        cachedInputTokens: 20,
        outputTokens: 50,
      }),
    ).toBeUndefined();
    // Gemini image models bill image output at $30/M: 100 x $0.3 + 10 x $2.5 + 1290 x $30, per million
    const gemini = { provider: 'gemini', model: 'gemini-2.5-flash-image' };
    expect(
      registry.tokenCost(gemini, { inputTokens: 100, outputTokens: 1300, imageOutputTokens: 1290 })?.totalUsd,
    ).toBe(0.038755);
  });

  it('prices image tokens at configured image rates, falling back to the plain rates', () => {
    const registry = createPricingRegistry({
      catalog: 'none',
      models: {
        'local/painter': { inputPerMTok: 1, outputPerMTok: 2, imageInputPerMTok: 4, imageOutputPerMTok: 8 },
        'local/plain': { inputPerMTok: 1, outputPerMTok: 2 },
      },
    });
    const usage = { inputTokens: 1000, imageInputTokens: 500, outputTokens: 1000, imageOutputTokens: 1000 };
    // 500 x $1 + 500 x $4 + 1000 x $8, per million
    expect(registry.tokenCost({ provider: 'local', model: 'painter' }, usage)?.totalUsd).toBe(0.0105);
    // 1000 x $1 + 1000 x $2
    expect(registry.tokenCost({ provider: 'local', model: 'plain' }, usage)?.totalUsd).toBe(0.003);
  });

  it('prices web searches per search at the catalog rate, else at the provider default, and counts them unknown without either', () => {
    const registry = createPricingRegistry({
      now,
      models: {
        'local/searcher': { inputPerMTok: 1, outputPerMTok: 2, perWebSearch: 0.02 },
        'local/plain': { inputPerMTok: 1, outputPerMTok: 2 },
      },
    });
    // Anthropic and OpenAI: $10 per 1000 searches on top of the tokens (1000 x $3 + 100 x $15, per million)
    const claude = registry.tokenCost(
      { provider: 'anthropic', model: 'claude-sonnet-4-20250514' },
      { inputTokens: 1000, outputTokens: 100, webSearches: 2 },
    );
    expect(claude?.webSearchUsd).toBe(0.02);
    expect(claude?.totalUsd).toBe(0.0245);
    expect(
      registry.tokenCost(
        { provider: 'openai', model: 'gpt-4.1' },
        { inputTokens: 0, outputTokens: 0, webSearches: 1 },
      )?.totalUsd,
    ).toBe(0.01);
    // Perplexity deep research: $5 per 1000 search queries
    expect(
      registry.tokenCost(
        { provider: 'perplexity', model: 'sonar-deep-research' },
        { inputTokens: 0, outputTokens: 0, webSearches: 4 },
      )?.totalUsd,
    ).toBe(0.02);
    const usage = { inputTokens: 1000, outputTokens: 1000, webSearches: 3 };
    expect(registry.tokenCost({ provider: 'local', model: 'searcher' }, usage)?.totalUsd).toBe(0.063);
    // no search rate anywhere: the tokens keep their price (1000 x $1 + 1000 x $2), the searches are counted unknown
    const plain = registry.tokenCost({ provider: 'local', model: 'plain' }, usage);
    expect(plain?.totalUsd).toBe(0.003);
    expect(plain?.unpricedWebSearches).toBe(3);
    expect(registry.counters.unknownPriceByKey.get('local/plain:web_searches')).toBe(1);
    expect(registry.counters.unknownPrice).toBe(1);
    // the catalog has no search rate for these: OpenAI's and Anthropic's documented $10 per 1000 apply
    const deep = registry.tokenCost(
      { provider: 'openai', model: 'o3-deep-research' },
      { inputTokens: 0, outputTokens: 0, webSearches: 2 },
    );
    expect(deep?.webSearchUsd).toBe(0.02);
    expect(deep?.unpricedWebSearches).toBeUndefined();
    expect(
      registry.tokenCost(
        { provider: 'anthropic', model: 'claude-3-haiku-20240307' },
        { inputTokens: 0, outputTokens: 0, webSearches: 1 },
      )?.totalUsd,
    ).toBe(0.01);
    // a configured price of those providers gets the default too, and one of its own wins
    const configured = createPricingRegistry({
      catalog: 'none',
      models: {
        'openai/gpt-x': { inputPerMTok: 1, outputPerMTok: 2 },
        'openai/gpt-y': { inputPerMTok: 1, outputPerMTok: 2, perWebSearch: 0.03 },
      },
    });
    expect(configured.tokenCost({ provider: 'openai', model: 'gpt-x' }, usage)?.totalUsd).toBe(0.033);
    expect(
      configured.tokenCost({ provider: 'work-openai', providerType: 'openai', model: 'gpt-x' }, usage)
        ?.totalUsd,
    ).toBe(0.033);
    expect(configured.tokenCost({ provider: 'openai', model: 'gpt-y' }, usage)?.totalUsd).toBe(0.093);
    expect(configured.counters.unknownPrice).toBe(0);
    // Perplexity sonar has no search rate: its tokens and request fee are priced, the queries counted unknown
    const sonar = registry.tokenCost({ provider: 'perplexity', model: 'sonar' }, usage);
    expect(sonar?.totalUsd).toBeGreaterThan(0);
    expect(sonar?.unpricedWebSearches).toBe(3);
    expect(registry.counters.unknownPriceByKey.get('perplexity/sonar:web_searches')).toBe(1);
  });

  it("prices Gemini's grounding with Google Search per search query on Gemini 3 and per grounded prompt before", () => {
    const registry = createPricingRegistry({ now });
    const usage = { inputTokens: 1000, outputTokens: 100, webSearches: 3 };
    // Gemini 3: $14 per 1000 search queries, each one billed (1000 x $0.5 + 100 x $3 per million)
    const three = registry.tokenCost({ provider: 'gemini', model: 'gemini-3-flash-preview' }, usage);
    expect(three).toMatchObject({ webSearchUsd: 0.042, totalUsd: 0.0428 });
    expect(three?.unpricedWebSearches).toBeUndefined();
    expect(
      registry.tokenCost(
        { provider: 'google-ai', providerType: 'gemini', model: 'gemini-3.1-pro-preview' },
        { inputTokens: 0, outputTokens: 0, webSearches: 2 },
      )?.totalUsd,
    ).toBe(0.028);
    // Gemini 2.5 and earlier: $35 per 1000 grounded prompts, once however many queries ran (1000 x $0.3 + 100 x $2.5)
    expect(registry.tokenCost({ provider: 'gemini', model: 'gemini-2.5-flash' }, usage)).toMatchObject({
      webSearchUsd: 0.035,
      totalUsd: 0.03555,
    });
    expect(
      registry.tokenCost(
        { provider: 'gemini', model: 'models/gemini-2.0-flash' },
        { inputTokens: 0, outputTokens: 0, webSearches: 1 },
      )?.totalUsd,
    ).toBe(0.035);
    // no search, no fee
    expect(
      registry.tokenCost(
        { provider: 'gemini', model: 'gemini-2.5-flash' },
        { inputTokens: 1000, outputTokens: 100 },
      )?.webSearchUsd,
    ).toBe(0);
    expect(registry.counters.unknownPrice).toBe(0);
    // a configured price gets the fee of its generation; a search rate of its own wins, per prompt on Gemini 2
    const configured = createPricingRegistry({
      catalog: 'none',
      models: {
        'gemini/gemini-2.5-pro': { inputPerMTok: 1, outputPerMTok: 2, perWebSearch: 0.03 },
        'gemini/gemini-3-pro-preview': { inputPerMTok: 1, outputPerMTok: 2 },
      },
    });
    expect(configured.tokenCost({ provider: 'gemini', model: 'gemini-2.5-pro' }, usage)?.webSearchUsd).toBe(
      0.03,
    );
    expect(
      configured.tokenCost({ provider: 'gemini', model: 'gemini-3-pro-preview' }, usage)?.webSearchUsd,
    ).toBe(0.042);
    // the rule goes by provider type: the same model name at another provider type keeps that type's rules
    expect(
      createPricingRegistry({
        catalog: 'none',
        models: { 'local/gemini-3-flash': { inputPerMTok: 1, outputPerMTok: 2 } },
      }).tokenCost({ provider: 'local', model: 'gemini-3-flash' }, usage)?.unpricedWebSearches,
    ).toBe(3);
  });

  it('prices the Perplexity request fee at the search context size the usage says, else at the high fee of the catalog', () => {
    const registry = createPricingRegistry({ now });
    const tokens = { inputTokens: 1000, outputTokens: 1000 };
    // sonar: 2000 x $1 per million, and $5 / $8 / $12 per 1000 requests
    expect(
      registry.tokenCost({ provider: 'perplexity', model: 'sonar' }, { ...tokens, searchContextSize: 'low' })
        ?.requestUsd,
    ).toBe(0.005);
    expect(
      registry.tokenCost(
        { provider: 'perplexity', model: 'sonar' },
        { ...tokens, searchContextSize: 'medium' },
      )?.totalUsd,
    ).toBe(0.01);
    expect(
      registry.tokenCost(
        { provider: 'px', providerType: 'perplexity', model: 'sonar-pro' },
        { ...tokens, searchContextSize: 'low' },
      )?.requestUsd,
    ).toBe(0.006);
    // unsaid (or a size Perplexity does not list), the high fee bounds the cost
    expect(registry.tokenCost({ provider: 'perplexity', model: 'sonar' }, tokens)?.requestUsd).toBe(0.012);
    expect(
      registry.tokenCost({ provider: 'perplexity', model: 'sonar' }, { ...tokens, searchContextSize: 'huge' })
        ?.requestUsd,
    ).toBe(0.012);
    // a configured price is the user's own
    const configured = createPricingRegistry({
      catalog: 'none',
      models: { 'perplexity/sonar': { inputPerMTok: 1, outputPerMTok: 1, perRequest: 0.007 } },
    });
    expect(
      configured.tokenCost(
        { provider: 'perplexity', model: 'sonar' },
        { ...tokens, searchContextSize: 'low' },
      )?.requestUsd,
    ).toBe(0.007);
    // on /v1 the usage passes through as Perplexity sent it, size included
    const estimator = createCostEstimator(registry);
    const usage = {
      prompt_tokens: 1000,
      completion_tokens: 1000,
      total_tokens: 2000,
      search_context_size: 'low',
    };
    expect(estimator.costUsd({ provider: 'perplexity', model: 'sonar' }, usage)).toBe(0.007);
  });

  it("prices Perplexity's Pro Search at its own request fee on sonar-pro, auto at it as an upper bound, fast at the standard fee", () => {
    const registry = createPricingRegistry({ now });
    const tokens = { inputTokens: 1000, outputTokens: 1000 };
    const sonarPro = { provider: 'perplexity', model: 'sonar-pro' };
    // Pro Search: $14 / $18 / $22 per 1000 requests for low / medium / high, in place of $6 / $10 / $14
    expect(
      registry.tokenCost(sonarPro, { ...tokens, searchContextSize: 'low', searchType: 'pro' })?.requestUsd,
    ).toBe(0.014);
    expect(
      registry.tokenCost(sonarPro, { ...tokens, searchContextSize: 'medium', searchType: 'pro' })?.requestUsd,
    ).toBe(0.018);
    // 1000 x $3 + 1000 x $15 per million, and $22 per 1000 requests
    expect(
      registry.tokenCost(sonarPro, { ...tokens, searchContextSize: 'high', searchType: 'pro' })?.totalUsd,
    ).toBe(0.04);
    // the size unsaid (or unlisted), the high Pro Search fee bounds it, not the standard high fee
    expect(registry.tokenCost(sonarPro, { ...tokens, searchType: 'pro' })?.requestUsd).toBe(0.022);
    expect(
      registry.tokenCost(sonarPro, { ...tokens, searchContextSize: 'huge', searchType: 'pro' })?.requestUsd,
    ).toBe(0.022);
    // the answer does not say what auto chose: priced as Pro Search
    expect(
      registry.tokenCost(sonarPro, { ...tokens, searchContextSize: 'low', searchType: 'auto' })?.requestUsd,
    ).toBe(0.014);
    expect(
      registry.tokenCost(
        { provider: 'px', providerType: 'perplexity', model: 'sonar-pro' },
        { ...tokens, searchType: 'auto' },
      )?.requestUsd,
    ).toBe(0.022);
    // a size that names a property every object has (the client's to write) is not a size: no NaN
    for (const size of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(registry.tokenCost(sonarPro, { ...tokens, searchContextSize: size })?.requestUsd).toBe(0.014);
      expect(
        registry.tokenCost(sonarPro, { ...tokens, searchContextSize: size, searchType: 'pro' })?.requestUsd,
      ).toBe(0.022);
      expect(registry.tokenCost(sonarPro, { ...tokens, searchContextSize: size })?.totalUsd).toBe(0.032);
    }
    // fast is standard Sonar Pro
    expect(
      registry.tokenCost(sonarPro, { ...tokens, searchContextSize: 'low', searchType: 'fast' })?.requestUsd,
    ).toBe(0.006);
    expect(registry.tokenCost(sonarPro, { ...tokens, searchType: 'fast' })?.requestUsd).toBe(0.014);
    // Pro Search is Sonar Pro's alone: another model keeps its fee
    expect(
      registry.tokenCost(
        { provider: 'perplexity', model: 'sonar' },
        { ...tokens, searchContextSize: 'low', searchType: 'pro' },
      )?.requestUsd,
    ).toBe(0.005);
    expect(
      registry.tokenCost(
        { provider: 'perplexity', model: 'sonar-reasoning-pro' },
        { ...tokens, searchContextSize: 'low', searchType: 'pro' },
      )?.requestUsd,
    ).toBe(0.006);
    // a configured price is the user's own
    const configured = createPricingRegistry({
      catalog: 'none',
      models: { 'perplexity/sonar-pro': { inputPerMTok: 3, outputPerMTok: 15, perRequest: 0.01 } },
    });
    expect(configured.tokenCost(sonarPro, { ...tokens, searchType: 'pro' })?.requestUsd).toBe(0.01);
  });

  it("leaves Azure OpenAI web searches unpriced, with a reason, instead of charging OpenAI's search fee of the catalog's fallback entry", () => {
    const registry = createPricingRegistry({ now });
    // a Responses answer with two web_search_call items, as the OpenAI and Azure meters read it
    const usage = { inputTokens: 1200, outputTokens: 300, webSearches: 2 };
    // OpenAI: 1200 x $2 + 300 x $8 per million, and $10 per 1000 searches
    expect(registry.tokenCost({ provider: 'openai', model: 'gpt-4.1' }, usage)?.totalUsd).toBe(0.0248);
    // Azure bills the search as Grounding with Bing Search: the tokens stand, the searches are counted apart
    const azure = registry.tokenCost(
      { provider: 'azure-eu', providerType: 'azure-openai', model: 'gpt-4.1' },
      usage,
    );
    expect(azure).toMatchObject({
      totalUsd: 0.0048,
      webSearchUsd: 0,
      unpricedWebSearches: 2,
      unpricedWebSearchesReason: 'azure_bing_grounding_unpriced',
    });
    expect(registry.counters.unknownPriceByKey.get('azure-eu/gpt-4.1:web_searches')).toBe(1);
    // a model whose fallback entry has no search rate was already left unpriced, and says why now
    expect(
      registry.tokenCost({ provider: 'azure-openai', model: 'o3-pro' }, usage)?.unpricedWebSearchesReason,
    ).toBe('azure_bing_grounding_unpriced');
    // without searches nothing is counted
    expect(
      registry.tokenCost(
        { provider: 'azure-openai', model: 'gpt-4.1' },
        { inputTokens: 1200, outputTokens: 300 },
      )?.totalUsd,
    ).toBe(0.0048);
    expect(registry.counters.unknownPriceByKey.get('azure-openai/gpt-4.1:web_searches')).toBeUndefined();
    // a configured search rate prices them
    const configured = createPricingRegistry({
      now,
      models: { 'azure-openai/gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8, perWebSearch: 0.014 } },
    });
    expect(configured.tokenCost({ provider: 'azure-openai', model: 'gpt-4.1' }, usage)?.totalUsd).toBe(
      0.0328,
    );
  });

  it('keeps a web search rate the catalog sets for Azure itself, and drops only the one of an OpenAI entry Azure falls back to', () => {
    // a catalog entry of Azure's own with a search rate ($25 per 1000), as a future catalog may carry
    const azure = findProvider({ providerId: 'azure' })!;
    const own = {
      id: 'gpt-own-search',
      match: { equals: 'gpt-own-search' },
      prices: { input_mtok: 2, output_mtok: 8, web_searches_kcount: 25 },
    };
    azure.models.unshift(own);
    try {
      const registry = createPricingRegistry({ now });
      const usage = { inputTokens: 1200, outputTokens: 300, webSearches: 2 };
      const target = { provider: 'azure-eu', providerType: 'azure-openai', model: 'gpt-own-search' };
      expect(registry.resolve(target)?.fallbackProviderId).toBeUndefined();
      // 1200 x $2 + 300 x $8 per million, and 2 searches at $25 per 1000
      const cost = registry.tokenCost(target, usage);
      expect(cost).toMatchObject({ totalUsd: 0.0548, webSearchUsd: 0.05 });
      expect(cost?.unpricedWebSearches).toBeUndefined();
      expect(registry.counters.unknownPrice).toBe(0);
      // gpt-4.1 is OpenAI's entry, which Azure falls back to: its search rate is OpenAI's, not used
      expect(registry.resolve({ provider: 'azure-openai', model: 'gpt-4.1' })).toMatchObject({
        fallbackProviderId: 'openai',
        price: { perWebSearch: 0.01 },
      });
      expect(registry.tokenCost({ provider: 'azure-openai', model: 'gpt-4.1' }, usage)).toMatchObject({
        totalUsd: 0.0048,
        unpricedWebSearches: 2,
        unpricedWebSearchesReason: 'azure_bing_grounding_unpriced',
      });
    } finally {
      azure.models.splice(azure.models.indexOf(own), 1);
    }
  });

  it("leaves Claude's web searches on Vertex AI unpriced, with a reason, instead of charging Anthropic's search fee of the catalog's fallback entry", () => {
    const registry = createPricingRegistry({ now });
    const usage = { inputTokens: 1200, outputTokens: 300, webSearches: 2 };
    // Anthropic: 1200 x $1 + 300 x $5 per million, and $10 per 1000 searches
    expect(
      registry.tokenCost({ provider: 'anthropic', model: 'claude-haiku-4-5-20251001' }, usage)?.totalUsd,
    ).toBe(0.0227);
    // the catalog's Google list lacks Claude Haiku 4.5: Anthropic's entry prices it, whose search rate is Anthropic's
    const haiku = {
      provider: 'vertex-us',
      providerType: 'google-vertex',
      model: 'claude-haiku-4-5@20251001',
    };
    expect(registry.resolve(haiku)).toMatchObject({
      fallbackProviderId: 'anthropic',
      price: { perWebSearch: 0.01 },
    });
    expect(registry.tokenCost(haiku, usage)).toMatchObject({
      totalUsd: 0.0027,
      webSearchUsd: 0,
      unpricedWebSearches: 2,
      unpricedWebSearchesReason: 'vertex_claude_web_search_unpriced',
    });
    expect(registry.counters.unknownPriceByKey.get('vertex-us/claude-haiku-4-5@20251001:web_searches')).toBe(
      1,
    );
    // a model of Google's own list without a search rate was already unpriced, and says why now
    expect(
      registry.tokenCost({ provider: 'vertex', model: 'claude-sonnet-4-5@20250929' }, usage)
        ?.unpricedWebSearchesReason,
    ).toBe('vertex_claude_web_search_unpriced');
    // the Gemini API, which the catalog files under Google too, runs no Claude: its unpriced searches
    // (a model whose generation, and so its grounding fee, the name does not say) get no Vertex reason
    const latest = createPricingRegistry({
      now,
      models: { 'gemini/gemini-flash-latest': { inputPerMTok: 1, outputPerMTok: 5 } },
    });
    const gemini = latest.tokenCost({ provider: 'gemini', model: 'gemini-flash-latest' }, usage);
    expect(gemini?.unpricedWebSearches).toBe(2);
    expect(gemini?.unpricedWebSearchesReason).toBeUndefined();
    // a configured search rate prices them
    const configured = createPricingRegistry({
      now,
      models: {
        'vertex-us/claude-haiku-4-5@20251001': { inputPerMTok: 1, outputPerMTok: 5, perWebSearch: 0.012 },
      },
    });
    expect(configured.tokenCost(haiku, usage)?.totalUsd).toBe(0.0267);
    // as does a rate the catalog sets on a Google entry of its own
    const google = findProvider({ providerId: 'google' })!;
    const own = {
      id: 'claude-own-search',
      match: { equals: 'claude-own-search' },
      prices: { input_mtok: 1, output_mtok: 5, web_searches_kcount: 12 },
    };
    google.models.unshift(own);
    try {
      expect(
        createPricingRegistry({ now }).tokenCost({ provider: 'vertex', model: 'claude-own-search' }, usage),
      ).toMatchObject({ totalUsd: 0.0267, webSearchUsd: 0.024 });
    } finally {
      google.models.splice(google.models.indexOf(own), 1);
    }
  });

  it('prices reasoning tokens at a configured reasoning rate, else at the output rate', () => {
    const registry = createPricingRegistry({
      catalog: 'none',
      models: {
        'local/thinker': { inputPerMTok: 1, outputPerMTok: 2, reasoningPerMTok: 4 },
        'plain-model': { inputPerMTok: 1, outputPerMTok: 2 },
      },
    });
    const usage = { inputTokens: 1000, outputTokens: 1000, reasoningTokens: 400 };
    expect(registry.tokenCost({ provider: 'local', model: 'thinker' }, usage)?.totalUsd).toBe(0.0038);
    expect(registry.tokenCost({ provider: 'anything', model: 'plain-model' }, usage)?.totalUsd).toBe(0.003);
  });

  it('lets configuration override the catalog by provider instance or type', () => {
    const registry = createPricingRegistry({
      now,
      models: { 'openai/gpt-4o': { inputPerMTok: 1, outputPerMTok: 1 } },
    });
    expect(registry.resolve({ provider: 'openai', model: 'gpt-4o' })?.source).toBe('config');
    expect(registry.resolve({ provider: 'eu', providerType: 'openai', model: 'gpt-4o' })?.source).toBe(
      'config',
    );
    expect(registry.resolve({ provider: 'openai', model: 'gpt-4o-mini' })?.source).toBe('genai-prices');
  });

  it('keeps the prices it has resolved apart by provider, provider type and model, also after its cache filled', () => {
    const registry = createPricingRegistry({
      catalog: 'none',
      models: {
        'typed/m': { inputPerMTok: 1, outputPerMTok: 2 },
        'p/other': { inputPerMTok: 3, outputPerMTok: 4 },
      },
      now,
    });
    const resolved = (provider: string, providerType: string, model: string) =>
      registry.resolve({ provider, providerType, model })?.id;
    for (let round = 0; round < 2; round++) {
      expect([
        resolved('p', 'typed', 'm'),
        resolved('p', 'untyped', 'm'),
        resolved('q', 'typed', 'm'),
        resolved('p', 'typed', 'other'),
        resolved('q', 'typed', 'other'),
      ]).toEqual(['typed/m', undefined, 'typed/m', 'p/other', undefined]);
    }
    // past its bound the cache starts again, with the same answers
    for (let i = 0; i < 10_010; i++) resolved('p', 'typed', `filler-${i}`);
    expect([resolved('p', 'typed', 'm'), resolved('p', 'untyped', 'm')]).toEqual(['typed/m', undefined]);
  });

  it('returns null for an unknown model and counts it, never zero', () => {
    const keys: string[] = [];
    const registry = createPricingRegistry({ now, onUnknownPrice: (key) => keys.push(key) });
    const estimator = createCostEstimator(registry);
    const target = { provider: 'local', providerType: 'openai-compatible', model: 'my-finetune' };
    expect(
      estimator.costUsd(target, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }),
    ).toBeNull();
    expect(
      estimator.costUsd(target, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }),
    ).toBeNull();
    expect(registry.counters.unknownPrice).toBe(2);
    expect(registry.counters.unknownPriceByKey.get('local/my-finetune')).toBe(2);
    expect(keys).toEqual(['local/my-finetune']);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    "prices no model named as a member every object has (%s): a configured price is one of the configuration's own keys",
    (name) => {
      for (const models of [undefined, { 'mock/echo': { inputPerMTok: 1, outputPerMTok: 1 } }]) {
        const registry = createPricingRegistry({ now, catalog: 'none', ...(models && { models }) });
        expect(registry.resolve({ provider: 'mock', model: name })).toBeUndefined();
        expect(registry.resolve({ provider: 'mock', providerType: 'openai', model: name })).toBeUndefined();
        expect(
          registry.tokenCost({ provider: 'mock', model: name }, { inputTokens: 10, outputTokens: 10 }),
        ).toBeUndefined();
        expect(registry.counters.unknownPriceByKey.get(`mock/${name}`)).toBe(1);
      }
      // a price configured under that very name is one of the configuration's own
      const configured = createPricingRegistry({
        catalog: 'none',
        models: JSON.parse(`{"mock/${name}": {"inputPerMTok": 1, "outputPerMTok": 2}}`) as Record<
          string,
          { inputPerMTok: number; outputPerMTok: number }
        >,
      });
      expect(configured.resolve({ provider: 'mock', model: name })).toMatchObject({
        source: 'config',
        id: `mock/${name}`,
        model: name,
      });
    },
  );

  it('keeps counts for the 1000 unknown keys seen last, not every model name a client sent', () => {
    const registry = createPricingRegistry({ catalog: 'none' });
    const usage = { inputTokens: 1, outputTokens: 1 };
    const unknown = (from: number, to: number): void => {
      for (let index = from; index < to; index += 1)
        registry.tokenCost({ provider: 'local', model: `m-${index}` }, usage);
    };
    registry.tokenCost({ provider: 'local', model: 'kept' }, usage);
    unknown(0, 600);
    // counted again, so among the 1000 seen last once 900 more come
    registry.tokenCost({ provider: 'local', model: 'kept' }, usage);
    unknown(600, 1500);
    expect(registry.counters.unknownPrice).toBe(1502);
    expect(registry.counters.unknownPriceByKey.size).toBe(1000);
    expect(registry.counters.unknownPriceByKey.has('local/m-0')).toBe(false);
    expect(registry.counters.unknownPriceByKey.get('local/m-1499')).toBe(1);
    expect(registry.counters.unknownPriceByKey.get('local/kept')).toBe(2);
  });

  it('makes the cost unknown when a used component has no rate', () => {
    const registry = createPricingRegistry({
      catalog: 'none',
      models: { 'x/tts': { perAudioSecond: 0.001 } },
    });
    expect(
      registry.tokenCost(
        { provider: 'x', model: 'tts' },
        { inputTokens: 0, outputTokens: 0, audioSeconds: 10 },
      )?.totalUsd,
    ).toBe(0.01);
    expect(
      registry.tokenCost({ provider: 'x', model: 'tts' }, { inputTokens: 5, outputTokens: 0 }),
    ).toBeUndefined();
  });

  it('rejects invalid options with every problem in one error', () => {
    let thrown: unknown;
    try {
      createPricingRegistry({ models: { bad: { inputPerMTok: -1 } }, defaultMaxOutputTokens: 0 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'invalid_options' });
    expect(String((thrown as Error).message)).toContain('inputPerMTok');
    expect(String((thrown as Error).message)).toContain('defaultMaxOutputTokens');
  });
});

describe('non-token pricing', () => {
  const registry = createPricingRegistry({
    now,
    units: {
      elevenlabs: { perUnit: { characters: 0.00018 } },
      deepgram: { perUnit: { audio_seconds: 0.0043 / 60 } },
      pinecone: { perUnit: { read_units: 16 / 1e6, write_units: 4 / 1e6 } },
      twilio: { perUnit: { messages: 0.0083 } },
    },
  });

  it('prices per character, per second, per unit and per message', () => {
    expect(registry.meteredCostUsd({ provider: 'elevenlabs', units: { characters: 1000 } })).toBe(0.18);
    expect(registry.meteredCostUsd({ provider: 'deepgram', units: { audio_seconds: 120 } })).toBe(0.0086);
    expect(registry.meteredCostUsd({ provider: 'pinecone', units: { read_units: 5, write_units: 10 } })).toBe(
      0.00012,
    );
    expect(registry.meteredCostUsd({ provider: 'twilio', units: { messages: 2 } })).toBe(0.0166);
  });

  it('bills one of the units that count the same use: the first with a price, never both', () => {
    const speech = {
      provider: 'elevenlabs',
      model: 'eleven_flash_v2_5',
      units: { characters: 1000, credits: 500 },
      alternativeUnits: [['credits', 'characters']],
    };
    // a price per character (the registry's) still prices the characters, not the credits too
    expect(registry.meteredCostUsd(speech)).toBe(0.18);
    const perCredit = createPricingRegistry({ now, units: { elevenlabs: { perUnit: { credits: 0.0003 } } } });
    expect(perCredit.meteredCostUsd(speech)).toBe(0.15);
    // both priced: the credits, what the answer says was charged
    const both = createPricingRegistry({
      now,
      units: {
        elevenlabs: { perUnit: { credits: 0.0003 } },
        'elevenlabs/eleven_flash_v2_5': { perUnit: { characters: 0.00005 } },
      },
    });
    expect(both.meteredCostUsd(speech)).toBe(0.15);
    // only the unit counted can be billed; none priced is unknown
    expect(perCredit.meteredCostUsd({ ...speech, units: { characters: 1000 } })).toBeNull();
    const unpriced = createPricingRegistry({ now });
    expect(unpriced.meteredCostUsd(speech)).toBeNull();
    expect(unpriced.counters.unknownPriceByKey.get('elevenlabs/eleven_flash_v2_5:credits')).toBe(1);
  });

  it('prices payments as a percentage plus a fixed fee, in USD only', () => {
    expect(
      registry.meteredCostUsd({
        provider: 'stripe',
        units: {},
        payment: { amount: 20, currency: 'usd', transactions: 1 },
      }),
    ).toBe(0.88);
    expect(
      registry.meteredCostUsd({
        provider: 'stripe',
        units: {},
        payment: { amount: 20, currency: 'eur', transactions: 1 },
      }),
    ).toBeNull();
  });

  it('uses shipped list prices for OpenAI speech and images', () => {
    expect(registry.meteredCostUsd({ provider: 'openai', model: 'tts-1', units: { characters: 1000 } })).toBe(
      0.015,
    );
    expect(
      registry.meteredCostUsd({ provider: 'openai', model: 'whisper-1', units: { audio_seconds: 90 } }),
    ).toBe(0.009);
  });

  it('prices DALL·E images by quality and size, a configured flat price of the model first', () => {
    const hd = { provider: 'openai', model: 'dall-e-3', units: { images: 2 }, priceVariant: 'hd/1024x1792' };
    expect(registry.meteredCostUsd(hd)).toBe(0.24);
    expect(registry.meteredCostUsd({ ...hd, model: 'dall-e-2', priceVariant: 'standard/256x256' })).toBe(
      0.032,
    );
    // a variant without a list price has the model's default one
    expect(registry.meteredCostUsd({ ...hd, priceVariant: 'auto/1024x1024' })).toBe(0.08);
    const negotiated = createPricingRegistry({
      units: {
        'openai/dall-e-3': { perUnit: { images: 0.05 } },
        'openai/dall-e-3@hd/1792x1024': { perUnit: { images: 0.1 } },
      },
    });
    expect(negotiated.meteredCostUsd(hd)).toBe(0.1);
    expect(negotiated.meteredCostUsd({ ...hd, priceVariant: 'hd/1792x1024' })).toBe(0.2);
  });

  it('counts a speech answer without its tokens as unknown by its reason, unless the user priced its characters', () => {
    const speech = {
      provider: 'openai',
      model: 'gpt-4o-mini-tts',
      operation: 'tts',
      units: { characters: 45 },
      unpricedReason: 'audio_tokens_unreported',
    };
    const fresh = createPricingRegistry();
    expect(fresh.meteredCostUsd(speech)).toBeNull();
    expect(fresh.counters.unknownPriceByKey.get('openai/gpt-4o-mini-tts:audio_tokens_unreported')).toBe(1);
    const estimated = createPricingRegistry({
      units: { 'openai/gpt-4o-mini-tts': { perUnit: { characters: 0.00002 } } },
    });
    expect(estimated.meteredCostUsd(speech)).toBe(0.0009);
  });

  it('counts tokens without a price as unknown by the reason their meter gives, unless the user priced them', () => {
    // a Vertex AI text embedding model: its tokens are reported, its characters billed
    const embedding = {
      provider: 'gemini',
      model: 'text-embedding-005',
      operation: 'embeddings',
      tokens: { inputTokens: 12, outputTokens: 0 },
      units: { characters: 40 },
      unpricedReason: 'billed_per_character',
    };
    const fresh = createPricingRegistry({ now });
    expect(fresh.meteredCostUsd(embedding)).toBeNull();
    expect(fresh.counters.unknownPriceByKey.get('gemini/text-embedding-005:billed_per_character')).toBe(1);
    expect(fresh.counters.unknownPriceByKey.has('gemini/text-embedding-005')).toBe(false);
    // priced by the user: no token charge, the characters at their rate
    const configured = createPricingRegistry({
      now,
      models: { 'gemini/text-embedding-005': { inputPerMTok: 0, outputPerMTok: 0 } },
      units: { 'gemini/text-embedding-005': { perUnit: { characters: 0.000025 / 1000 } } },
    });
    expect(configured.meteredCostUsd(embedding)).toBe(0.000001);
    // a token price alone leaves the characters unpriced, counted with the same reason
    const tokensOnly = createPricingRegistry({
      now,
      models: { 'gemini/text-embedding-005': { inputPerMTok: 0.1 } },
    });
    expect(tokensOnly.meteredCostUsd(embedding)).toBeNull();
    expect(tokensOnly.counters.unknownPriceByKey.get('gemini/text-embedding-005:billed_per_character')).toBe(
      1,
    );
  });

  it('prices Imagen on Vertex AI per image at its list price, leaving the models it does not list to configuration', () => {
    const images = (model: string, count: number) => ({
      provider: 'gemini',
      model,
      operation: 'image',
      units: { images: count },
    });
    expect(registry.meteredCostUsd(images('imagen-4.0-ultra-generate-001', 2))).toBe(0.12);
    expect(registry.meteredCostUsd(images('imagen-4.0-generate-001', 3))).toBe(0.12);
    expect(registry.meteredCostUsd(images('imagen-4.0-fast-generate-001', 1))).toBe(0.02);
    expect(registry.meteredCostUsd(images('imagen-3.0-generate-002', 1))).toBe(0.04);
    expect(registry.meteredCostUsd(images('imagen-3.0-fast-generate-001', 4))).toBe(0.08);
    const fresh = createPricingRegistry({ now });
    expect(fresh.meteredCostUsd(images('imagen-3.0-capability-001', 1))).toBeNull();
    expect(fresh.counters.unknownPriceByKey.get('gemini/imagen-3.0-capability-001:images')).toBe(1);
  });

  it('prices an exchange that used zero of a priced unit at 0, a known cost, not an unknown one', () => {
    const fresh = createPricingRegistry({
      now,
      units: {
        pinecone: { perUnit: { read_units: 16 / 1e6 } },
        elevenlabs: { perUnit: { characters: 0.00018 } },
      },
    });
    // a Pinecone delete reports `usage.readUnits: 0`; a text-to-speech call of an empty text 0 characters
    expect(
      fresh.meteredCostUsd({ provider: 'pinecone', operation: 'delete', units: { read_units: 0 } }),
    ).toBe(0);
    expect(
      fresh.meteredCostUsd({
        provider: 'pinecone',
        operation: 'upsert',
        units: { read_units: 0, records_written: 0 },
      }),
    ).toBe(0);
    expect(fresh.meteredCostUsd({ provider: 'elevenlabs', operation: 'tts', units: { characters: 0 } })).toBe(
      0,
    );
    // a shipped list price, by model
    expect(fresh.meteredCostUsd({ provider: 'openai', model: 'tts-1', units: { characters: 0 } })).toBe(0);
    // zero tokens of a priced model
    expect(
      fresh.meteredCostUsd({
        provider: 'openai',
        model: 'text-embedding-3-small',
        tokens: { inputTokens: 0, outputTokens: 0 },
        units: {},
      }),
    ).toBe(0);
    expect(fresh.counters.unknownPrice).toBe(0);
  });

  it('keeps zero of an unpriced unit, and an exchange that reports no count, unknown', () => {
    const fresh = createPricingRegistry({ now });
    expect(
      fresh.meteredCostUsd({ provider: 'weaviate', operation: 'batch', units: { objects_written: 0 } }),
    ).toBeNull();
    expect(fresh.counters.unknownPriceByKey.get('weaviate/objects_written:objects_written')).toBe(1);
    // nothing reported: no count says what was used
    expect(fresh.meteredCostUsd({ provider: 'pinecone', operation: 'delete', units: {} })).toBeNull();
    // and no price makes zero tokens of an unknown model a known cost
    expect(
      fresh.meteredCostUsd({
        provider: 'local',
        model: 'no-such-model',
        tokens: { inputTokens: 0, outputTokens: 0 },
        units: {},
      }),
    ).toBeNull();
    expect(fresh.counters.unknownPriceByKey.get('local/no-such-model')).toBe(1);
  });

  it.each(['__proto__', 'constructor', 'toString'])(
    'finds no unit price, and no rate, under a name every object has (%s)',
    (name) => {
      expect(registry.unitPrice(name)).toBeUndefined();
      expect(registry.unitPrice('openai', name)).toBeUndefined();
      expect(registry.unitPrice('openai', 'tts-1', name)).toEqual(registry.unitPrice('openai', 'tts-1'));
      // a unit of that name has no rate: unknown, never NaN or a price of Object.prototype's
      expect(registry.meteredCostUsd({ provider: 'elevenlabs', units: { [name]: 3 } })).toBeNull();
      expect(registry.meteredCostUsd({ provider: 'elevenlabs', units: { characters: 0, [name]: 0 } })).toBe(
        0,
      );
    },
  );

  it('counts an unpriced unit as unknown', () => {
    const before = registry.counters.unknownPrice;
    expect(registry.meteredCostUsd({ provider: 'sendgrid', units: { messages: 1 } })).toBeNull();
    expect(registry.counters.unknownPrice).toBe(before + 1);
  });
});

describe('cost estimator', () => {
  const estimator = createCostEstimator(
    createPricingRegistry({ now, catalog: 'none', models: { 'p/m': { inputPerMTok: 2, outputPerMTok: 8 } } }),
  );

  it('bounds a request before the call by its prompt and output limit', () => {
    const estimate = estimator.estimate(
      { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(100) }], max_tokens: 1000 },
      { provider: 'p', model: 'm' },
    );
    // 100 chars / 2 per token + 4 overhead
    expect(estimate).toEqual({ promptTokens: 54, maxOutputTokens: 1000, maxCostUsd: 0.008108 });
  });

  // the engine's limiter weight and lowest-cost routing count choices with requestedChoices: a
  // budget reservation covering more or fewer of them than the limiter weighs would disagree
  it("covers as many choices as the engine's own estimates count (requestedChoices), whatever n is", () => {
    const LEGACY = LEGACY_COMPLETION_FIELD;
    const variants: Array<Partial<ChatCompletionRequest>> = [
      {},
      { n: null },
      { n: 0 },
      { n: -3 },
      { n: 2.7 },
      { n: 3 },
      { n: 1e9 },
      { n: Number.POSITIVE_INFINITY },
      { n: 2, [LEGACY]: { best_of: 5 } },
    ];
    for (const variant of variants) {
      const request: ChatCompletionRequest = {
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 10,
        ...variant,
      };
      expect(
        estimator.estimate(request, { provider: 'p', model: 'm' }).maxOutputTokens,
        JSON.stringify(variant),
      ).toBe(10 * requestedChoices(request));
    }
  });

  // the output of an image or audio model may be billed at its image or audio rate: a bound at the
  // text rate was 12x under a Gemini image answer's cost, and a missing image split made it null
  it('bounds the output at the highest rate it can be billed at: image output, audio output when asked', () => {
    const priced = createCostEstimator(
      createPricingRegistry({
        now,
        catalog: 'none',
        models: {
          'p/image': { inputPerMTok: 1, outputPerMTok: 2, imageOutputPerMTok: 30 },
          'p/audio': { inputPerMTok: 1, outputPerMTok: 10, audioOutputPerMTok: 80 },
          'p/thinks': { inputPerMTok: 1, outputPerMTok: 2, reasoningPerMTok: 5 },
        },
      }),
    );
    const request = (model: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
      model,
      messages: [{ role: 'user', content: 'x'.repeat(92) }],
      max_tokens: 1000,
      ...extra,
    });
    // 92 chars / 2 per token + 4 overhead = 50 prompt tokens
    expect(priced.estimate(request('image'), { provider: 'p', model: 'image' }).maxCostUsd).toBe(
      (50 * 1 + 1000 * 30) / 1e6,
    );
    expect(
      priced.estimate(request('audio', { modalities: ['text', 'audio'] }), { provider: 'p', model: 'audio' })
        .maxCostUsd,
    ).toBe((50 * 1 + 1000 * 80) / 1e6);
    // no audio is written unless the request asks for it
    expect(priced.estimate(request('audio'), { provider: 'p', model: 'audio' }).maxCostUsd).toBe(
      (50 * 1 + 1000 * 10) / 1e6,
    );
    expect(priced.estimate(request('thinks'), { provider: 'p', model: 'thinks' }).maxCostUsd).toBe(
      (50 * 1 + 1000 * 5) / 1e6,
    );
  });

  it('ranks targets by a blended unit cost and returns null when unpriced', () => {
    expect(estimator.unitCostUsd({ provider: 'p', model: 'm' })).toBe(4);
    expect(estimator.unitCostUsd({ provider: 'p', model: 'other' })).toBeNull();
    expect(
      estimator.estimate({ model: 'x', messages: [] }, { provider: 'p', model: 'other' }).maxCostUsd,
    ).toBeNull();
  });
});
