import { createMockUpstream, geminiRoutes, type MockExchange, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// Grounding with Google Search, over real HTTP to the mock upstream, which answers a request with
// the `google_search` tool as Google documents it (https://ai.google.dev/gemini-api/docs/google-search:
// two search queries, two web sources; on the last event of a stream). Google bills the searches on
// top of the tokens: Gemini 3 $14 per 1000 search queries, Gemini 2.5 and earlier $35 per 1000
// grounded prompts (https://ai.google.dev/gemini-api/docs/pricing,
// https://cloud.google.com/vertex-ai/generative-ai/pricing). The mock's usage: 8 prompt tokens (2
// cached), 10 candidate and 4 thought tokens.
const GEMINI_25_TOKENS_USD = 6 * 0.3e-6 + 2 * 0.03e-6 + 14 * 2.5e-6;
const GEMINI_3_TOKENS_USD = 6 * 0.5e-6 + 2 * 0.05e-6 + 14 * 3e-6;

const reports = recordReports();
let upstream: MockUpstream;
let port: string;
let app: FastifyInstance;
let base: string;

// `/v1` sends Gemini no Google Search tool (its tools are the client's functions): this prefix of
// the mock answers as the Gemini routes answer a request that asked for one
function grounded(exchange: MockExchange): Promise<void> | void {
  const route = geminiRoutes.find((candidate) => candidate.method === 'POST' && candidate.path.test(exchange.url.pathname));
  if (route === undefined) throw new Error(`no Gemini route for ${exchange.url.pathname}`);
  return route.handle({ ...exchange, body: { ...(exchange.body as object), tools: [{ google_search: {} }] } });
}

beforeAll(async () => {
  upstream = await createMockUpstream({ routes: [{ method: 'POST', path: /^\/grounded\//, handle: grounded }] });
  port = new URL(upstream.url).port;
  app = createApp({
    gateway: {
      providers: [{ name: 'google-ai', type: 'gemini', apiKey: 'AIzaSyTestGrounding0123456789abcdefgh', baseUrl: `${upstream.url}/grounded/v1beta` }],
      models: [
        { name: 'flash-2.5', targets: [{ provider: 'google-ai', model: 'gemini-2.5-flash' }] },
        { name: 'flash-3', targets: [{ provider: 'google-ai', model: 'gemini-3-flash-preview' }] },
      ],
      plugins: [reports.plugin],
    },
    pricing: { now: () => new Date('2026-11-23T12:00:00Z') },
    proxy: { allowAddresses: ['127.0.0.1'], resolve: resolveToLoopback },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.reset();
  reports.clear();
});

describe('Gemini grounding with Google Search on /v1/chat/completions', () => {
  async function chat(model: string, stream: boolean): Promise<{ usage: unknown; costUsd: number | null | undefined }> {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model, stream, ...(stream ? { stream_options: { include_usage: true } } : {}), messages: [{ role: 'user', content: 'Who won the euro 2024?' }] },
    });
    expect(response.statusCode).toBe(200);
    await expect.poll(() => reports.ended.length).toBe(1);
    const usage = stream
      ? response.body
          .split('\n\n')
          .filter((event) => event.startsWith('data: {'))
          .map((event) => JSON.parse(event.slice('data: '.length)) as { usage?: unknown })
          .find((chunk) => chunk.usage !== undefined && chunk.usage !== null)?.usage
      : response.json<{ usage?: unknown }>().usage;
    return { usage, costUsd: reports.ended[0]!.costUsd };
  }

  it('reports the searches in the usage and prices a Gemini 2.5 grounded prompt once, whole or streamed', async () => {
    for (const stream of [false, true]) {
      reports.clear();
      const { usage, costUsd } = await chat('flash-2.5', stream);
      expect(usage, `stream: ${stream}`).toMatchObject({ prompt_tokens: 8, completion_tokens: 14, web_searches: 2 });
      expect(costUsd, `stream: ${stream}`).toBeCloseTo(GEMINI_25_TOKENS_USD + 0.035, 10);
    }
  });

  it('prices each Gemini 3 search query, whole or streamed', async () => {
    for (const stream of [false, true]) {
      reports.clear();
      const { usage, costUsd } = await chat('flash-3', stream);
      expect(usage, `stream: ${stream}`).toMatchObject({ web_searches: 2 });
      expect(costUsd, `stream: ${stream}`).toBeCloseTo(GEMINI_3_TOKENS_USD + 2 * 0.014, 10);
    }
  });
});

describe('Gemini grounding with Google Search through the universal proxy', () => {
  const ask = { contents: [{ role: 'user', parts: [{ text: 'Who won the euro 2024?' }] }], tools: [{ google_search: {} }] };

  async function proxied(host: string, path: string, body: unknown): Promise<string> {
    const response = await request(`${base}/proxy${path}`, {
      method: 'POST',
      headers: { 'x-switchyard-target': `http://${host}:${port}`, 'x-goog-api-key': 'AIzaSyClientOwnKey0123456789abcdefghij', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.statusCode).toBe(200);
    return response.body.text();
  }

  it('meters and prices the searches of the Gemini API, whole and streamed as SSE', async () => {
    const whole = await proxied('generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-flash:generateContent', ask);
    expect(JSON.parse(whole)).toMatchObject({ candidates: [{ groundingMetadata: { webSearchQueries: ['UEFA Euro 2024 winner', 'who won euro 2024'] } }] });
    const report = await reports.proxyReport();
    expect(report).toMatchObject({ provider: 'gemini', upstreamModel: 'gemini-2.5-flash', operation: 'generate' });
    expect(report.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 14, web_searches: 2 });
    expect(report.costUsd).toBeCloseTo(GEMINI_25_TOKENS_USD + 0.035, 10);

    const streamed = await proxied('generativelanguage.googleapis.com', '/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse', ask);
    expect(streamed).toContain('"groundingMetadata"');
    const streamReport = await reports.proxyReport();
    expect(streamReport).toMatchObject({ provider: 'gemini', upstreamModel: 'gemini-3-flash-preview', stream: true });
    expect(streamReport.usage).toMatchObject({ web_searches: 2 });
    expect(streamReport.costUsd).toBeCloseTo(GEMINI_3_TOKENS_USD + 2 * 0.014, 10);
  });

  it('meters and prices the searches of Gemini on Vertex AI, whole and streamed', async () => {
    const project = '/v1/projects/demo-project/locations/us-central1/publishers/google/models';
    await proxied('us-central1-aiplatform.googleapis.com', `${project}/gemini-3-flash-preview:generateContent`, { ...ask, tools: [{ googleSearch: {} }] });
    const report = await reports.proxyReport();
    expect(report).toMatchObject({ provider: 'gemini', upstreamModel: 'gemini-3-flash-preview' });
    expect(report.usage).toMatchObject({ web_searches: 2 });
    expect(report.costUsd).toBeCloseTo(GEMINI_3_TOKENS_USD + 2 * 0.014, 10);

    await proxied('aiplatform.googleapis.com', `${project.replace('us-central1', 'global')}/gemini-2.5-flash:streamGenerateContent?alt=sse`, ask);
    const streamReport = await reports.proxyReport();
    expect(streamReport.usage).toMatchObject({ web_searches: 2 });
    expect(streamReport.costUsd).toBeCloseTo(GEMINI_25_TOKENS_USD + 0.035, 10);
  });

  it('charges nothing for search where the answer was not grounded', async () => {
    await proxied('generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-flash:generateContent', { contents: ask.contents });
    const report = await reports.proxyReport();
    expect(report.usage).not.toHaveProperty('web_searches');
    expect(report.costUsd).toBeCloseTo(GEMINI_25_TOKENS_USD, 10);
  });
});
