import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { GatewayPlugin, RequestContext } from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import OpenAI, { toFile } from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// The universal proxy over real HTTP: the official openai client unchanged, byte-exact
// pass-through, metering into the request log hooks, and SSRF refusals that happen before
// any connection (a loopback canary counts connections).

const PROVIDER_SECRET = 'sk-provider-secret-never-leaves-for-other-hosts';
const GATEWAY_KEY = 'sk-sy-client-gateway-key';

let upstream: MockUpstream;
let canary: Server;
let canaryPort: number;
let canaryConnections = 0;
let app: FastifyInstance;
let base: string;
let guarded: FastifyInstance;
let guardedBase: string;
const ended: RequestContext[] = [];
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });

const recorder: GatewayPlugin = {
  name: 'test:request-log',
  apply: (hooks) => hooks.onRequestEnd.tap('test:request-log', (context) => ended.push(context)),
};

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /\/audio\/speech$/,
        handle: ({ res, body }) => {
          if ((body as { stream_format?: string } | undefined)?.stream_format === 'sse') {
            // gpt-4o-mini-tts's event stream: audio in deltas, token usage in the last event
            // https://platform.openai.com/docs/api-reference/audio/speech-audio-done-event
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            res.write(
              `event: speech.audio.delta\ndata: ${JSON.stringify({ type: 'speech.audio.delta', audio: Buffer.alloc(64, 7).toString('base64') })}\n\n`,
            );
            res.end(
              `event: speech.audio.done\ndata: ${JSON.stringify({ type: 'speech.audio.done', usage: { input_tokens: 14, output_tokens: 101, total_tokens: 115 } })}\n\n`,
            );
            return;
          }
          const audio = Buffer.alloc(4096, 7);
          res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(audio.length) });
          res.end(audio);
        },
      },
      {
        method: 'POST',
        path: /\/audio\/transcriptions$/,
        // gpt-4o-transcribe's answer: usage in tokens, the audio ones apart
        // https://platform.openai.com/docs/api-reference/audio/json-object
        handle: ({ res }) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              text: 'The quick brown fox.',
              usage: {
                type: 'tokens',
                input_tokens: 14,
                input_token_details: { text_tokens: 0, audio_tokens: 14 },
                output_tokens: 45,
                total_tokens: 59,
              },
            }),
          );
        },
      },
      {
        method: 'GET',
        path: /\/v1\/responses\/[^/]+$/,
        // a stored (or background, now completed) response read back: the Responses API object
        // https://platform.openai.com/docs/api-reference/responses/get
        handle: ({ req, res }) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: req.url?.split('/').pop(),
              object: 'response',
              created_at: 1741476542,
              status: 'completed',
              model: 'gpt-4o-mini-2024-07-18',
              output: [
                {
                  type: 'message',
                  id: 'msg_1',
                  status: 'completed',
                  role: 'assistant',
                  content: [{ type: 'output_text', text: 'Hi.', annotations: [] }],
                },
              ],
              usage: {
                input_tokens: 36,
                input_tokens_details: { cached_tokens: 0 },
                output_tokens: 87,
                output_tokens_details: { reasoning_tokens: 0 },
                total_tokens: 123,
              },
            }),
          );
        },
      },
      {
        method: 'PUT',
        path: /\/echo$/,
        handle: ({ req, res, rawBody }) => {
          res.writeHead(200, {
            'content-type': req.headers['content-type'] ?? 'application/octet-stream',
            'x-upstream-saw': JSON.stringify(Object.keys(req.headers).sort()),
          });
          res.end(rawBody);
        },
      },
      {
        method: 'GET',
        path: /\/redirect$/,
        handle: ({ res }) => {
          res.writeHead(302, { location: `http://127.0.0.1:${canaryPort}/stolen` });
          res.end();
        },
      },
    ],
  });
  canary = createServer((_req, res) => res.end('canary'));
  canary.on('connection', () => (canaryConnections += 1));
  canary.listen(0, '127.0.0.1');
  await once(canary, 'listening');
  canaryPort = (canary.address() as AddressInfo).port;

  app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [recorder] },
    pricing: { now: () => new Date('2026-11-23T12:00:00Z') },
    tracing: { tracer: tracerProvider.getTracer('proxy') },
    proxy: {
      // the test maps the openai prefix to the mock upstream and allows loopback explicitly
      routes: { openai: `${upstream.url}/v1`.replace(/\/v1$/, '') },
      allowHosts: ['127.0.0.1'],
      allowAddresses: ['127.0.0.1'],
      hostProviders: { '127.0.0.1': 'openai' },
      providerKeys: { openai: { value: `Bearer ${PROVIDER_SECRET}` } },
    },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  // a second gateway with the default policy (any host allowed by name, no private address)
  guarded = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    proxy: {
      allowHosts: ['*'],
      resolve: (host, callback) =>
        callback(null, [{ address: host === 'rebind.example' ? '127.0.0.1' : '93.184.215.14', family: 4 }]),
    },
  });
  guardedBase = await guarded.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await guarded.close();
  await upstream.close();
  await new Promise<void>((resolve) => canary.close(() => resolve()));
  await tracerProvider.shutdown();
});

beforeEach(() => {
  upstream.reset();
  ended.length = 0;
  spans.reset();
});

async function settled(): Promise<RequestContext> {
  // the log row is reported once the client has the last byte; poll the hook's output
  for (let i = 0; i < 200 && ended.length === 0; i += 1)
    await new Promise((resolve) => setImmediate(resolve));
  expect(ended).toHaveLength(1);
  return ended[0]!;
}

describe('universal proxy: the official openai client through /proxy/openai/v1', () => {
  const client = (): OpenAI =>
    new OpenAI({
      apiKey: 'sk-client-own-openai-key',
      baseURL: `${base}/proxy/openai/v1`,
      defaultHeaders: { 'x-switchyard-key': GATEWAY_KEY },
      maxRetries: 0,
    });

  it('works unchanged without streaming and is metered', async () => {
    const completion = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello!' }],
    });
    expect(completion.choices[0]?.message.content).toContain('Hello there');
    const context = await settled();
    expect(context).toMatchObject({
      endpoint: 'proxy',
      provider: 'openai',
      upstreamModel: 'gpt-4o-mini',
      statusCode: 200,
      operation: 'chat',
    });
    expect(context.usage).toMatchObject({ prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 });
    // 19 x $0.15 + 10 x $0.60, per million
    expect(context.costUsd).toBe(0.00000885);
  });

  it('asks a metered provider only for codings the gateway decodes, so a client cannot have its usage go unread (zstd on Node 20)', async () => {
    const response = await request(`${base}/proxy/openai/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer sk-client-own-openai-key',
        'x-switchyard-key': GATEWAY_KEY,
        'accept-encoding': 'zstd, br;q=0.5',
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] }),
    });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
    expect(upstream.requests[0]?.headers['accept-encoding']).toBe('br;q=0.5');
    expect((await settled()).costUsd).toBe(0.00000885);
  });

  it('records a request span and a client span for the exchange, continuing the client trace upstream', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await client().chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] },
      { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } },
    );
    await settled();
    const server = spans.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER);
    const exchange = spans.getFinishedSpans().find((span) => span.kind === SpanKind.CLIENT);
    expect(server?.name).toBe('proxy gpt-4o-mini');
    expect(server?.spanContext().traceId).toBe(traceId);
    expect(server?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(server?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 19,
      'gen_ai.usage.output_tokens': 10,
      'http.response.status_code': 200,
    });
    expect(exchange?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    expect(exchange?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(upstream.url).port),
      'gen_ai.usage.output_tokens': 10,
    });
    expect(upstream.requests[0]?.headers['traceparent']).toBe(
      `00-${traceId}-${exchange?.spanContext().spanId}-01`,
    );
    expect(JSON.stringify(spans.getFinishedSpans().map((span) => span.attributes))).not.toContain(
      PROVIDER_SECRET,
    );
  });

  it('marks the spans of an upstream error passed through as failed, by status (a 500 or 401 was traced as a success)', async () => {
    for (const [status, serverFails] of [
      [500, true],
      [401, false],
    ] as const) {
      spans.reset();
      ended.length = 0;
      upstream.fault({ kind: 'status', status, times: 1 });
      await expect(
        client().chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Hi' }],
        }),
      ).rejects.toMatchObject({ status });
      await settled();
      const server = spans.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER);
      const exchange = spans.getFinishedSpans().find((span) => span.kind === SpanKind.CLIENT);
      expect(exchange?.status.code, String(status)).toBe(SpanStatusCode.ERROR);
      expect(exchange?.attributes['error.type']).toBe(String(status));
      expect(server?.attributes['http.response.status_code']).toBe(status);
      expect(server?.status.code, String(status)).toBe(
        serverFails ? SpanStatusCode.ERROR : SpanStatusCode.UNSET,
      );
    }
  });

  it('streams unchanged and is metered from the tee', async () => {
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello!' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('\n\nHello there, how may I assist you today?');
    expect(usage).toMatchObject({ prompt_tokens: 19, completion_tokens: 10 });
    const context = await settled();
    expect(context).toMatchObject({
      endpoint: 'proxy',
      provider: 'openai',
      stream: true,
      costUsd: 0.00000885,
    });
  });

  it('bills a response read back (GET /responses/{id}) once: the reads after it cost nothing', async () => {
    const client = new OpenAI({ apiKey: 'sk-client', baseURL: `${base}/proxy/openai/v1` });
    const first = await client.responses.retrieve('resp_polled_1');
    expect(first.status).toBe('completed');
    const billed = await settled();
    expect(billed).toMatchObject({
      operation: 'responses',
      usage: { prompt_tokens: 36, completion_tokens: 87 },
    });
    expect(billed.costUsd).toBeGreaterThan(0);
    ended.length = 0;
    await client.responses.retrieve('resp_polled_1');
    const again = await settled();
    expect(again.operation).toBe('responses');
    expect(again.usage).toBeUndefined();
    expect(again.costUsd).toBe(0);
  });

  it('passes binary responses through byte for byte and meters speech by characters', async () => {
    const response = await client().audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: 'The quick brown fox.',
    });
    const audio = Buffer.from(await response.arrayBuffer());
    expect(audio.equals(Buffer.alloc(4096, 7))).toBe(true);
    const context = await settled();
    expect(context.meteredUnits).toEqual({ characters: 20 });
    expect(context.costUsd).toBe(0.0003);
  });

  it('meters streamed gpt-4o-mini-tts speech by its text and audio tokens', async () => {
    const response = await client().audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'alloy',
      input: 'The quick brown fox.',
      stream_format: 'sse',
    });
    expect(await response.text()).toContain('speech.audio.done');
    const context = await settled();
    expect(context).toMatchObject({ provider: 'openai', upstreamModel: 'gpt-4o-mini-tts', operation: 'tts' });
    expect(context.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 101 });
    // 14 text tokens x $0.60 + 101 audio tokens x $12, per million (the bundled catalog)
    expect(context.costUsd).toBe(0.0012204);
  });

  it('meters a transcription upload under the model named in its form, its audio tokens at the audio price', async () => {
    const file = await toFile(Buffer.alloc(64 * 1024, 1), 'speech.mp3', { type: 'audio/mpeg' });
    const transcription = await client().audio.transcriptions.create({ file, model: 'gpt-4o-transcribe' });
    expect(transcription.text).toBe('The quick brown fox.');
    const context = await settled();
    expect(context.upstreamModel).toBe('gpt-4o-transcribe');
    expect(context.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 45 });
    // 14 audio input tokens at $6/M and 45 output tokens at $10/M (the bundled catalog)
    expect(context.costUsd).toBeCloseTo(14 * 6e-6 + 45 * 10e-6, 9);
  });
});

describe('universal proxy: headers', () => {
  it('never forwards gateway headers, the gateway key or hop-by-hop headers; keeps the client key off a non-provider host', async () => {
    const body = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    // node:http, since undici will not send a custom Connection header
    const { status, echoed } = await new Promise<{ status: number; echoed: Buffer }>((resolve, reject) => {
      const outgoing = httpRequest(`${base}/proxy/openai/echo`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          'x-switchyard-key': GATEWAY_KEY,
          'x-switchyard-run-id': 'run-1',
          authorization: 'Bearer sk-client-own-key',
          connection: 'keep-alive, x-drop-me',
          'x-drop-me': '1',
          baggage: 'switchyard.run_id=run-1,tenant=acme',
        },
      });
      outgoing.on('response', (incoming) => {
        const parts: Buffer[] = [];
        incoming.on('data', (part: Buffer) => parts.push(part));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, echoed: Buffer.concat(parts) }));
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    expect(status).toBe(200);
    expect(echoed.equals(body)).toBe(true);
    const received = upstream.requests[0]!.headers;
    expect(Object.keys(received).filter((name) => name.startsWith('x-switchyard-'))).toEqual([]);
    expect(received['x-drop-me']).toBeUndefined();
    expect(received.baggage).toBe('tenant=acme');
    // 127.0.0.1 is mapped to openai for metering, but it is not one of openai's hosts: no provider key
    expect(received.authorization).toBe('Bearer sk-client-own-key');
    expect(JSON.stringify(received)).not.toContain(PROVIDER_SECRET);
    expect(JSON.stringify(received)).not.toContain(GATEWAY_KEY);
  });

  it('forwards a body sent after Expect: 100-continue, without the Expect header (the gateway answered it)', async () => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] });
    // node:http, since undici will not send Expect; the body goes once the gateway says 100 Continue
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const outgoing = httpRequest(`${base}/proxy/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', expect: '100-continue' },
      });
      outgoing.on('continue', () => outgoing.end(body));
      outgoing.on('response', (incoming) => {
        let received = '';
        incoming.on('data', (part: Buffer) => (received += part.toString()));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text: received }));
      });
      outgoing.on('error', reject);
    });
    expect(status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ object: 'chat.completion' });
    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0]?.headers['expect']).toBeUndefined();
    expect((await settled()).statusCode).toBe(200);
  });

  it('drops a gateway key sent as a bearer token', async () => {
    await request(`${base}/proxy/openai/v1/models`, {
      headers: { authorization: `Bearer ${GATEWAY_KEY}` },
    }).then(async (r) => r.body.dump());
    expect(upstream.requests[0]?.headers.authorization).toBeUndefined();
  });

  it.each(['x-api-key', 'api-key', 'x-goog-api-key'])(
    'drops a gateway key sent in %s (an SDK given the gateway key as its provider key), keeps a provider key there',
    async (header) => {
      await request(`${base}/proxy/openai/v1/models`, { headers: { [header]: GATEWAY_KEY } }).then(
        async (r) => r.body.dump(),
      );
      await request(`${base}/proxy/openai/v1/models`, { headers: { [header]: 'sk-client-own-key' } }).then(
        async (r) => r.body.dump(),
      );
      expect(upstream.requests.map((received) => received.headers[header])).toEqual([
        undefined,
        'sk-client-own-key',
      ]);
    },
  );
});

describe('universal proxy: SSRF', () => {
  it.each([
    ['decimal IPv4', () => `http://2130706433:${canaryPort}`],
    ['octal IPv4', () => `http://0177.0.0.1:${canaryPort}`],
    ['hex IPv4', () => `http://0x7f000001:${canaryPort}`],
    ['IPv6 loopback', () => `http://[::1]:${canaryPort}`],
    ['IPv6-mapped', () => `http://[::ffff:7f00:1]:${canaryPort}`],
    ['metadata', () => 'http://169.254.169.254'],
    ['metadata, decimal', () => 'http://2852039166'],
    ['private network', () => 'http://10.1.2.3'],
    ['a name resolving to a loopback address', () => `http://rebind.example:${canaryPort}`],
  ])('refuses %s with 403 before any connection', async (_label, target) => {
    const response = await request(`${guardedBase}/proxy/latest/meta-data`, {
      headers: { 'x-switchyard-target': target() },
    });
    const body = (await response.body.json()) as { error: { code: string } };
    expect(response.statusCode).toBe(403);
    expect(body.error.code).toBe('target_not_allowed');
    expect(canaryConnections).toBe(0);
    expect(upstream.requests).toHaveLength(0);
  });

  it('refuses a host outside the allow-list', async () => {
    const response = await request(`${base}/proxy/x`, {
      headers: { 'x-switchyard-target': 'https://evil.example' },
    });
    expect(response.statusCode).toBe(403);
    expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe(
      'target_not_allowed',
    );
  });

  it('never follows an upstream redirect', async () => {
    const response = await request(`${base}/proxy/openai/redirect`);
    await response.body.dump();
    expect(response.statusCode).toBe(302);
    expect(canaryConnections).toBe(0);
  });

  it('answers 404 for an unknown route prefix', async () => {
    const response = await request(`${base}/proxy/nowhere/x`);
    expect(response.statusCode).toBe(404);
    expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it.each(['__proto__', 'constructor', 'hasOwnProperty'])(
    'answers 404 for the prefix %s (not a property of every object)',
    async (prefix) => {
      const response = await request(`${base}/proxy/${prefix}/x`);
      expect(response.statusCode).toBe(404);
      expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe('not_found');
    },
  );
});
