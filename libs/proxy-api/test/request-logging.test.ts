import { createLogger, createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

const CLIENT_KEY = 'sk-sy-request-logging-client-key-0000';
const PROVIDER_KEY = 'sk-request-logging-provider-key-0000';

describe('the request completed line', () => {
  let upstream: MockUpstream;
  let app: FastifyInstance;
  let log: RequestLog;
  let lines: Record<string, unknown>[];
  let raw: string[];
  let completedLine: (clientRequestId: string) => Promise<Record<string, unknown>>;

  beforeEach(async () => {
    upstream = await createMockUpstream();
    log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
    raw = [];
    lines = [];
    const waiting = new Map<string, (line: Record<string, unknown>) => void>();
    completedLine = (clientRequestId) => new Promise((resolve) => waiting.set(clientRequestId, resolve));
    const logger = createLogger({
      destination: {
        write: (chunk: string) => {
          raw.push(chunk);
          const line = JSON.parse(chunk) as Record<string, unknown>;
          lines.push(line);
          if (line['msg'] === 'request completed') waiting.get(line['clientRequestId'] as string)?.(line);
        },
      },
    });
    app = createApp({
      loggerInstance: logger,
      keys: [{ key: CLIENT_KEY, name: 'team-a', customerId: 'acme' }],
      requestLog: log,
      gateway: {
        providers: [
          { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: PROVIDER_KEY },
          { name: 'claude', type: 'anthropic', baseUrl: `${upstream.url}/v1`, apiKey: PROVIDER_KEY },
        ],
        models: [
          { name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] },
          { name: 'claude', targets: [{ provider: 'claude', model: 'claude-sonnet-4-20250514' }] },
        ],
      },
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await log.close();
    await upstream.close();
  });

  it('is written once per request through the given pino instance, with every field and no secret', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: {
        authorization: `Bearer ${CLIENT_KEY}`,
        'content-type': 'application/json',
        'x-request-id': 'req-line-1',
        'x-switchyard-run-id': 'run-7',
      },
      payload: { model: 'gpt', messages: [{ role: 'user', content: 'hello' }] },
    });
    expect(response.statusCode).toBe(200);
    const completed = lines.filter((line) => line['msg'] === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      level: 30,
      requestId: response.headers['x-request-id'],
      clientRequestId: 'req-line-1',
      key: 'team-a',
      customerId: 'acme',
      runId: 'run-7',
      model: 'gpt',
      upstreamModel: 'gpt-4o-mini',
      provider: 'primary',
      status: 200,
      stream: false,
      cacheHit: false,
      attempts: 1,
    });
    for (const field of ['inputTokens', 'outputTokens', 'costUsd', 'latencyMs', 'upstreamMs'])
      expect(typeof completed[0]?.[field], field).toBe('number');
    // Fastify's own per-request lines are off on the gateway routes: this one line is the access log
    expect(lines.filter((line) => line['msg'] === 'incoming request')).toEqual([]);
    expect(raw.join('')).not.toContain(CLIENT_KEY);
    expect(raw.join('')).not.toContain(PROVIDER_KEY);
  });

  it('counts the tokens of a stream the client left before its end', async () => {
    // the mock's Anthropic stream stops with the connection open just before message_stop, the
    // only event whose chunk carries usage: the tokens come from message_start and message_delta
    upstream.fault({ kind: 'stall-stream', afterChunks: 14, times: 1 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const logged = completedLine('req-left');
    const response = await request(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${CLIENT_KEY}`,
        'content-type': 'application/json',
        'x-request-id': 'req-left',
      },
      body: JSON.stringify({ model: 'claude', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
    });
    let seen = '';
    for await (const piece of response.body) {
      seen += String(piece);
      // the finish reason arrived: the client has its answer and goes
      if (seen.includes('"finish_reason":"stop"')) break;
    }
    const line = await logged;
    expect(line).toMatchObject({
      stream: true,
      provider: 'claude',
      errorCode: 'client_closed_request',
      inputTokens: 25,
      outputTokens: 15,
    });
    expect(typeof line['costUsd']).toBe('number');
  });

  it('keeps Fastify request lines on the other routes', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect(lines.filter((line) => line['msg'] === 'incoming request')).toHaveLength(1);
  });

  it('refuses logger settings together with a logger instance', () => {
    expect(() =>
      createApp({
        gateway: { providers: [{ name: 'mock', type: 'mock' }] },
        logger: { level: 'info' },
        loggerInstance: createLogger({ destination: { write: () => undefined } }),
      }),
    ).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });
});
