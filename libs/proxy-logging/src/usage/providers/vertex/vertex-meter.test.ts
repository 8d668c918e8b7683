import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { vertexMeter } from './vertex-meter';

// Claude on Vertex AI: the Messages shapes at `:rawPredict`, the model in the URL
// (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude)

const PROJECT = 'https://aiplatform.googleapis.com/v1/projects/my-project/locations/global';

function exchange(path: string, answer: unknown, status = 200): MeterExchange {
  const responseText = JSON.stringify(answer);
  return {
    method: 'POST',
    url: new URL(`${PROJECT}${path}`),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({
      anthropic_version: 'vertex-2023-10-16',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Hello' }],
    }),
    status,
    responseHeaders: { 'content-type': 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

const message = (usage: Record<string, unknown>): Record<string, unknown> => ({
  id: 'msg_vrtx_01',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'Hi!' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage,
});

describe('vertex meter: Claude', () => {
  it('names the model as the URL does, percent-encoded or not, over the name the answer gives', () => {
    for (const model of ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5%4020250929']) {
      expect(
        vertexMeter.meter(
          exchange(
            `/publishers/anthropic/models/${model}:rawPredict`,
            message({ input_tokens: 10, output_tokens: 5 }),
          ),
        ),
      ).toEqual({
        provider: 'vertex',
        model: 'claude-sonnet-4-5@20250929',
        operation: 'messages',
        tokens: { inputTokens: 10, outputTokens: 5 },
        units: {},
      });
    }
  });

  it('meters nothing for count-tokens (free), a failed call, or a malformed model in the URL', () => {
    expect(
      vertexMeter.meter(
        exchange('/publishers/anthropic/models/count-tokens:rawPredict', { input_tokens: 14 }),
      ),
    ).toBeUndefined();
    const failed = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    expect(
      vertexMeter.meter(
        exchange('/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict', failed, 529),
      ),
    ).toBeUndefined();
    expect(
      vertexMeter.meter(
        exchange(
          '/publishers/anthropic/models/claude-%E0:rawPredict',
          message({ input_tokens: 10, output_tokens: 5 }),
        ),
      ),
    ).toBeUndefined();
  });

  it("prices Claude's tokens on Vertex and leaves its web searches unpriced, counted with the model", () => {
    const usage = vertexMeter.meter(
      exchange(
        '/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict',
        message({ input_tokens: 1200, output_tokens: 300, server_tool_use: { web_search_requests: 2 } }),
      ),
    );
    expect(usage?.tokens).toEqual({ inputTokens: 1200, outputTokens: 300, webSearches: 2 });
    const pricing = createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') });
    // Claude Haiku 4.5: 1200 x $1 + 300 x $5 per million; Anthropic's $10 per 1000 searches is not Google's
    expect(pricing.meteredCostUsd(usage!)).toBe(0.0027);
    expect(pricing.counters.unknownPriceByKey.get('vertex/claude-haiku-4-5@20251001:web_searches')).toBe(1);
    // a configured search rate prices them
    const configured = createPricingRegistry({
      models: {
        'vertex/claude-haiku-4-5@20251001': { inputPerMTok: 1, outputPerMTok: 5, perWebSearch: 0.012 },
      },
    });
    expect(configured.meteredCostUsd(usage!)).toBe(0.0267);
  });
});
