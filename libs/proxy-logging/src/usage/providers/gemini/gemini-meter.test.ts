import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { geminiMeter } from './gemini-meter';

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
