import { PassThrough } from 'node:stream';
import { createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

const PROVIDER_CANARY = 'sk-canaryprovider-7f3a9c1e5b2d4a6f8e0c';
const CLIENT_CANARY = 'sk-sy-canaryclient7f3a9c1e5b2d4a6f8e0c';
const MASTER = 'sk-sy-master-key-for-tests-000000000000';

describe('observability routes', () => {
  let upstream: MockUpstream;
  let app: FastifyInstance;
  let log: RequestLog;
  let lines: string[];

  beforeEach(async () => {
    upstream = await createMockUpstream();
    log = await createRequestLog({
      store: 'sqlite',
      path: ':memory:',
      bodies: true,
      flushIntervalMs: 60_000,
    });
    lines = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) =>
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      ),
    );
    app = createApp({
      logger: {
        level: 'info',
        stream,
        redact: ['req.headers.authorization', 'req.headers["x-switchyard-key"]'],
      },
      admin: { masterKey: MASTER },
      keys: [{ key: CLIENT_CANARY, name: 'team-a', customerId: 'acme' }],
      requestLog: log,
      gateway: {
        providers: [
          { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: PROVIDER_CANARY },
        ],
        models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
        attemptTimeoutMs: 300,
        // each injected fault must reach the client, not be retried away
        retry: { maxRetries: 0 },
      },
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    await log.close();
    await upstream.close();
  });

  const chat = (headers: Record<string, string> = {}, stream = false) =>
    app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: `Bearer ${CLIENT_CANARY}`, 'content-type': 'application/json', ...headers },
      payload: { model: 'gpt', stream, messages: [{ role: 'user', content: `my key is ${CLIENT_CANARY}` }] },
    });
  const admin = (url: string) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${MASTER}` } });

  it('stores tracing context on the row, forwards only W3C trace context, and answers the query API', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ok = await chat({
      'x-switchyard-run-id': 'run-1',
      'x-switchyard-span-id': 'root',
      'x-switchyard-section': 'plan',
      baggage: 'switchyard.customer_id=cust-9,team=blue',
      traceparent,
    });
    expect(ok.statusCode).toBe(200);
    expect(Number(ok.headers['x-switchyard-overhead-ms'])).toBeGreaterThanOrEqual(0);
    const sent = upstream.requests.at(-1)!;
    expect(sent.headers['traceparent']).toBe(traceparent);
    expect(sent.headers['baggage']).toBe('team=blue');
    expect(Object.keys(sent.headers).filter((h) => h.startsWith('x-switchyard'))).toEqual([]);
    await log.queue.flush();

    const requests = await admin('/admin/requests?run_id=run-1');
    expect(requests.statusCode).toBe(200);
    const body = requests.json<{ data: Record<string, unknown>[]; next_cursor: string | null }>();
    expect(body.next_cursor).toBeNull();
    // the key's own customer wins over a client-sent one
    expect(body.data[0]).toMatchObject({
      run_id: 'run-1',
      span_id: 'root',
      section: 'plan',
      customer_id: 'acme',
      api_key_name: 'team-a',
      provider: 'primary',
      status: 200,
    });
    // the model the client named (a routing name) and the one that answered are two filters
    const byName = await admin('/admin/requests?run_id=run-1&requested_model=gpt');
    expect(byName.json<{ data: unknown[] }>().data).toHaveLength(1);
    expect((await admin('/admin/requests?run_id=run-1&model=gpt')).json<{ data: unknown[] }>().data).toEqual(
      [],
    );
    expect(
      (await admin('/admin/requests?run_id=run-1&model=gpt-4o-mini')).json<{ data: unknown[] }>().data,
    ).toHaveLength(1);
    const usage = await admin('/admin/usage?group_by=run');
    expect(usage.json()).toMatchObject({ group_by: 'run', groups: [{ key: 'run-1', requests: 1 }] });
    const run = await admin('/admin/runs/run-1');
    expect(run.json()).toMatchObject({
      run_id: 'run-1',
      requests: 1,
      sections: [{ span_id: 'root', section: 'plan', children: [] }],
    });
    expect((await admin('/admin/runs/none')).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/admin/requests' })).statusCode).toBe(401);
  });

  it("keeps a client's x-request-id as its correlation id: a reused one cannot hide a request from the log", async () => {
    const first = await chat({ 'x-request-id': 'client-7' });
    const second = await chat({ 'x-request-id': 'client-7' });
    const malformed = await chat({ 'x-request-id': 'has spaces' });
    for (const response of [first, second, malformed]) expect(response.statusCode).toBe(200);
    await log.queue.flush();
    const rows = (await admin('/admin/requests?client_request_id=client-7')).json<{
      data: Record<string, unknown>[];
    }>().data;
    // both rows, each under the gateway's own id, newest first
    expect(rows.map((row) => row['id'])).toEqual([
      second.headers['x-request-id'],
      first.headers['x-request-id'],
    ]);
    expect(rows.every((row) => row['client_request_id'] === 'client-7')).toBe(true);
    const all = (await admin('/admin/requests')).json<{ data: Record<string, unknown>[] }>().data;
    expect(all.find((row) => row['id'] === malformed.headers['x-request-id'])).toMatchObject({
      client_request_id: null,
    });
  });

  it('rejects an invalid tracing header with 400 invalid_request', async () => {
    const bad = await chat({ 'x-switchyard-run-id': 'has spaces and <tags>' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_request', param: 'x-switchyard-run-id' } });
  });

  it('never lets the provider or client key reach logs, rows or metrics across success, error, timeout and abort', async () => {
    expect((await chat()).statusCode).toBe(200);
    upstream.fault({
      kind: 'status',
      status: 401,
      body: { error: { message: `bad key ${PROVIDER_CANARY}` } },
      times: 1,
    });
    expect((await chat()).statusCode).toBeGreaterThanOrEqual(400);
    upstream.fault({ kind: 'hang', times: 1 });
    expect((await chat()).statusCode).toBe(504);
    upstream.fault({ kind: 'cut-stream', afterChunks: 1, times: 1 });
    await chat({}, true);
    await log.queue.flush();
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('switchyard_requests_total');
    const rows = JSON.stringify((await log.sql!.list({ limit: 100 })).data);
    expect(rows.length).toBeGreaterThan(100);
    const everything = [metrics.body, rows, ...lines].join('\n');
    expect(lines.some((line) => line.includes('request completed'))).toBe(true);
    expect(everything).not.toContain(PROVIDER_CANARY);
    expect(everything).not.toContain(CLIENT_CANARY);
  });
});
