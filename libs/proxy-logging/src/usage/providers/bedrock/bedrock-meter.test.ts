import { encodeBedrockEvent } from '@switchyard/testing';
import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import { bedrockMeter } from './bedrock-meter';

// InvokeModelWithResponseStream with an Anthropic model: each frame's payload is
// {"bytes":"<base64 of the model's own chunk>"}; the last chunk carries Bedrock's invocation
// metrics (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html)
const chunks = [
  {
    type: 'message_start',
    message: {
      id: 'msg_bdrk_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-sonnet-20241022',
      content: [],
      usage: { input_tokens: 14, output_tokens: 1 },
    },
  },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello there.' } },
  { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 6 } },
  {
    type: 'message_stop',
    'amazon-bedrock-invocationMetrics': {
      inputTokenCount: 14,
      outputTokenCount: 6,
      invocationLatency: 612,
      firstByteLatency: 301,
    },
  },
];

function exchange(): MeterExchange {
  const frames = chunks.map((chunk) =>
    encodeBedrockEvent('chunk', { bytes: Buffer.from(JSON.stringify(chunk)).toString('base64') }),
  );
  const responseText = Buffer.concat(frames.map((frame) => Buffer.from(frame))).toString('utf8');
  return {
    method: 'POST',
    url: new URL(
      'https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/invoke-with-response-stream',
    ),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    }),
    status: 200,
    responseHeaders: { 'content-type': 'application/vnd.amazon.eventstream' },
    responseText,
    responseBytes: responseText.length,
  };
}

describe('bedrock meter: InvokeModelWithResponseStream', () => {
  it('reads the invocation metrics of the last chunk, base64-encoded in its frame', () => {
    expect(bedrockMeter.meter(exchange())).toMatchObject({
      provider: 'bedrock',
      model: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
      operation: 'invoke-with-response-stream',
      tokens: { inputTokens: 14, outputTokens: 6 },
    });
  });
});

function exchangeOf(
  path: string,
  frames: Uint8Array[] | undefined,
  response: { headers?: Record<string, string>; body?: unknown } = {},
): MeterExchange {
  const responseText =
    frames === undefined
      ? JSON.stringify(response.body)
      : Buffer.concat(frames.map((frame) => Buffer.from(frame))).toString('utf8');
  return {
    method: 'POST',
    url: new URL(`https://bedrock-runtime.us-east-1.amazonaws.com/model/${path}`),
    requestHeaders: { 'content-type': 'application/json' },
    status: 200,
    responseHeaders: {
      'content-type': frames === undefined ? 'application/json' : 'application/vnd.amazon.eventstream',
      ...response.headers,
    },
    responseText,
    responseBytes: responseText.length,
  };
}

describe('bedrock meter: cache tokens', () => {
  it("reads ConverseStream's metadata usage with its cacheDetails, past a guardrail trace's usage", () => {
    // the metadata event of a guarded stream: the trace's assessments carry usage objects of
    // their own (guardrail policy units), after the token usage
    const metadata = {
      usage: {
        inputTokens: 40,
        outputTokens: 12,
        totalTokens: 4148,
        cacheReadInputTokens: 0,
        cacheWriteInputTokens: 4096,
        cacheDetails: [
          { inputTokens: 3072, ttl: '1h' },
          { inputTokens: 1024, ttl: '5m' },
        ],
      },
      metrics: { latencyMs: 820 },
      trace: {
        guardrail: {
          inputAssessment: {
            g1: { invocationMetrics: { usage: { topicPolicyUnits: 1, contentPolicyUnits: 1 } } },
          },
        },
      },
    };
    const usage = bedrockMeter.meter(
      exchangeOf('anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream', [
        encodeBedrockEvent('messageStart', { role: 'assistant' }),
        encodeBedrockEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: '{"usage": {}}' } }),
        encodeBedrockEvent('messageStop', { stopReason: 'end_turn' }),
        encodeBedrockEvent('metadata', metadata),
      ]),
    );
    expect(usage?.tokens).toEqual({
      inputTokens: 4136,
      outputTokens: 12,
      cacheWriteTokens: 4096,
      cacheWrite1hTokens: 3072,
    });
  });

  it('reads the cache-write breakdown of a whole Converse answer alike', () => {
    const usage = bedrockMeter.meter(
      exchangeOf('anthropic.claude-sonnet-4-20250514-v1%3A0/converse', undefined, {
        body: {
          output: { message: { role: 'assistant', content: [{ text: 'Done.' }] } },
          stopReason: 'end_turn',
          usage: {
            inputTokens: 40,
            outputTokens: 12,
            totalTokens: 4148,
            cacheWriteInputTokens: 4096,
            cacheDetails: [{ inputTokens: 4096, ttl: '5m' }],
          },
        },
      }),
    );
    expect(usage?.tokens).toEqual({
      inputTokens: 4136,
      outputTokens: 12,
      cacheWriteTokens: 4096,
      cacheWrite1hTokens: 0,
    });
  });

  it("reads InvokeModel's cache-count headers where the body is not Claude's", () => {
    const usage = bedrockMeter.meter(
      exchangeOf('amazon.nova-pro-v1%3A0/invoke', undefined, {
        headers: {
          'x-amzn-bedrock-input-token-count': '30',
          'x-amzn-bedrock-output-token-count': '20',
          'x-amzn-bedrock-cache-read-input-token-count': '1200',
          'x-amzn-bedrock-cache-write-input-token-count': '0',
        },
        body: {
          output: { message: { role: 'assistant', content: [{ text: 'Done.' }] } },
          stopReason: 'end_turn',
        },
      }),
    );
    expect(usage?.tokens).toEqual({ inputTokens: 1230, outputTokens: 20, cachedInputTokens: 1200 });
  });

  it("reads the cache counts of the last chunk's invocation metrics where the chunks are not Claude's", () => {
    const chunk = (json: unknown) =>
      encodeBedrockEvent('chunk', { bytes: Buffer.from(JSON.stringify(json)).toString('base64') });
    const usage = bedrockMeter.meter(
      exchangeOf('amazon.nova-pro-v1%3A0/invoke-with-response-stream', [
        chunk({ contentBlockDelta: { delta: { text: 'Done.' }, contentBlockIndex: 0 } }),
        chunk({
          metadata: { usage: { inputTokens: 30, outputTokens: 20 } },
          'amazon-bedrock-invocationMetrics': {
            inputTokenCount: 30,
            outputTokenCount: 20,
            invocationLatency: 400,
            firstByteLatency: 120,
            cacheReadInputTokenCount: 1200,
            cacheWriteInputTokenCount: 0,
          },
        }),
      ]),
    );
    expect(usage?.tokens).toEqual({ inputTokens: 1230, outputTokens: 20, cachedInputTokens: 1200 });
  });
});

// the tier an answer was served on (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ServiceTier.html):
// a Converse answer's `serviceTier`, ConverseStream's metadata event's, InvokeModel's
// `X-Amzn-Bedrock-Service-Tier` header; latency-optimized inference (`performanceConfig.latency`,
// `X-Amzn-Bedrock-PerformanceConfig-Latency`) has rates of its own too
describe('bedrock meter: service tiers and latency-optimized inference', () => {
  const converse = (extra: Record<string, unknown>): MeterExchange =>
    exchangeOf('openai.gpt-oss-120b-1%3A0/converse', undefined, {
      body: {
        output: { message: { role: 'assistant', content: [{ text: 'Done.' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 10_000, outputTokens: 2000, totalTokens: 12_000 },
        metrics: { latencyMs: 300 },
        ...extra,
      },
    });

  it("reads a Converse answer's service tier and latency setting into the usage's service tier", () => {
    const tierOf = (extra: Record<string, unknown>) =>
      bedrockMeter.meter(converse(extra))?.tokens?.serviceTier;
    for (const type of ['priority', 'flex', 'reserved', 'default'])
      expect(tierOf({ serviceTier: { type } }), type).toBe(type);
    expect(tierOf({})).toBeUndefined();
    expect(tierOf({ performanceConfig: { latency: 'optimized' } })).toBe('latency_optimized');
    expect(tierOf({ performanceConfig: { latency: 'standard' } })).toBeUndefined();
    expect(tierOf({ serviceTier: { type: 'default' }, performanceConfig: { latency: 'optimized' } })).toBe(
      'latency_optimized',
    );
    expect(tierOf({ serviceTier: { type: 'priority' }, performanceConfig: { latency: 'optimized' } })).toBe(
      'priority_latency_optimized',
    );
  });

  it("reads ConverseStream's metadata event and InvokeModel's headers alike", () => {
    const stream = bedrockMeter.meter(
      exchangeOf('us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream', [
        encodeBedrockEvent('messageStart', { role: 'assistant' }),
        encodeBedrockEvent('messageStop', { stopReason: 'end_turn' }),
        encodeBedrockEvent('metadata', {
          usage: { inputTokens: 100, outputTokens: 20, totalTokens: 120 },
          metrics: { latencyMs: 200 },
          performanceConfig: { latency: 'optimized' },
          serviceTier: { type: 'default' },
        }),
      ]),
    );
    expect(stream?.tokens).toEqual({ inputTokens: 100, outputTokens: 20, serviceTier: 'latency_optimized' });
    const flexStream = bedrockMeter.meter(
      exchangeOf('openai.gpt-oss-120b-1%3A0/converse-stream', [
        encodeBedrockEvent('metadata', {
          usage: { inputTokens: 100, outputTokens: 20, totalTokens: 120 },
          metrics: { latencyMs: 200 },
          serviceTier: { type: 'flex' },
        }),
      ]),
    );
    expect(flexStream?.tokens?.serviceTier).toBe('flex');
    const invoke = bedrockMeter.meter(
      exchangeOf('amazon.nova-pro-v1%3A0/invoke', undefined, {
        headers: {
          'x-amzn-bedrock-input-token-count': '30',
          'x-amzn-bedrock-output-token-count': '20',
          'x-amzn-bedrock-service-tier': 'priority',
        },
        body: { output: { message: { role: 'assistant', content: [{ text: 'Done.' }] } } },
      }),
    );
    expect(invoke?.tokens).toEqual({ inputTokens: 30, outputTokens: 20, serviceTier: 'priority' });
    const chunk = (json: unknown) =>
      encodeBedrockEvent('chunk', { bytes: Buffer.from(JSON.stringify(json)).toString('base64') });
    const invokeStream = bedrockMeter.meter(
      exchangeOf(
        'amazon.nova-pro-v1%3A0/invoke-with-response-stream',
        [
          chunk({
            'amazon-bedrock-invocationMetrics': { inputTokenCount: 30, outputTokenCount: 20 },
          }),
        ],
        { headers: { 'x-amzn-bedrock-performanceconfig-latency': 'optimized' } },
      ),
    );
    expect(invokeStream?.tokens).toEqual({
      inputTokens: 30,
      outputTokens: 20,
      serviceTier: 'latency_optimized',
    });
  });

  it('prices an answer on another tier only at rates configured for it, never the standard ones', () => {
    const registry = createPricingRegistry({
      now: () => new Date('2026-11-23T12:00:00Z'),
      models: {
        'bedrock/openai.gpt-oss-120b-1:0': {
          inputPerMTok: 0.15,
          outputPerMTok: 0.6,
          serviceTiers: { flex: { inputPerMTok: 0.075, outputPerMTok: 0.3 } },
        },
      },
    });
    // 10k x $0.15 + 2k x $0.60, per million
    expect(registry.meteredCostUsd(bedrockMeter.meter(converse({}))!)).toBe(0.0027);
    expect(registry.meteredCostUsd(bedrockMeter.meter(converse({ serviceTier: { type: 'default' } }))!)).toBe(
      0.0027,
    );
    expect(registry.meteredCostUsd(bedrockMeter.meter(converse({ serviceTier: { type: 'flex' } }))!)).toBe(
      0.00135,
    );
    expect(
      registry.meteredCostUsd(bedrockMeter.meter(converse({ serviceTier: { type: 'priority' } }))!),
    ).toBeNull();
    expect(
      registry.counters.unknownPriceByKey.get('bedrock/openai.gpt-oss-120b-1:0:service_tier_priority'),
    ).toBe(1);
  });
});
