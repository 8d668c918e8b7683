import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { UNTIL_SETTLED } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createApp } from '../src/create-app';

// A request refused before the engine (here: a bad client key) still continues the client's
// trace: its request span is a child of the W3C traceparent it sent; past the row rate of
// refusals without a valid key it gets no span, as it gets no row.

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
let app: FastifyInstance;

beforeAll(async () => {
  app = createApp({
    logger: false,
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    },
    keys: [{ key: 'sk-sy-refusal-trace-key-0000000000000', name: 'team' }],
    tracing: { tracer: tracerProvider.getTracer('refusal-trace') },
  });
  await app.ready();
});
afterAll(async () => app.close());

it('gives a refused request a span in the trace the client sent', async () => {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: 'Bearer sk-sy-not-a-key', traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
  });
  expect(response.statusCode).toBe(401);
  await vi.waitFor(() => expect(spans.getFinishedSpans()).toHaveLength(1), UNTIL_SETTLED);
  const [span] = spans.getFinishedSpans();
  expect(span!.spanContext().traceId).toBe(TRACE_ID);
  expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
  // a 4xx is the client's error: a server span says why (error.type) and leaves its status unset
  expect(span!.attributes['error.type']).toBe('authentication_error');
  expect(span!.status.code).toBe(SpanStatusCode.UNSET);
});

it('starts no span for a bad-key refusal past the row rate: as many spans as rows, the rest only counted', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  // a clock of our own: the whole burst falls in one instant, however slow the machine
  const bounded = createApp({
    logger: false,
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    },
    keys: [{ key: 'sk-sy-refusal-trace-key-0000000000000', name: 'team' }],
    unauthenticatedRefusalRowsPerSecond: 2,
    now: () => 5_000,
    tracing: { tracer: provider.getTracer('refusal-trace-bounded') },
  });
  try {
    for (let i = 0; i < 6; i += 1) {
      const response = await bounded.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { authorization: 'Bearer sk-sy-not-a-key', traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
        payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(response.statusCode).toBe(401);
    }
    // every refusal is reported (and counted) once its response has finished
    await vi.waitFor(
      async () =>
        expect((await bounded.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
          /switchyard_refusals_unlogged_total\{reason="invalid_key"\} 4\n/,
        ),
      UNTIL_SETTLED,
    );
    const finished = exporter.getFinishedSpans();
    expect(finished).toHaveLength(2);
    expect(finished.every((span) => span.spanContext().traceId === TRACE_ID)).toBe(true);
  } finally {
    await bounded.close();
    await provider.shutdown();
  }
});
