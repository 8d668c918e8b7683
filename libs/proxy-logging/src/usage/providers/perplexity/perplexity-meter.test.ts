import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { perplexityMeter } from './perplexity-meter';

// Sonar Deep Research's usage counts, at the top level of `usage`, its reasoning tokens apart from
// the completion tokens, its citation tokens apart from the prompt tokens and its search queries
// (https://docs.perplexity.ai/api-reference/chat-completions-post); each has a rate of its own:
// input $2, output $8, citation tokens $2 and reasoning tokens $3 per million, searches $5 per
// 1000 (https://docs.perplexity.ai/getting-started/pricing)
const documented = JSON.parse(
  readFileSync(new URL('./__fixtures__/deep-research-cost.json', import.meta.url), 'utf8'),
) as { request: { body: unknown }; response: { body: { usage: Record<string, unknown> } } };

function deepResearch(usage: Record<string, unknown>, model?: string): MeterExchange {
  const responseText = JSON.stringify({
    ...documented.response.body,
    ...(model === undefined ? {} : { model }),
    usage,
  });
  return {
    method: 'POST',
    url: new URL('https://api.perplexity.ai/chat/completions'),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify(documented.request.body),
    status: 200,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

describe('perplexity meter: deep research', () => {
  const { cost, ...unstated } = documented.response.body.usage;

  it('reads the reasoning and citation tokens, each counted apart from the completion tokens, and keeps the citation attribute', () => {
    expect(cost).toBeDefined();
    const usage = perplexityMeter.meter(deepResearch(unstated));
    // citation tokens are apart from the prompt and the completion: not in either total
    expect(usage?.tokens).toEqual({
      inputTokens: 19,
      outputTokens: 4978 + 81245,
      reasoningTokens: 81245,
      citationTokens: 10837,
      webSearches: 22,
      searchContextSize: 'low',
    });
    expect(usage?.attributes).toEqual({ search_context_size: 'low', citation_tokens: 10837 });
  });

  it('prices the reasoning and citation tokens at their own rates when Perplexity states no cost, as it bills them', () => {
    const pricing = createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') });
    const usage = perplexityMeter.meter(deepResearch(unstated));
    // 19 x $2 + 4978 x $8 + 10837 x $2 + 81245 x $3 per million, and 22 searches at $5 per 1000:
    // $0.415271, the total_cost Perplexity states for the same usage ($0.41527, its parts rounded to
    // five decimals)
    const priced = pricing.meteredCostUsd(usage!);
    expect(priced).toBeCloseTo((19 * 2 + 4978 * 8 + 10837 * 2 + 81245 * 3) / 1e6 + 22 * 0.005, 9);
    expect(priced).toBeCloseTo(0.41527, 5);
    // the cost Perplexity states still wins
    expect(pricing.meteredCostUsd(perplexityMeter.meter(deepResearch({ ...unstated, cost }))!)).toBe(0.41527);
  });

  it('leaves the cost unknown, by its reason, where the price has no citation rate, never priced without them', () => {
    const keys: string[] = [];
    const pricing = createPricingRegistry({
      catalog: 'none',
      models: {
        'perplexity/sonar-deep-research': {
          inputPerMTok: 2,
          outputPerMTok: 8,
          reasoningPerMTok: 3,
          perWebSearch: 0.005,
        },
      },
      onUnknownPrice: (key) => keys.push(key),
    });
    expect(pricing.meteredCostUsd(perplexityMeter.meter(deepResearch(unstated))!)).toBeNull();
    expect(keys).toEqual(['perplexity/sonar-deep-research:citation_tokens']);
    // without citation tokens the same price stands
    const { citation_tokens: _citations, ...uncited } = unstated;
    expect(pricing.meteredCostUsd(perplexityMeter.meter(deepResearch(uncited))!)).toBeCloseTo(
      (19 * 2 + 4978 * 8 + 81245 * 3) / 1e6 + 22 * 0.005,
      9,
    );
  });

  it('adds reasoning only when it is shown apart from the completion tokens, and never twice', () => {
    // another model's count within its completion (a share of it) is left as the completion says,
    // a stated reasoning cost of 0 showing nothing billed apart
    for (const cost of [undefined, { reasoning_tokens_cost: 0 }]) {
      const within = perplexityMeter.meter(
        deepResearch(
          {
            ...unstated,
            completion_tokens: 90_000,
            total_tokens: 90_019,
            ...(cost === undefined ? {} : { cost }),
          },
          'sonar-reasoning-pro',
        ),
      );
      expect(within?.tokens).toMatchObject({ outputTokens: 90_000 });
      expect(within?.tokens?.reasoningTokens).toBeUndefined();
    }
    // deep research counts it apart whatever the counts, a stated reasoning cost shows it billed
    // apart for any model
    const research = perplexityMeter.meter(deepResearch({ ...unstated, completion_tokens: 90_000 }));
    expect(research?.tokens).toMatchObject({ outputTokens: 90_000 + 81_245, reasoningTokens: 81_245 });
    const billed = perplexityMeter.meter(
      deepResearch(
        { ...unstated, completion_tokens: 90_000, cost: { reasoning_tokens_cost: 0.24 } },
        'sonar-reasoning-pro',
      ),
    );
    expect(billed?.tokens).toMatchObject({ outputTokens: 90_000 + 81_245, reasoningTokens: 81_245 });
    // reasoning in OpenAI's place is part of the completion: not added again
    const details = perplexityMeter.meter(
      deepResearch({ ...unstated, completion_tokens_details: { reasoning_tokens: 4_000 } }),
    );
    expect(details?.tokens).toMatchObject({ outputTokens: 4_978, reasoningTokens: 4_000 });
  });
});
