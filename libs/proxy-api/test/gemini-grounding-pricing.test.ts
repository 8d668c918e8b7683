import { GEMINI_GROUNDING_EXAMPLE } from '@switchyard/testing';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { recordReports, resolveToLoopback } from './support/proxy-reports';
import { useListeningApp } from './support/listening-app';

// Grounding with Google Search, over real HTTP to the mock upstream, which answers a request with
// the Google Search tool (which `/v1` sends for `web_search_options` and for Anthropic's web search
// tool) as Google documents it (https://ai.google.dev/gemini-api/docs/google-search:
// two search queries, two web sources; on the last event of a stream). Google bills the searches on
// top of the tokens: Gemini 3 $14 per 1000 search queries, Gemini 2.5 and earlier $35 per 1000
// grounded prompts (https://ai.google.dev/gemini-api/docs/pricing,
// https://cloud.google.com/vertex-ai/generative-ai/pricing). The mock's usage: 8 prompt tokens (2
// cached), 10 candidate and 4 thought tokens.
const GEMINI_25_TOKENS_USD = 6 * 0.3e-6 + 2 * 0.03e-6 + 14 * 2.5e-6;
const GEMINI_3_TOKENS_USD = 6 * 0.5e-6 + 2 * 0.05e-6 + 14 * 3e-6;

const reports = recordReports();
const served = useListeningApp((upstream) => ({
  gateway: {
    providers: [
      {
        name: 'google-ai',
        type: 'gemini',
        apiKey: 'AIzaSyTestGrounding0123456789abcdefgh',
        baseUrl: `${upstream.url}/v1beta`,
      },
      {
        name: 'claude',
        type: 'anthropic',
        apiKey: 'sk-ant-test-grounding-0000000000',
        baseUrl: `${upstream.url}/v1`,
      },
    ],
    models: [
      { name: 'flash-2.5', targets: [{ provider: 'google-ai', model: 'gemini-2.5-flash' }] },
      { name: 'flash-3', targets: [{ provider: 'google-ai', model: 'gemini-3-flash-preview' }] },
      { name: 'sonnet', targets: [{ provider: 'claude', model: 'claude-sonnet-4-20250514' }] },
      // Anthropic first: the gateway does not ask it to search, so a search goes on to Gemini
      {
        name: 'sonnet-or-flash',
        targets: [
          { provider: 'claude', model: 'claude-sonnet-4-20250514' },
          { provider: 'google-ai', model: 'gemini-2.5-flash' },
        ],
        strategy: 'ordered',
      },
    ],
    plugins: [reports.plugin],
  },
  pricing: { now: () => new Date('2026-11-23T12:00:00Z') },
  // a meter's wildcard host resolved to loopback: allowAddresses opens exact hosts only
  proxy: { allowPrivateNetworks: true, resolve: resolveToLoopback },
}));

beforeEach(() => reports.clear());

// the sources of the mock's grounded answer (two sentences; two web pages, the second sentence drawing on both)
const CITATIONS = [
  {
    type: 'url_citation',
    url_citation: {
      url: 'https://vertexaisearch.cloud.google.com.....',
      title: 'aljazeera.com',
      start_index: 0,
      end_index: 56,
    },
  },
  {
    type: 'url_citation',
    url_citation: {
      url: 'https://vertexaisearch.cloud.google.com.....',
      title: 'aljazeera.com',
      start_index: 57,
      end_index: 126,
    },
  },
  {
    type: 'url_citation',
    url_citation: {
      url: 'https://vertexaisearch.cloud.google.com.....',
      title: 'uefa.com',
      start_index: 57,
      end_index: 126,
    },
  },
];

interface ChatChunk {
  choices: Array<{ delta: { content?: string; annotations?: unknown[] } }>;
  usage?: unknown;
}

describe('Gemini grounding with Google Search on /v1/chat/completions', () => {
  async function chat(
    model: string,
    stream: boolean,
  ): Promise<{ usage: unknown; costUsd: number | null | undefined; content: string; annotations: unknown }> {
    const response = await served.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: {
        model,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
        messages: [{ role: 'user', content: 'Who won the euro 2024?' }],
        web_search_options: { search_context_size: 'medium' },
      },
    });
    expect(response.statusCode).toBe(200);
    await expect.poll(() => reports.ended.length).toBe(1);
    // /v1 asked Gemini for the Google Search tool
    expect((served.upstream.requests.at(-1)?.body as { tools?: unknown }).tools).toEqual([
      { googleSearch: {} },
    ]);
    if (!stream) {
      const body = response.json<{
        usage?: unknown;
        choices: Array<{ message: { content: string; annotations?: unknown } }>;
      }>();
      return {
        usage: body.usage,
        costUsd: reports.ended[0]!.costUsd,
        content: body.choices[0]!.message.content,
        annotations: body.choices[0]!.message.annotations,
      };
    }
    const chunks = response.body
      .split('\n\n')
      .filter((event) => event.startsWith('data: {'))
      .map((event) => JSON.parse(event.slice('data: '.length)) as ChatChunk);
    return {
      usage: chunks.find((chunk) => chunk.usage !== undefined && chunk.usage !== null)?.usage,
      costUsd: reports.ended[0]!.costUsd,
      content: chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''),
      annotations: chunks.flatMap((chunk) => chunk.choices[0]?.delta.annotations ?? []),
    };
  }

  it('asks Gemini to ground for web_search_options and returns the sources as url_citation annotations, whole or streamed', async () => {
    for (const stream of [false, true]) {
      reports.clear();
      const { content, annotations } = await chat('flash-2.5', stream);
      expect(content, `stream: ${stream}`).toBe(GEMINI_GROUNDING_EXAMPLE.text);
      expect(annotations, `stream: ${stream}`).toEqual(CITATIONS);
    }
  });

  it('refuses web_search_options alongside function tools, before any upstream call', async () => {
    const response = await served.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: {
        model: 'flash-3',
        messages: [{ role: 'user', content: 'Who won the euro 2024, and what is the weather in Berlin?' }],
        tools: [
          {
            type: 'function',
            function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
          },
        ],
        web_search_options: {},
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'unsupported_feature', param: 'web_search_options' },
    });
    expect(served.upstream.requests).toHaveLength(0);
  });

  it('reports the searches in the usage and prices a Gemini 2.5 grounded prompt once, whole or streamed', async () => {
    for (const stream of [false, true]) {
      reports.clear();
      const { usage, costUsd } = await chat('flash-2.5', stream);
      expect(usage, `stream: ${stream}`).toMatchObject({
        prompt_tokens: 8,
        completion_tokens: 14,
        web_searches: 2,
      });
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

describe("Anthropic's web search tool on /v1/messages", () => {
  const searchTool = {
    type: 'web_search_20250305',
    name: 'web_search',
    max_uses: 5,
    user_location: { type: 'approximate', city: 'Berlin', country: 'DE' },
  };

  async function messages(model: string, stream: boolean): Promise<{ status: number; body: string }> {
    const response = await served.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { 'anthropic-version': '2023-06-01' },
      payload: {
        model,
        max_tokens: 256,
        stream,
        messages: [{ role: 'user', content: 'Who won the euro 2024?' }],
        tools: [searchTool],
      },
    });
    return { status: response.statusCode, body: response.body };
  }

  it('grounds a Gemini answer with Google Search and reports the searches as server_tool_use, whole or streamed', async () => {
    const whole = await messages('flash-2.5', false);
    expect(whole.status).toBe(200);
    expect((served.upstream.requests.at(-1)?.body as { tools?: unknown }).tools).toEqual([
      { googleSearch: {} },
    ]);
    expect(JSON.parse(whole.body)).toMatchObject({
      content: [{ type: 'text', text: GEMINI_GROUNDING_EXAMPLE.text }],
      usage: { server_tool_use: { web_search_requests: 2 } },
    });
    await expect.poll(() => reports.ended.length).toBe(1);
    expect(reports.ended[0]!.costUsd).toBeCloseTo(GEMINI_25_TOKENS_USD + 0.035, 10);

    const streamed = await messages('flash-2.5', true);
    expect(streamed.status).toBe(200);
    const delta = streamed.body
      .split('\n\n')
      .find((event) => event.startsWith('event: message_delta'))
      ?.split('\n')
      .find((line) => line.startsWith('data: '));
    expect(JSON.parse(delta?.slice('data: '.length) ?? '{}')).toMatchObject({
      usage: { server_tool_use: { web_search_requests: 2 } },
    });
  });

  it('is refused for a target the gateway does not ask to search, naming the tool, and goes on to a target that searches', async () => {
    const refused = await messages('sonnet', false);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: expect.stringMatching(/^tools\.0: Anthropic is not asked to search the web/) as unknown,
      },
    });
    expect(served.upstream.requests).toHaveLength(0);

    const fallen = await messages('sonnet-or-flash', false);
    expect(fallen.status).toBe(200);
    expect(served.upstream.requests.map((sent) => sent.path)).toEqual([
      '/v1beta/models/gemini-2.5-flash:generateContent',
    ]);
    expect(JSON.parse(fallen.body)).toMatchObject({ usage: { server_tool_use: { web_search_requests: 2 } } });
  });
});

describe('Gemini grounding with Google Search through the universal proxy', () => {
  const ask = {
    contents: [{ role: 'user', parts: [{ text: 'Who won the euro 2024?' }] }],
    tools: [{ google_search: {} }],
  };

  async function proxied(host: string, path: string, body: unknown): Promise<string> {
    const response = await request(`${served.base}/proxy${path}`, {
      method: 'POST',
      headers: {
        'x-switchyard-target': `http://${host}:${served.upstreamPort}`,
        'x-goog-api-key': 'AIzaSyClientOwnKey0123456789abcdefghij',
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    expect(response.statusCode).toBe(200);
    return response.body.text();
  }

  it('meters and prices the searches of the Gemini API, whole and streamed as SSE', async () => {
    const whole = await proxied(
      'generativelanguage.googleapis.com',
      '/v1beta/models/gemini-2.5-flash:generateContent',
      ask,
    );
    expect(JSON.parse(whole)).toMatchObject({
      candidates: [
        { groundingMetadata: { webSearchQueries: ['UEFA Euro 2024 winner', 'who won euro 2024'] } },
      ],
    });
    const report = await reports.proxyReport();
    expect(report).toMatchObject({
      provider: 'gemini',
      upstreamModel: 'gemini-2.5-flash',
      operation: 'generate',
    });
    expect(report.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 14, web_searches: 2 });
    expect(report.costUsd).toBeCloseTo(GEMINI_25_TOKENS_USD + 0.035, 10);

    const streamed = await proxied(
      'generativelanguage.googleapis.com',
      '/v1beta/models/gemini-3-flash-preview:streamGenerateContent?alt=sse',
      ask,
    );
    expect(streamed).toContain('"groundingMetadata"');
    const streamReport = await reports.proxyReport();
    expect(streamReport).toMatchObject({
      provider: 'gemini',
      upstreamModel: 'gemini-3-flash-preview',
      stream: true,
    });
    expect(streamReport.usage).toMatchObject({ web_searches: 2 });
    expect(streamReport.costUsd).toBeCloseTo(GEMINI_3_TOKENS_USD + 2 * 0.014, 10);
  });

  it('meters and prices the searches of Gemini on Vertex AI, whole and streamed', async () => {
    const project = '/v1/projects/demo-project/locations/us-central1/publishers/google/models';
    await proxied(
      'us-central1-aiplatform.googleapis.com',
      `${project}/gemini-3-flash-preview:generateContent`,
      { ...ask, tools: [{ googleSearch: {} }] },
    );
    const report = await reports.proxyReport();
    expect(report).toMatchObject({ provider: 'gemini', upstreamModel: 'gemini-3-flash-preview' });
    expect(report.usage).toMatchObject({ web_searches: 2 });
    expect(report.costUsd).toBeCloseTo(GEMINI_3_TOKENS_USD + 2 * 0.014, 10);

    await proxied(
      'aiplatform.googleapis.com',
      `${project.replace('us-central1', 'global')}/gemini-2.5-flash:streamGenerateContent?alt=sse`,
      ask,
    );
    const streamReport = await reports.proxyReport();
    expect(streamReport.usage).toMatchObject({ web_searches: 2 });
    expect(streamReport.costUsd).toBeCloseTo(GEMINI_25_TOKENS_USD + 0.035, 10);
  });

  it('charges nothing for search where the answer was not grounded', async () => {
    await proxied('generativelanguage.googleapis.com', '/v1beta/models/gemini-2.5-flash:generateContent', {
      contents: ask.contents,
    });
    const report = await reports.proxyReport();
    expect(report.usage).not.toHaveProperty('web_searches');
    expect(report.costUsd).toBeCloseTo(GEMINI_25_TOKENS_USD, 10);
  });
});
