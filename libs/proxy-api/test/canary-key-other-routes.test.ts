import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { captureLogLines, createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';
import { resolveToLoopback } from './support/proxy-reports';

// Planted keys through the routes and failure paths the chat/messages canary test
// (canary-key.test.ts) does not take: the universal proxy (keys in the query string, in
// custom headers, echoed by the upstream, a refused target, an oversized body), requests to no
// route at all (a Gemini SDK pointed at the gateway: `?key=`), the admin API, /metrics and
// /v1/models with keys in the query, and a provider error that quotes the gateway's own
// provider key, which has no prefix a pattern could recognise (an Azure-style key), or that the
// universal proxy injected (an upstream's error answer quoting it goes to the client).

const MASTER = 'sy-master-CANARYmaster-0123456789';
const CLIENT = 'sk-sy-CANARYclient000000000000000000000';
const PROVIDER = 'a3f9c2e8b7d14f6a9e0c5b2d8f7a1c43';
const INJECTED = 'CANARYinjected-mistral-key-0123456789';
const QUERY = 'AIzaSyCANARYqueryKEY0123456789abcdefghi';
const HEADER = 'CANARYcustomheader-0123456789';

const log = captureLogLines();
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
let upstream: MockUpstream;
let app: FastifyInstance;
let base = '';
const answers: string[] = [];

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        // an upstream that quotes back every credential it was sent, as some error bodies do
        method: 'GET',
        path: /\/echo-keys$/,
        handle: ({ req, res, url }) => {
          res.writeHead(401, { 'content-type': 'application/json' });
          const quoted = [
            url.searchParams.get('key'),
            req.headers['x-custom-key'],
            req.headers.authorization,
          ];
          res.end(JSON.stringify({ error: { message: `Invalid credentials: ${quoted.join(' ')}` } }));
        },
      },
    ],
  });
  app = createApp({
    gateway: {
      providers: [{ name: 'az', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: PROVIDER }],
      models: [{ name: 'gpt', targets: [{ provider: 'az', model: 'gpt-4o-mini' }] }],
    },
    logger: { level: 'trace', stream: log.stream },
    tracing: { tracer: tracerProvider.getTracer('canary-other-routes') },
    admin: { masterKey: MASTER },
    keys: [{ key: CLIENT, name: 'canary' }],
    bodyLimitBytes: 4096,
    proxy: {
      routes: { local: upstream.url },
      hostProviders: { '127.0.0.1': 'mistral' },
      allowAddresses: ['127.0.0.1'],
      providerKeys: { mistral: { value: `Bearer ${INJECTED}`, hosts: ['api.mistral.ai', '127.0.0.1'] } },
      resolve: resolveToLoopback,
    },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await upstream.close();
  await tracerProvider.shutdown();
});

async function call(
  path: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<number> {
  const response = await request(`${base}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  answers.push(await response.body.text());
  return response.statusCode;
}

const asClient = { authorization: `Bearer ${CLIENT}`, 'content-type': 'application/json' };
const asAdmin = { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' };
const proxyHeaders = { 'x-switchyard-key': CLIENT, 'x-custom-key': HEADER };

describe('a planted key, on the routes and failures the chat canary test does not take', () => {
  it('never appears in a log line or a span (nor, for the gateway-held keys, in an answer)', async () => {
    const statuses = [
      // a Gemini SDK pointed at the gateway's root: no such route, the key in the query and a header
      await call(`/v1beta/models/gemini-2.0-flash:generateContent?key=${QUERY}`, {
        headers: { 'content-type': 'application/json', 'x-goog-api-key': QUERY },
        body: '{}',
      }),
      await call(`/v1/models?key=${QUERY}`, { headers: asClient }),
      await call(`/metrics?token=${QUERY}`),
      await call(`/admin/keys?limit=5&api_key=${QUERY}`, { headers: asAdmin }),
      await call('/admin/keys', { headers: { authorization: `Bearer ${MASTER}x` } }),
      await call('/admin/keys', { headers: asAdmin, body: `{"name":"${QUERY}` }),
      await call('/admin/keys', { headers: asAdmin, body: JSON.stringify({ name: QUERY.repeat(200) }) }),
      await call('/v1/embeddings', { headers: asClient, body: `{"input":"${QUERY}` }),
      // the universal proxy: keys in the query and in a custom header, echoed by the upstream
      await call(`/proxy/local/echo-keys?key=${QUERY}`, { headers: proxyHeaders }),
      await call(`/proxy/local/echo-keys?key=${QUERY}`, { headers: { 'x-custom-key': HEADER } }),
      await call(`/proxy/x/echo-keys?key=${QUERY}`, {
        headers: { ...proxyHeaders, 'x-switchyard-target': 'http://169.254.169.254' },
      }),
      await call(`/proxy/local/v1/chat/completions?key=${QUERY}`, {
        headers: { ...proxyHeaders, 'content-type': 'application/json' },
        body: JSON.stringify({ input: QUERY.repeat(200) }),
      }),
    ];
    expect(statuses).toEqual([404, 200, 200, 200, 401, 400, 413, 400, 401, 401, 403, 413]);
    // the provider quotes the gateway's own key back, in a client error and in a server error
    for (const status of [400, 500]) {
      upstream.fault({
        kind: 'status',
        status,
        body: { error: { message: `Key ${PROVIDER} is not valid for this deployment` } },
        times: 10,
      });
      statuses.push(
        await call('/v1/chat/completions', {
          headers: asClient,
          body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
        }),
      );
      upstream.reset();
    }
    expect(statuses.slice(-2)).toEqual([400, 502]);
    expect(answers.at(-1)).toContain('is not valid for this deployment');

    const traced = JSON.stringify(
      spans.getFinishedSpans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
      })),
    );
    expect(spans.getFinishedSpans().length).toBeGreaterThan(3);
    const lines = log.text();
    // the lines that would have held them were written
    expect(lines).toContain('/v1beta/models/gemini-2.0-flash:generateContent?key=[redacted]');
    expect(lines).toContain('is not valid for this deployment');
    for (const [name, canary] of Object.entries({ MASTER, CLIENT, PROVIDER, INJECTED, QUERY, HEADER })) {
      expect(lines.includes(canary), `a log line holds ${name}`).toBe(false);
      expect(traced.includes(canary), `a span holds ${name}`).toBe(false);
    }
    // the gateway's own secrets never reach a client: the proxy's answers are the upstream's,
    // unchanged but for the provider key it injected, which an error answer may quote
    const answered = answers.join('\n');
    expect(answered).toContain(
      `Invalid credentials: ${QUERY} ${HEADER} Bearer ${'*'.repeat(INJECTED.length)}`,
    );
    for (const [name, canary] of Object.entries({ MASTER, PROVIDER, INJECTED })) {
      expect(answered.includes(canary), `an answer holds ${name}`).toBe(false);
    }
  });
});
