import { context as otelContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import {
  createGateway,
  createRequestContext,
  SwitchyardError,
  type Gateway,
  type GatewayPlugin,
} from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { markUnlogged } from '../request-log/unlogged-request';
import { createTracing } from './create-tracing';

const PROVIDER_KEY = 'sk-canary-provider-tracing-000000000000';
const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_PARENT = `00-${CLIENT_TRACE_ID}-00f067aa0ba902b7-01`;
const messages = [{ role: 'user' as const, content: 'hello there' }];

function byKind(spans: readonly ReadableSpan[], kind: SpanKind): ReadableSpan[] {
  return spans.filter((span) => span.kind === kind);
}

describe('createTracing', () => {
  let upstream: MockUpstream;
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  let gateway: Gateway;

  function makeGateway(extra: GatewayPlugin[] = []): Gateway {
    const tracing = createTracing({ tracer: provider.getTracer('test') });
    return createGateway({
      providers: [
        { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: PROVIDER_KEY },
        { name: 'mock', type: 'mock' },
      ],
      models: [
        { name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] },
        { name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] },
      ],
      retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 },
      plugins: [tracing.plugin, ...extra],
    });
  }

  beforeEach(async () => {
    upstream = await createMockUpstream();
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    gateway = makeGateway();
  });
  afterEach(async () => {
    await gateway.close();
    await upstream.close();
    await provider.shutdown();
  });

  it('records a request span and a client attempt span with the GenAI attributes, continuing the client trace', async () => {
    const context = createRequestContext({ upstreamHeaders: { traceparent: CLIENT_PARENT } });
    const reply = await gateway.chat(
      { model: 'gpt', messages, max_tokens: 50, temperature: 0.2 },
      { context },
    );
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    const [request] = byKind(spans, SpanKind.SERVER);
    const [attempt] = byKind(spans, SpanKind.CLIENT);
    if (request === undefined || attempt === undefined) throw new Error('missing spans');

    expect(request.name).toBe('chat gpt');
    expect(request.spanContext().traceId).toBe(CLIENT_TRACE_ID);
    expect(request.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(request.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt',
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.stream': false,
      'gen_ai.provider.name': 'openai',
      'gen_ai.response.model': reply.model,
      'gen_ai.response.id': reply.id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': reply.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': reply.usage?.completion_tokens,
      'switchyard.request_id': context.requestId,
      'switchyard.attempts': 1,
    });
    expect(request.status.code).toBe(SpanStatusCode.UNSET);

    expect(attempt.name).toBe('chat gpt-4o-mini');
    expect(attempt.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(attempt.spanContext().traceId).toBe(CLIENT_TRACE_ID);
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': reply.model,
      'gen_ai.usage.input_tokens': reply.usage?.prompt_tokens,
      'switchyard.provider': 'primary',
      'switchyard.attempt': 0,
      // the host and port of the provider's base URL, as HTTP client spans carry them
      'server.address': new URL(upstream.url).hostname,
      'server.port': Number(new URL(upstream.url).port),
    });
    // the upstream saw the attempt span as its parent, in the client's trace
    expect(upstream.requests.at(-1)?.headers['traceparent']).toBe(
      `00-${CLIENT_TRACE_ID}-${attempt.spanContext().spanId}-01`,
    );
  });

  it('marks failed attempts and a failed request as errors with error.type, each retry its own traceparent', async () => {
    upstream.fault({ kind: 'status', status: 500, times: 10 });
    await expect(gateway.chat({ model: 'gpt', messages })).rejects.toBeInstanceOf(SwitchyardError);
    const spans = exporter.getFinishedSpans();
    const attempts = byKind(spans, SpanKind.CLIENT);
    const [request] = byKind(spans, SpanKind.SERVER);
    expect(attempts).toHaveLength(3);
    for (const attempt of attempts) {
      expect(attempt.status.code).toBe(SpanStatusCode.ERROR);
      expect(attempt.attributes['error.type']).toBe('upstream_error');
      expect(attempt.attributes['server.port']).toBe(Number(new URL(upstream.url).port));
      expect(attempt.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    }
    expect(request?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'upstream_error' });
    expect(request?.attributes['error.type']).toBe('upstream_error');
    // no model answered: the model asked of the last attempt is not a response model
    expect(request?.attributes['gen_ai.response.model']).toBeUndefined();
    for (const attempt of attempts) expect(attempt.attributes['gen_ai.response.model']).toBeUndefined();
    // a new trace (the client sent none), one parent per attempt
    const sent = upstream.requests.map((recorded) => recorded.headers['traceparent']);
    expect(sent).toEqual(
      attempts.map((attempt) => `00-${attempt.spanContext().traceId}-${attempt.spanContext().spanId}-01`),
    );
    expect(new Set(sent).size).toBe(3);
  });

  it("leaves the request span's status unset for a 4xx answer (the client's error), with its error.type; a 5xx or a cancelled request is an ERROR", async () => {
    // OpenTelemetry's HTTP conventions: a SERVER span leaves a 4xx unset, a CLIENT span fails on it
    upstream.fault({
      kind: 'status',
      status: 400,
      body: { error: { message: 'bad', type: 'invalid_request_error' } },
      times: 1,
    });
    await expect(gateway.chat({ model: 'gpt', messages })).rejects.toMatchObject({
      code: 'upstream_bad_request',
    });
    await expect(gateway.chat({ model: 'no-such-model', messages })).rejects.toMatchObject({
      code: 'model_not_found',
    });
    for (const code of ['authentication_error', 'rate_limit_exceeded', 'upstream_unavailable'] as const)
      gateway.report({
        ...createRequestContext({ requestId: code, endpoint: 'chat' }),
        error: new SwitchyardError(code, 'refused'),
      });
    // the client went away: the answer was never completed
    gateway.report({
      ...createRequestContext({ requestId: 'gone', endpoint: 'chat' }),
      error: new SwitchyardError('client_closed_request', 'gone'),
    });
    const spans = exporter.getFinishedSpans();
    const [attempt] = byKind(spans, SpanKind.CLIENT);
    expect(attempt?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'upstream_bad_request' });
    const requests = byKind(spans, SpanKind.SERVER).map((span) => [
      span.attributes['error.type'],
      span.status.code,
    ]);
    expect(requests).toEqual([
      ['upstream_bad_request', SpanStatusCode.UNSET],
      ['model_not_found', SpanStatusCode.UNSET],
      ['authentication_error', SpanStatusCode.UNSET],
      ['rate_limit_exceeded', SpanStatusCode.UNSET],
      ['upstream_unavailable', SpanStatusCode.ERROR],
      ['client_closed_request', SpanStatusCode.ERROR],
    ]);
  });

  it('ends a streamed attempt with the stream, with time to first chunk, finish reasons and usage', async () => {
    const context = createRequestContext();
    const stream = await gateway.stream(
      { model: 'gpt', messages, stream_options: { include_usage: true } },
      { context },
    );
    let id = '';
    for await (const chunk of stream) id = chunk.id;
    const [request] = byKind(exporter.getFinishedSpans(), SpanKind.SERVER);
    const [attempt] = byKind(exporter.getFinishedSpans(), SpanKind.CLIENT);
    expect(request?.attributes).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.id': id,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': context.usage?.prompt_tokens,
      'gen_ai.usage.output_tokens': context.usage?.completion_tokens,
    });
    expect(request?.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(attempt?.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(attempt?.attributes['gen_ai.usage.output_tokens']).toBe(context.usage?.completion_tokens);
  });

  it('records embeddings with their operation name', async () => {
    await gateway.embed({ model: 'demo', input: 'hello' });
    const [request] = byKind(exporter.getFinishedSpans(), SpanKind.SERVER);
    const [attempt] = byKind(exporter.getFinishedSpans(), SpanKind.CLIENT);
    expect(request?.name).toBe('embeddings demo');
    expect(attempt?.attributes).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'mock',
    });
    // the in-process mock calls no host
    expect(attempt?.attributes).not.toHaveProperty('server.address');
    expect(request?.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  });

  it('marks the span of an attempt its adapter refused before sending as no call: switchyard.called false, no server', async () => {
    const tracing = createTracing({ tracer: provider.getTracer('test') });
    const refusing = createGateway({
      providers: [
        { name: 'claude', type: 'anthropic', baseUrl: upstream.url, apiKey: PROVIDER_KEY },
        { name: 'mock', type: 'mock' },
      ],
      models: [
        {
          name: 'emb',
          strategy: 'ordered',
          targets: [
            { provider: 'claude', model: 'claude-x' },
            { provider: 'mock', model: 'echo' },
          ],
        },
      ],
      plugins: [tracing.plugin],
    });
    try {
      // no embeddings on the Anthropic adapter: the mock behind it answers
      await refusing.embed({ model: 'emb', input: 'hello' });
      expect(upstream.requests).toHaveLength(0);
      const spans = exporter.getFinishedSpans();
      const [request] = byKind(spans, SpanKind.SERVER);
      const [refused, answered] = byKind(spans, SpanKind.CLIENT).sort(
        (a, b) => Number(a.attributes['switchyard.attempt']) - Number(b.attributes['switchyard.attempt']),
      );
      expect(refused?.attributes).toMatchObject({
        'switchyard.provider': 'claude',
        'switchyard.called': false,
        'error.type': 'unsupported_feature',
      });
      expect(refused?.status.code).toBe(SpanStatusCode.ERROR);
      // no request went to the provider's host
      expect(refused?.attributes).not.toHaveProperty('server.address');
      expect(refused?.attributes).not.toHaveProperty('server.port');
      expect(answered?.attributes).toMatchObject({
        'switchyard.provider': 'mock',
        'switchyard.called': true,
      });
      expect(answered?.status.code).toBe(SpanStatusCode.UNSET);
      expect(request?.status.code).toBe(SpanStatusCode.UNSET);
    } finally {
      await refusing.close();
    }
  });

  it('keeps the server of an attempt that called its provider, and marks one an open breaker refused as no call', async () => {
    const tracing = createTracing({ tracer: provider.getTracer('test') });
    const broken = createGateway({
      providers: [{ name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: PROVIDER_KEY }],
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
      breaker: { volumeThreshold: 1, resetTimeoutMs: 60_000 },
      retry: { maxRetries: 0 },
      plugins: [tracing.plugin],
    });
    try {
      upstream.fault({ kind: 'status', status: 500, times: 1 });
      await expect(broken.chat({ model: 'gpt', messages })).rejects.toMatchObject({ code: 'upstream_error' });
      await expect(broken.chat({ model: 'gpt', messages })).rejects.toMatchObject({ code: 'circuit_open' });
      const [failed, refused] = byKind(exporter.getFinishedSpans(), SpanKind.CLIENT);
      expect(failed?.attributes).toMatchObject({
        'switchyard.called': true,
        'error.type': 'upstream_error',
        'server.port': Number(new URL(upstream.url).port),
      });
      expect(refused?.attributes).toMatchObject({ 'switchyard.called': false, 'error.type': 'circuit_open' });
      expect(refused?.attributes).not.toHaveProperty('server.address');
    } finally {
      await broken.close();
    }
  });

  it('is a child of the active span when there is one', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    otelContext.setGlobalContextManager(manager);
    const tracer = provider.getTracer('caller');
    try {
      await tracer.startActiveSpan('caller', async (outer) => {
        await gateway.chat({ model: 'demo', messages });
        outer.end();
      });
    } finally {
      otelContext.disable();
    }
    const spans = exporter.getFinishedSpans();
    const outer = spans.find((span) => span.name === 'caller');
    const request = spans.find((span) => span.name === 'chat demo');
    expect(request?.kind).toBe(SpanKind.INTERNAL);
    expect(request?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
  });

  it('never lets a failing tap of its own stop the hook chain (the request log taps after it)', async () => {
    const ended: string[] = [];
    const broken = createTracing({
      tracer: {
        startSpan: () => {
          throw new Error('exporter misconfigured');
        },
        startActiveSpan: () => {
          throw new Error('exporter misconfigured');
        },
      },
    });
    const later: GatewayPlugin = {
      name: 'later',
      apply: (hooks) => hooks.onRequestEnd.tap('later', (context) => ended.push(context.requestId)),
    };
    const local = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      plugins: [broken.plugin, later],
    });
    const context = createRequestContext();
    await local.chat({ model: 'demo', messages }, { context });
    const stream = await local.stream({ model: 'demo', messages });
    for await (const _chunk of stream) {
      // drain
    }
    expect(ended).toHaveLength(2);
    expect(ended[0]).toBe(context.requestId);
    await local.close();
  });

  it('without an SDK forwards the client traceparent unchanged and keeps no state', async () => {
    const local = createGateway({
      providers: [{ name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: PROVIDER_KEY }],
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
      plugins: [createTracing({ tracer: trace.getTracer('no-sdk') }).plugin],
    });
    const context = createRequestContext({ upstreamHeaders: { traceparent: CLIENT_PARENT } });
    await local.chat({ model: 'gpt', messages }, { context });
    expect(upstream.requests.at(-1)?.headers['traceparent']).toBe(CLIENT_PARENT);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await local.close();
  });

  it('starts no span for a reported request marked unlogged, and still ends one that had started', () => {
    const refused = {
      ...createRequestContext({
        requestId: 'refused',
        endpoint: 'chat',
        upstreamHeaders: { traceparent: CLIENT_PARENT },
      }),
      error: new SwitchyardError('authentication_error', 'bad key'),
    };
    markUnlogged(refused, 'invalid_key');
    gateway.report(refused);
    expect(exporter.getFinishedSpans()).toHaveLength(0);

    const logged = {
      ...createRequestContext({ requestId: 'logged', endpoint: 'chat' }),
      error: new SwitchyardError('authentication_error', 'bad key'),
    };
    gateway.report(logged);
    expect(exporter.getFinishedSpans().map((span) => span.attributes['switchyard.request_id'])).toEqual([
      'logged',
    ]);
  });

  it('never puts the provider key or the prompt in a span', async () => {
    await gateway.chat({ model: 'gpt', messages: [{ role: 'user', content: 'secret prompt text' }] });
    upstream.fault({
      kind: 'status',
      status: 401,
      body: {
        error: { message: `Incorrect API key provided: ${PROVIDER_KEY}`, type: 'invalid_request_error' },
      },
      times: 1,
    });
    await expect(gateway.chat({ model: 'gpt', messages })).rejects.toBeInstanceOf(SwitchyardError);
    const text = JSON.stringify(
      exporter.getFinishedSpans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
      })),
    );
    expect(text).not.toContain(PROVIDER_KEY);
    expect(text).not.toContain('secret prompt text');
  });
});
