import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { recordReports, resolveToLoopback } from './support/proxy-reports';
import { useListeningApp } from './support/listening-app';

// Imagen on the Gemini API through the universal proxy, over real HTTP: the target names the
// Gemini API's host (`generativelanguage.googleapis.com`), which the stubbed DNS resolves to the
// mock upstream, answering `models/<imagen model>:predict` as Google documents it
// (https://ai.google.dev/gemini-api/docs/imagen: `sampleCount` images, base64-encoded). Priced per
// image at the Gemini API's list prices (https://ai.google.dev/gemini-api/docs/pricing).

const reports = recordReports();
const served = useListeningApp(() => ({
  gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
  pricing: { now: () => new Date('2026-12-03T12:00:00Z') },
  proxy: { allowAddresses: ['127.0.0.1'], resolve: resolveToLoopback },
}));

beforeEach(() => reports.clear());

async function generate(
  model: string,
  sampleCount: number,
): Promise<{ status: number; predictions: unknown[] }> {
  const response = await request(`${served.base}/proxy/v1beta/models/${model}:predict`, {
    method: 'POST',
    headers: {
      'x-switchyard-target': `http://generativelanguage.googleapis.com:${served.upstreamPort}`,
      'x-goog-api-key': 'AIzaSyClientOwnKey0123456789abcdefghij',
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      instances: [{ prompt: 'Robot holding a red skateboard' }],
      parameters: { sampleCount },
    }),
  });
  const body = (await response.body.json()) as { predictions?: unknown[] };
  return { status: response.statusCode, predictions: body.predictions ?? [] };
}

describe('universal proxy: Imagen on the Gemini API', () => {
  it('meters and prices the images Imagen generated', async () => {
    const answer = await generate('imagen-4.0-generate-001', 3);
    expect(answer).toMatchObject({ status: 200 });
    expect(answer.predictions).toHaveLength(3);
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'gemini',
      upstreamModel: 'imagen-4.0-generate-001',
      operation: 'image',
    });
    expect(report.meteredUnits).toEqual({ images: 3 });
    // Imagen 4 Standard: $0.04 per image
    expect(report.costUsd).toBeCloseTo(0.12, 9);
  });

  it('prices Imagen 3 at the Gemini API price, $0.03 per image', async () => {
    expect((await generate('imagen-3.0-generate-002', 2)).status).toBe(200);
    const report = await reports.proxyReport();
    expect(report.meteredUnits).toEqual({ images: 2 });
    expect(report.costUsd).toBeCloseTo(0.06, 9);
  });
});
