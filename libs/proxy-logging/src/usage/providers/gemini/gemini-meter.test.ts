import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { geminiMeter } from './gemini-meter';

const VERTEX =
  'https://us-central1-aiplatform.googleapis.com/v1/projects/my-project/locations/us-central1/publishers/google/models';
const GEMINI_API = 'https://generativelanguage.googleapis.com/v1beta/models';

function exchange(url: string, answer: string, extra: Partial<MeterExchange> = {}): MeterExchange {
  return {
    method: 'POST',
    url: new URL(url),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] }),
    status: 200,
    responseHeaders: { 'content-type': 'application/json; charset=UTF-8' },
    responseText: answer,
    responseBytes: answer.length,
    ...extra,
  };
}

const answer = (
  usageMetadata: Record<string, unknown>,
  model = 'gemini-2.5-pro',
): Record<string, unknown> => ({
  candidates: [{ content: { role: 'model', parts: [{ text: 'Hi!' }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata,
  modelVersion: model,
  createTime: '2026-11-23T12:00:00.000000Z',
  responseId: 'resp-1',
});

// Vertex AI says which quota served a request (`usageMetadata.trafficType`): pay-as-you-go
// (`ON_DEMAND`), Flex or Priority pay-as-you-go, whose per-token rates differ from the standard
// ones, or Provisioned Throughput, paid for ahead
// (https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/GenerateContentResponse#TrafficType,
// https://cloud.google.com/vertex-ai/generative-ai/docs/deploy/consumption-options)
describe('gemini meter: Vertex AI traffic types', () => {
  const usage = { promptTokenCount: 100_000, candidatesTokenCount: 10_000, totalTokenCount: 110_000 };
  const generate = (trafficType?: string) =>
    geminiMeter.meter(
      exchange(
        `${VERTEX}/gemini-2.5-pro:generateContent`,
        JSON.stringify(answer(trafficType === undefined ? usage : { ...usage, trafficType })),
      ),
    );
  const catalog = createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') });

  it('names the tier each traffic type is billed on', () => {
    expect(generate()?.tokens?.serviceTier).toBeUndefined();
    expect(generate('TRAFFIC_TYPE_UNSPECIFIED')?.tokens?.serviceTier).toBeUndefined();
    expect(generate('ON_DEMAND')?.tokens?.serviceTier).toBe('on_demand');
    expect(generate('ON_DEMAND_FLEX')?.tokens?.serviceTier).toBe('flex');
    expect(generate('ON_DEMAND_PRIORITY')?.tokens?.serviceTier).toBe('priority');
    expect(generate('PROVISIONED_THROUGHPUT')?.tokens?.serviceTier).toBe('provisioned_throughput');
  });

  it('prices pay-as-you-go at the standard rates, and the other tiers only at rates configured for them', () => {
    // 100000 x $1.25 + 10000 x $10 per 1M tokens
    expect(catalog.meteredCostUsd(generate()!)).toBe(0.225);
    expect(catalog.meteredCostUsd(generate('ON_DEMAND')!)).toBe(0.225);
    for (const tier of ['ON_DEMAND_FLEX', 'ON_DEMAND_PRIORITY', 'PROVISIONED_THROUGHPUT'])
      expect(catalog.meteredCostUsd(generate(tier)!), tier).toBeNull();
    expect(catalog.counters.unknownPriceByKey.get('gemini/gemini-2.5-pro:service_tier_flex')).toBe(1);
    const configured = createPricingRegistry({
      models: {
        'gemini/gemini-2.5-pro': {
          inputPerMTok: 1.25,
          outputPerMTok: 10,
          serviceTiers: {
            flex: { inputPerMTok: 0.625, outputPerMTok: 5 },
            provisioned_throughput: { inputPerMTok: 0, outputPerMTok: 0 },
          },
        },
      },
    });
    expect(configured.meteredCostUsd(generate('ON_DEMAND_FLEX')!)).toBe(0.1125);
    expect(configured.meteredCostUsd(generate('PROVISIONED_THROUGHPUT')!)).toBe(0);
  });

  it("takes a stream's traffic type from its chunks, the last that names one", () => {
    const chunk = (body: Record<string, unknown>) => `data: ${JSON.stringify(body)}\r\n\r\n`;
    const streamed = geminiMeter.meter(
      exchange(
        `${VERTEX}/gemini-2.5-pro:streamGenerateContent?alt=sse`,
        chunk(
          answer({ promptTokenCount: 100_000, totalTokenCount: 100_000, trafficType: 'ON_DEMAND_FLEX' }),
        ) + chunk(answer({ ...usage, trafficType: 'ON_DEMAND_FLEX' })),
        { responseHeaders: { 'content-type': 'text/event-stream' } },
      ),
    );
    expect(streamed?.tokens).toMatchObject({
      inputTokens: 100_000,
      outputTokens: 10_000,
      serviceTier: 'flex',
    });
  });
});

/** A base64 PNG of about `bytes` characters (no quote can occur in it). */
const png = (bytes: number): string => `iVBORw0KGgo${'A'.repeat(bytes)}`;

/**
 * `text` as the proxy keeps an answer past its capture bound: the first `keep` characters and the
 * last `keep`, joined by a blank line (the middle, most of the image, dropped).
 */
const cutByTheCaptureBound = (text: string, keep = 4_000): string =>
  `${text.slice(0, keep)}\n\n${text.slice(-keep)}`;

// an image model's answer holds its images base64-encoded (`inlineData.data`) before its
// `usageMetadata` (https://ai.google.dev/gemini-api/docs/image-generation): one 4K image, or a few
// smaller ones, pass the 8 MiB capture bound, and the usage is in the kept tail
describe('gemini meter: image answers past the capture bound', () => {
  const pricing = createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') });
  const usageMetadata = {
    promptTokenCount: 20,
    candidatesTokenCount: 2_520,
    totalTokenCount: 2_540,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 20 }],
    candidatesTokensDetails: [{ modality: 'IMAGE', tokenCount: 2_520 }],
  };
  const imageAnswer = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    candidates: [
      {
        content: {
          role: 'model',
          parts: [{ text: 'Here you go.' }, { inlineData: { mimeType: 'image/png', data: png(20_000) } }],
        },
        finishReason: 'STOP',
        index: 0,
        ...extra,
      },
    ],
    usageMetadata,
    modelVersion: 'gemini-3-pro-image-preview',
    responseId: 'resp-img',
  });
  const url = `${GEMINI_API}/gemini-3-pro-image-preview:generateContent`;
  const cut = (text: string, path = url): MeterExchange =>
    exchange(path, cutByTheCaptureBound(text), { responseTruncated: true });
  const expected = {
    provider: 'gemini',
    model: 'gemini-3-pro-image-preview',
    operation: 'generate',
    tokens: { inputTokens: 20, outputTokens: 2_520, imageInputTokens: 0, imageOutputTokens: 2_520 },
    units: {},
  };

  it('meters the usage and model at the end of a cut answer, as the whole one', () => {
    const text = JSON.stringify(imageAnswer(), null, 2);
    expect(geminiMeter.meter(exchange(url, text))).toEqual(expected);
    const usage = geminiMeter.meter(cut(text));
    expect(usage).toEqual(expected);
    // 20 x $2 + 2520 x $120 per 1M tokens
    expect(pricing.meteredCostUsd(usage!)).toBe(0.30244);
  });

  it('meters a cut stream of JSON chunks (`streamGenerateContent` without `alt=sse`) by its last chunk', () => {
    const first = { ...imageAnswer(), usageMetadata: { promptTokenCount: 20, totalTokenCount: 20 } };
    const text = JSON.stringify([first, imageAnswer()]);
    expect(
      geminiMeter.meter(cut(text, `${GEMINI_API}/gemini-3-pro-image-preview:streamGenerateContent`)),
    ).toEqual(expected);
  });

  it('counts the Google searches of a grounded answer from the grounding metadata kept', () => {
    const grounded = imageAnswer({
      groundingMetadata: {
        webSearchQueries: ['nano banana dish', 'fancy restaurant gemini theme'],
        searchEntryPoint: { renderedContent: '<!-- HTML and CSS for the search widget -->' },
      },
    });
    expect(geminiMeter.meter(cut(JSON.stringify(grounded)))?.tokens?.webSearches).toBe(2);
  });

  it("meters no usage from a cut answer whose own usage did not come, whatever its parts' keys", () => {
    const text = JSON.stringify(imageAnswer());
    // the answer stops inside its usage (the upstream went away)
    expect(geminiMeter.meter(cut(text.slice(0, text.indexOf('"usageMetadata"') + 40)))).toBeUndefined();
    // a function call's arguments are keys the model chose: one named `usageMetadata` is not the answer's
    const fake = JSON.stringify({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { inlineData: { mimeType: 'image/png', data: png(20_000) } },
              { functionCall: { name: 'report', args: { usageMetadata: { promptTokenCount: 1 } } } },
            ],
          },
          index: 0,
        },
      ],
    });
    expect(geminiMeter.meter(cut(fake))).toBeUndefined();
  });
});
