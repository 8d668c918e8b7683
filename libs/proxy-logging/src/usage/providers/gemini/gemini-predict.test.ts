import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { createMeterRegistry } from '../../meter-registry';

// Google's own models on Vertex AI at `publishers/google/models/<model>:predict`: text embeddings
// and Imagen, in the shapes of the API references
// (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api,
// https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/imagen-api)

const PROJECT = 'https://us-central1-aiplatform.googleapis.com/v1/projects/my-project/locations/us-central1';
const meters = createMeterRegistry();

function exchange(path: string, answer: unknown, status = 200, origin = PROJECT): MeterExchange {
  const responseText = JSON.stringify(answer);
  return {
    method: 'POST',
    url: new URL(`${origin}${path}`),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({ instances: [{ content: 'What is life?' }] }),
    status,
    responseHeaders: { 'content-type': 'application/json; charset=UTF-8' },
    responseText,
    responseBytes: responseText.length,
  };
}

const embeddings = (...counts: number[]): Record<string, unknown> => ({
  predictions: counts.map((count) => ({
    embeddings: { statistics: { truncated: false, token_count: count }, values: [0.01, -0.02] },
  })),
  metadata: { billableCharacterCount: 13 * counts.length },
});
const image = { mimeType: 'image/png', bytesBase64Encoded: 'iVBORw0KGgo=' };

describe('gemini meter: Vertex AI predict', () => {
  it("meters a Gemini embedding model's tokens, priced from the catalog", () => {
    const usage = meters.meter(
      exchange('/publishers/google/models/gemini-embedding-001:predict', embeddings(6, 4)),
    );
    expect(usage).toEqual({
      provider: 'gemini',
      model: 'gemini-embedding-001',
      operation: 'embeddings',
      tokens: { inputTokens: 10, outputTokens: 0 },
      units: {},
    });
    // $0.15 per million input tokens
    expect(
      createPricingRegistry({ now: () => new Date('2026-11-23T12:00:00Z') }).meteredCostUsd(usage!),
    ).toBe(0.0000015);
  });

  it('meters the tokens and billable characters of the text embedding models Vertex AI bills by character, unpriced by default', () => {
    for (const model of [
      'text-embedding-005',
      'text-multilingual-embedding-002',
      'textembedding-gecko%40003',
    ]) {
      const usage = meters.meter(exchange(`/publishers/google/models/${model}:predict`, embeddings(6)));
      expect(usage, model).toEqual({
        provider: 'gemini',
        model: decodeURIComponent(model),
        operation: 'embeddings',
        tokens: { inputTokens: 6, outputTokens: 0 },
        units: { characters: 13 },
        unpricedReason: 'billed_per_character',
      });
    }
    const pricing = createPricingRegistry();
    expect(
      pricing.meteredCostUsd(
        meters.meter(exchange('/publishers/google/models/text-embedding-005:predict', embeddings(6)))!,
      ),
    ).toBeNull();
    expect(pricing.counters.unknownPriceByKey.get('gemini/text-embedding-005:billed_per_character')).toBe(1);
  });

  it('counts the images Imagen generated, inline or written to Cloud Storage, and not the filtered ones or the prompt', () => {
    const answer = {
      predictions: [
        image,
        { mimeType: 'image/png', gcsUri: 'gs://my-bucket/out/sample_1.png' },
        { raiFilteredReason: 'An image was filtered out by a safety filter.' },
        { contentType: 'Positive Prompt', safetyAttributes: { categories: [], scores: [] } },
      ],
    };
    const usage = meters.meter(
      exchange('/publishers/google/models/imagen-4.0-fast-generate-001:predict', answer),
    );
    expect(usage).toEqual({
      provider: 'gemini',
      model: 'imagen-4.0-fast-generate-001',
      operation: 'image',
      units: { images: 2 },
    });
    // Imagen 4 Fast: $0.02 per image
    expect(createPricingRegistry().meteredCostUsd(usage!)).toBe(0.04);
    // every image filtered out: nothing billable
    expect(
      meters.meter(
        exchange('/publishers/google/models/imagen-4.0-generate-001:predict', {
          predictions: [{ raiFilteredReason: 'filtered' }],
        }),
      ),
    ).toBeUndefined();
  });

  it("meters nothing for a model deployed to one's own endpoint, billed by node hour, whatever it answers", () => {
    for (const path of ['/endpoints/1234567890:predict', '/endpoints/1234567890:rawPredict']) {
      const deployed = exchange(path, embeddings(6));
      expect(meters.detect(deployed.url)?.name, path).toBe('gemini');
      expect(meters.meter(deployed), path).toBeUndefined();
      expect(meters.meter(exchange(path, { predictions: [image, image] })), path).toBeUndefined();
    }
  });

  it('meters nothing for a failed call, an answer of another shape or a malformed model in the URL', () => {
    const failed = { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } };
    expect(
      meters.meter(exchange('/publishers/google/models/text-embedding-005:predict', failed, 429)),
    ).toBeUndefined();
    // multimodal embeddings report no token count: billed by image and character, not metered
    expect(
      meters.meter(
        exchange('/publishers/google/models/multimodalembedding%40001:predict', {
          predictions: [{ textEmbedding: [0.1], imageEmbedding: [0.2] }],
        }),
      ),
    ).toBeUndefined();
    expect(
      meters.meter(exchange('/publishers/google/models/text-%E0:predict', embeddings(6))),
    ).toBeUndefined();
  });
});

// Imagen on the Gemini API: `models/<model>:predict` with the key in `x-goog-api-key`, answering in
// Vertex AI's Imagen shape (https://ai.google.dev/gemini-api/docs/imagen), priced per image as
// Google lists it there (https://ai.google.dev/gemini-api/docs/pricing)
describe('gemini meter: Imagen on the Gemini API', () => {
  const GEMINI_API = 'https://generativelanguage.googleapis.com';
  const generated = (count: number) => ({ predictions: Array.from({ length: count }, () => image) });

  it('counts the images Imagen generated, and not the filtered ones, priced as on Vertex AI', () => {
    const answer = {
      predictions: [image, { raiFilteredReason: 'An image was filtered out by a safety filter.' }, image],
    };
    const usage = meters.meter(
      exchange('/v1beta/models/imagen-4.0-generate-001:predict', answer, 200, GEMINI_API),
    );
    expect(usage).toEqual({
      provider: 'gemini',
      model: 'imagen-4.0-generate-001',
      operation: 'image',
      units: { images: 2 },
      priceVariant: 'gemini-api',
    });
    const pricing = createPricingRegistry();
    // Imagen 4 Standard: $0.04 per image; Fast $0.02; Ultra $0.06
    expect(pricing.meteredCostUsd(usage!)).toBe(0.08);
    expect(
      pricing.meteredCostUsd(
        meters.meter(
          exchange('/v1beta/models/imagen-4.0-fast-generate-001:predict', generated(4), 200, GEMINI_API),
        )!,
      ),
    ).toBe(0.08);
    expect(
      pricing.meteredCostUsd(
        meters.meter(
          exchange('/v1beta/models/imagen-4.0-ultra-generate-001:predict', generated(1), 200, GEMINI_API),
        )!,
      ),
    ).toBe(0.06);
  });

  it('prices Imagen 3 at the Gemini API price, $0.03 per image, against $0.04 on Vertex AI', () => {
    const pricing = createPricingRegistry();
    expect(
      pricing.meteredCostUsd(
        meters.meter(
          exchange('/v1beta/models/imagen-3.0-generate-002:predict', generated(2), 200, GEMINI_API),
        )!,
      ),
    ).toBe(0.06);
    expect(
      pricing.meteredCostUsd(
        meters.meter(exchange('/publishers/google/models/imagen-3.0-generate-002:predict', generated(2)))!,
      ),
    ).toBe(0.08);
  });

  it('meters nothing for a failed call or an answer without images', () => {
    const failed = {
      error: {
        code: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        status: 'RESOURCE_EXHAUSTED',
      },
    };
    expect(
      meters.meter(exchange('/v1beta/models/imagen-4.0-generate-001:predict', failed, 429, GEMINI_API)),
    ).toBeUndefined();
    expect(
      meters.meter(
        exchange(
          '/v1beta/models/imagen-4.0-generate-001:predict',
          { predictions: [{ raiFilteredReason: 'filtered' }] },
          200,
          GEMINI_API,
        ),
      ),
    ).toBeUndefined();
    expect(
      meters.meter(exchange('/v1beta/models/imagen-%E0:predict', generated(1), 200, GEMINI_API)),
    ).toBeUndefined();
  });
});
