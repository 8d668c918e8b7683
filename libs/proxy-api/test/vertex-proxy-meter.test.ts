import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { recordReports, resolveToLoopback } from './support/proxy-reports';
import { useListeningApp } from './support/listening-app';

// Vertex AI through the universal proxy, over real HTTP: the target names Vertex's own hosts
// (`us-east5-aiplatform.googleapis.com`, the global `aiplatform.googleapis.com`), which the
// stubbed DNS resolves to the mock upstream, so the meter is found the way it is in production.
// Claude answers in the Messages shapes at `:rawPredict` (whole) and `:streamRawPredict` (SSE),
// the model named by the URL; the OpenAI-compatible endpoint answers in Chat Completions shapes.
// https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude,
// https://cloud.google.com/vertex-ai/generative-ai/docs/migrate/openai/overview

const reports = recordReports();
const served = useListeningApp(() => ({
  gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
  pricing: { now: () => new Date('2026-11-23T12:00:00Z') },
  // a meter's wildcard host resolved to loopback: allowAddresses opens exact hosts only
  proxy: { allowPrivateNetworks: true, resolve: resolveToLoopback },
}));

beforeEach(() => reports.clear());

async function proxied(
  host: string,
  path: string,
  body: unknown,
): Promise<{ status: number; text: string; contentType: string }> {
  const response = await request(`${served.base}/proxy${path}`, {
    method: 'POST',
    headers: {
      'x-switchyard-target': `http://${host}:${served.upstreamPort}`,
      authorization: 'Bearer ya29.client-own-token',
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.statusCode,
    text: await response.body.text(),
    contentType: String(response.headers['content-type']),
  };
}

const claudePath = (location: string, action: string, model = 'claude-sonnet-4@20250514'): string =>
  `/v1/projects/demo-project/locations/${location}/publishers/anthropic/models/${model}:${action}`;
const claudeBody = {
  anthropic_version: 'vertex-2023-10-16',
  max_tokens: 256,
  messages: [{ role: 'user', content: 'Hello!' }],
};

// Claude Sonnet 4 on Vertex AI: $3 input, $15 output per million tokens; the mock's usage is
// 25 input and 15 output tokens
const CLAUDE_USD = 25 * 3e-6 + 15 * 15e-6;

describe('universal proxy: Claude on Vertex AI', () => {
  it('meters a whole rawPredict answer as Claude on Vertex, the model named by the URL', async () => {
    const answer = await proxied(
      'us-east5-aiplatform.googleapis.com',
      claudePath('us-east5', 'rawPredict'),
      claudeBody,
    );
    expect(answer.status).toBe(200);
    // Vertex names the model as Anthropic does: the URL's name is the one the client asked for
    expect(JSON.parse(answer.text)).toMatchObject({ type: 'message', model: 'claude-sonnet-4-20250514' });
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'vertex',
      providerType: 'vertex',
      upstreamModel: 'claude-sonnet-4@20250514',
      operation: 'messages',
      statusCode: 200,
    });
    expect(report.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 });
    expect(report.costUsd).toBeCloseTo(CLAUDE_USD, 9);
  });

  it('meters a streamRawPredict event stream, usage summed across message_start and message_delta', async () => {
    const answer = await proxied('aiplatform.googleapis.com', claudePath('global', 'streamRawPredict'), {
      ...claudeBody,
      stream: true,
    });
    expect(answer.status).toBe(200);
    expect(answer.contentType).toContain('text/event-stream');
    expect(answer.text).toContain('event: message_delta');
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'vertex',
      upstreamModel: 'claude-sonnet-4@20250514',
      operation: 'messages',
      stream: true,
    });
    expect(report.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 15 });
    expect(report.costUsd).toBeCloseTo(CLAUDE_USD, 9);
  });

  it('meters nothing for count-tokens, which Vertex does not charge', async () => {
    const answer = await proxied(
      'us-east5-aiplatform.googleapis.com',
      claudePath('us-east5', 'rawPredict', 'count-tokens'),
      { ...claudeBody, model: 'claude-sonnet-4@20250514' },
    );
    expect(JSON.parse(answer.text)).toEqual({ input_tokens: 25 });
    const report = await reports.proxyReport();
    expect(report).toMatchObject({ provider: 'vertex', statusCode: 200 });
    expect(report.usage).toBeUndefined();
    expect(report.costUsd).toBeNull();
  });
});

describe("universal proxy: Vertex AI's OpenAI-compatible endpoint", () => {
  const path = '/v1/projects/demo-project/locations/us-central1/endpoints/openapi/chat/completions';
  const chat = { model: 'google/gemini-2.0-flash-001', messages: [{ role: 'user', content: 'Hello!' }] };
  // Gemini 2.0 Flash: $0.10 input, $0.40 output per million tokens; the mock's usage is 19 and 10
  const GEMINI_USD = 19 * 0.1e-6 + 10 * 0.4e-6;

  it('meters a whole chat completion by its OpenAI-shaped usage', async () => {
    expect((await proxied('us-central1-aiplatform.googleapis.com', path, chat)).status).toBe(200);
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'vertex',
      upstreamModel: 'google/gemini-2.0-flash-001',
      operation: 'chat',
    });
    expect(report.usage).toMatchObject({ prompt_tokens: 19, completion_tokens: 10 });
    expect(report.costUsd).toBeCloseTo(GEMINI_USD, 9);
  });

  it('meters a streamed chat completion from its last chunk', async () => {
    const answer = await proxied('us-central1-aiplatform.googleapis.com', path, {
      ...chat,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(answer.text).toContain('data: [DONE]');
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'vertex',
      upstreamModel: 'google/gemini-2.0-flash-001',
      operation: 'chat',
      stream: true,
    });
    expect(report.usage).toMatchObject({ prompt_tokens: 19, completion_tokens: 10 });
    expect(report.costUsd).toBeCloseTo(GEMINI_USD, 9);
  });
});

describe('universal proxy: Gemini on Vertex AI', () => {
  it('is still metered as Gemini', async () => {
    const path =
      '/v1/projects/demo-project/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent';
    expect(
      (
        await proxied('us-central1-aiplatform.googleapis.com', path, {
          contents: [{ role: 'user', parts: [{ text: 'Hello!' }] }],
        })
      ).status,
    ).toBe(200);
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'gemini',
      upstreamModel: 'gemini-2.0-flash',
      operation: 'generate',
    });
    expect(report.usage).toMatchObject({ prompt_tokens: 8 });
  });
});

describe("universal proxy: Google's models at :predict on Vertex AI", () => {
  const project = '/v1/projects/demo-project/locations/us-central1';
  const host = 'us-central1-aiplatform.googleapis.com';
  // the mock counts a token per 4 characters of each instance, and every character as billable
  const texts = { instances: [{ content: 'What is life?' }, { content: 'What is the meaning of life?' }] };

  it('meters a text embedding model by its tokens and billable characters, unpriced: Vertex AI bills it by character', async () => {
    expect(
      (await proxied(host, `${project}/publishers/google/models/text-embedding-005:predict`, texts)).status,
    ).toBe(200);
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'gemini',
      upstreamModel: 'text-embedding-005',
      operation: 'embeddings',
      statusCode: 200,
    });
    expect(report.usage).toMatchObject({ prompt_tokens: 4 + 7, completion_tokens: 0 });
    expect(report.meteredUnits).toEqual({ characters: 13 + 28 });
    expect(report.costUsd).toBeNull();
  });

  it('meters and prices a Gemini embedding model by its tokens', async () => {
    expect(
      (await proxied(host, `${project}/publishers/google/models/gemini-embedding-001:predict`, texts)).status,
    ).toBe(200);
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'gemini',
      upstreamModel: 'gemini-embedding-001',
      operation: 'embeddings',
    });
    expect(report.usage).toMatchObject({ prompt_tokens: 11 });
    // $0.15 per million input tokens
    expect(report.costUsd).toBeCloseTo(11 * 0.15e-6, 12);
  });

  it('meters and prices the images Imagen generated', async () => {
    const answer = await proxied(
      host,
      `${project}/publishers/google/models/imagen-4.0-generate-001:predict`,
      { instances: [{ prompt: 'A cat on a windowsill' }], parameters: { sampleCount: 2 } },
    );
    expect((JSON.parse(answer.text) as { predictions: unknown[] }).predictions).toHaveLength(2);
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'gemini',
      upstreamModel: 'imagen-4.0-generate-001',
      operation: 'image',
    });
    expect(report.meteredUnits).toEqual({ images: 2 });
    // Imagen 4: $0.04 per image
    expect(report.costUsd).toBeCloseTo(0.08, 9);
  });

  it("meters nothing for a model deployed to one's own endpoint, billed by node hour", async () => {
    const answer = await proxied(host, `${project}/endpoints/1234567890:predict`, texts);
    // it answers in the embeddings shape, token counts and all
    expect(JSON.parse(answer.text)).toMatchObject({
      predictions: [{ embeddings: { statistics: { truncated: false, token_count: 4 } } }, {}],
    });
    const report = await reports.proxyReport();
    expect(report).toMatchObject({ provider: 'gemini', statusCode: 200 });
    expect(report.usage).toBeUndefined();
    expect(report.meteredUnits).toBeUndefined();
    expect(report.costUsd).toBeNull();
  });
});

describe("universal proxy: provider keys on Vertex AI's hosts", () => {
  // a key goes with the meter detect() finds: `vertex` for Claude, the other partners' raw
  // predictions and the OpenAI-compatible endpoint (Gemini models included), `gemini` for
  // Gemini's own paths; the keys name the mock's origins, as an operator's http endpoint would
  const VERTEX_KEY = 'Bearer ya29.GATEWAY-VERTEX-TOKEN';
  const GEMINI_KEY = 'Bearer ya29.GATEWAY-GEMINI-TOKEN';
  const host = 'us-east5-aiplatform.googleapis.com';
  const project = '/v1/projects/demo-project/locations/us-east5';
  let keyed: FastifyInstance;
  let keyedBase: string;

  beforeAll(async () => {
    const origin = `http://${host}:${served.upstreamPort}`;
    keyed = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      proxy: {
        allowPrivateNetworks: true,
        resolve: resolveToLoopback,
        providerKeys: {
          vertex: { value: VERTEX_KEY, hosts: [origin] },
          gemini: { value: GEMINI_KEY, hosts: [origin] },
        },
      },
    });
    keyedBase = await keyed.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await keyed.close();
  });

  async function sentAuthorization(path: string): Promise<string | string[] | undefined> {
    served.upstream.reset();
    const response = await request(`${keyedBase}/proxy${path}`, {
      method: 'POST',
      headers: {
        'x-switchyard-target': `http://${host}:${served.upstreamPort}`,
        authorization: 'Bearer ya29.client-own-token',
        'content-type': 'application/json',
      },
      body: JSON.stringify(claudeBody),
    });
    await response.body.dump();
    expect(served.upstream.requests, path).toHaveLength(1);
    return served.upstream.requests[0]!.headers.authorization;
  }

  it('sends the vertex key, not the gemini one, to Claude, the other partners and the OpenAI-compatible endpoint', async () => {
    for (const path of [
      `${project}/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict`,
      `${project}/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict`,
      `${project}/publishers/mistralai/models/mistral-small-2503:rawPredict`,
      `${project}/endpoints/openapi/chat/completions`,
    ]) {
      expect(await sentAuthorization(path), path).toBe(VERTEX_KEY);
    }
  });

  it("still sends the gemini key to Gemini's own paths", async () => {
    for (const path of [
      `${project}/publishers/google/models/gemini-2.0-flash:generateContent`,
      `${project}/publishers/google/models/text-embedding-005:predict`,
    ]) {
      expect(await sentAuthorization(path), path).toBe(GEMINI_KEY);
    }
  });
});
