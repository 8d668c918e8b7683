import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { vertexMeter } from '../vertex/vertex-meter';
import { anthropicMeter } from './anthropic-meter';

// Anthropic's Messages usage says the speed an answer ran at (`speed`: `fast` or `standard`,
// https://platform.claude.com/docs/en/build-with-claude/fast-mode) and where its inference ran
// (`inference_geo`: `global`, `us`, `not_available`,
// https://platform.claude.com/docs/en/build-with-claude/data-residency)

const now = (): Date => new Date('2026-11-23T12:00:00Z');

function exchange(url: string, responseText: string, stream = false): MeterExchange {
  return {
    method: 'POST',
    url: new URL(url),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({ model: 'claude-opus-4-6', max_tokens: 4096, stream }),
    status: 200,
    responseHeaders: { 'content-type': stream ? 'text/event-stream' : 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

const message = (usage: Record<string, unknown>): string =>
  JSON.stringify({
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-opus-4-6',
    content: [{ type: 'text', text: 'Done.' }],
    stop_reason: 'end_turn',
    usage,
  });

const MESSAGES = 'https://api.anthropic.com/v1/messages';

describe('anthropic meter: speed and inference geo', () => {
  it('reads fast mode as a service tier of its own and US-only inference apart, whole or streamed', () => {
    const usage = { input_tokens: 10_000, output_tokens: 2000, speed: 'fast', inference_geo: 'us' };
    expect(anthropicMeter.meter(exchange(MESSAGES, message(usage)))?.tokens).toEqual({
      inputTokens: 10_000,
      outputTokens: 2000,
      serviceTier: 'fast',
      inferenceGeo: 'us',
    });
    const events = [
      {
        type: 'message_start',
        message: {
          id: 'msg_01',
          type: 'message',
          role: 'assistant',
          model: 'claude-opus-4-6',
          content: [],
          usage: { input_tokens: 10_000, output_tokens: 1, speed: 'fast', inference_geo: 'us' },
        },
      },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2000 } },
      { type: 'message_stop' },
    ];
    const sse = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join('');
    expect(anthropicMeter.meter(exchange(MESSAGES, sse, true))?.tokens).toEqual({
      inputTokens: 10_000,
      outputTokens: 2000,
      serviceTier: 'fast',
      inferenceGeo: 'us',
    });
  });

  it('leaves the standard speed and a global or unavailable geo out of the usage', () => {
    for (const inference_geo of ['global', 'not_available']) {
      expect(
        anthropicMeter.meter(
          exchange(
            MESSAGES,
            message({ input_tokens: 10, output_tokens: 5, speed: 'standard', inference_geo }),
          ),
        )?.tokens,
      ).toEqual({ inputTokens: 10, outputTokens: 5 });
    }
  });

  it('prices fast mode only at rates configured for it, and US-only inference at 1.1 times every token rate', () => {
    const fast = { input_tokens: 10_000, output_tokens: 2000, speed: 'fast' };
    const standard = { input_tokens: 10_000, output_tokens: 2000 };
    const us = { ...standard, inference_geo: 'us' };
    const catalog = createPricingRegistry({ now });
    const meter = (usage: Record<string, unknown>) =>
      anthropicMeter.meter(exchange(MESSAGES, message(usage)));
    // 10k x $5 + 2k x $25, per million
    expect(catalog.meteredCostUsd(meter(standard)!)).toBe(0.1);
    // the catalog has no fast-mode rates: never the standard ones
    expect(catalog.meteredCostUsd(meter(fast)!)).toBeNull();
    expect(catalog.counters.unknownPriceByKey.get('anthropic/claude-opus-4-6:service_tier_fast')).toBe(1);
    expect(catalog.meteredCostUsd(meter(us)!)).toBe(0.11);
    // cache reads and writes too; the web search fee is not a token rate
    const cached = {
      input_tokens: 1000,
      cache_read_input_tokens: 10_000,
      cache_creation_input_tokens: 2000,
      cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 1000 },
      output_tokens: 100,
      server_tool_use: { web_search_requests: 2 },
    };
    // 1000 x $5 + 10000 x $0.50 + 1000 x $6.25 + 1000 x $10 + 100 x $25, per million, + 2 x $0.01
    expect(catalog.meteredCostUsd(meter(cached)!)).toBe(0.04875);
    expect(catalog.meteredCostUsd(meter({ ...cached, inference_geo: 'us' })!)).toBe(0.051625);
    const configured = createPricingRegistry({
      now,
      models: {
        'anthropic/claude-opus-4-6': {
          inputPerMTok: 5,
          outputPerMTok: 25,
          serviceTiers: { fast: { inputPerMTok: 30, outputPerMTok: 150 } },
        },
      },
    });
    // 10k x $30 + 2k x $150, per million; fast mode stacks with the US-only multiplier
    expect(configured.meteredCostUsd(meter(fast)!)).toBe(0.6);
    expect(configured.meteredCostUsd(meter({ ...fast, inference_geo: 'us' })!)).toBe(0.66);
    expect(configured.meteredCostUsd(meter(us)!)).toBe(0.11);
  });

  it('reads fast mode of Claude on Vertex AI, whose inference geo is not billed (Anthropic API only)', () => {
    const url =
      'https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/anthropic/models/claude-opus-4-6:rawPredict';
    const fast = vertexMeter.meter(
      exchange(url, message({ input_tokens: 10_000, output_tokens: 2000, speed: 'fast' })),
    );
    expect(fast?.tokens).toEqual({ inputTokens: 10_000, outputTokens: 2000, serviceTier: 'fast' });
    const registry = createPricingRegistry({ now });
    expect(registry.meteredCostUsd(fast!)).toBeNull();
    expect(registry.counters.unknownPriceByKey.get('vertex/claude-opus-4-6:service_tier_fast')).toBe(1);
    const us = vertexMeter.meter(
      exchange(url, message({ input_tokens: 10_000, output_tokens: 2000, inference_geo: 'us' })),
    );
    expect(registry.meteredCostUsd(us!)).toBe(0.1);
  });
});
