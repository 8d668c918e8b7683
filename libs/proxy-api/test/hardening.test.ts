import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createApp,
  createRequestHandler,
  type AppOptions,
  type SwitchyardRequestHandler,
} from '../src/index';

let upstream: MockUpstream;
let apps: FastifyInstance[] = [];
const MASTER = 'sy-master-hardening-0123456789';

beforeAll(async () => {
  upstream = await createMockUpstream();
});
afterAll(() => upstream.close());
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
  upstream.reset();
});

function gateway(): AppOptions['gateway'] {
  return {
    providers: [
      { name: 'up', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-upstream-0000000000' },
      { name: 'mock', type: 'mock' },
    ],
    models: [
      { name: 'slow', targets: [{ provider: 'up', model: 'gpt-4o-mini' }] },
      { name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] },
    ],
  };
}

async function listen(options: Partial<AppOptions> = {}): Promise<{ app: FastifyInstance; url: string }> {
  const app = createApp({ gateway: gateway(), ...options });
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
}

const body = (model: string, stream = false): string =>
  JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] });

/** POSTs a request and reads its whole answer: the head, and the body (an event stream when asked to stream). */
async function post(
  url: string,
  headers: Record<string, string>,
  payload: string,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

/** Sends a GET on a kept-alive raw socket; resolves with the status, or 'closed' when the server closed the connection first. */
function exchange(socket: Socket, path: string): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const head = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(text);
      if (head < 0 || length === null || text.length < head + 4 + Number(length[1])) return;
      socket.off('data', onData).off('close', onClose);
      resolve(Number(text.slice('HTTP/1.1 '.length, 'HTTP/1.1 '.length + 3)));
    };
    const onClose = (): void => resolve('closed');
    socket.on('data', onData).once('close', onClose);
    // a write to a connection the server closed fails; the close reports it
    socket.on('error', () => undefined);
    if (socket.destroyed) resolve('closed');
    else socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
  });
}

const ratelimitHeaders = (headers: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('x-ratelimit-')));

describe('hardening', () => {
  it('rejects JSON nested deeper than the limit with a 400, before parsing', async () => {
    const app = createApp({ gateway: gateway(), jsonMaxDepth: 8 });
    apps.push(app);
    const deep = `{"model":"demo","messages":[{"role":"user","content":"x"}],"metadata":${'['.repeat(20)}${']'.repeat(20)}}`;
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      payload: deep,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: { code: 'invalid_request', type: 'invalid_request_error' },
    });
    const brackets = `{"model":"demo","messages":[{"role":"user","content":"${'['.repeat(50)}"}]}`;
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: { 'content-type': 'application/json' },
          payload: brackets,
        })
      ).statusCode,
    ).toBe(200);
  });

  it('answers an oversized request head with 431', async () => {
    const { url } = await listen({ maxHeaderBytes: 4096 });
    const response = await request(`${url}/health`, { headers: { 'x-padding': 'x'.repeat(8192) } });
    expect(response.statusCode).toBe(431);
    await response.body.dump();
  });

  it('sheds load past maxConcurrentRequests with 503 and Retry-After, sparing /health, /ready and /metrics, query string or not', async () => {
    upstream.fault({ kind: 'hang', times: 1 });
    const { url } = await listen({ maxConcurrentRequests: 1 });
    const controller = new AbortController();
    const arrived = once(upstream.events, 'request');
    const hanging = request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body('slow'),
      signal: controller.signal,
    }).catch(() => undefined);
    await arrived;
    const shed = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body('demo'),
    });
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(await shed.body.json()).toMatchObject({ error: { code: 'overloaded' } });
    expect((await request(`${url}/health`)).statusCode).toBe(200);
    expect((await request(`${url}/ready`)).statusCode).toBe(200);
    // matched by route: a probe's query string was shed, and so was every scrape at capacity
    for (const path of ['/health?probe=k8s', '/ready?x=1', '/metrics', '/metrics?scrape=1']) {
      const spared = await request(`${url}${path}`);
      expect(spared.statusCode, path).toBe(200);
      await spared.body.dump();
    }
    controller.abort();
    await hanging;
  });

  it('limits requests in flight per key (max_parallel) with a 429', async () => {
    upstream.fault({ kind: 'hang', times: 1 });
    const { app, url } = await listen({ admin: { masterKey: MASTER } });
    const created = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { authorization: `Bearer ${MASTER}` },
      payload: { name: 'p', max_parallel: 1 },
    });
    const { key } = created.json<{ key: string }>();
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const controller = new AbortController();
    const arrived = once(upstream.events, 'request');
    const hanging = request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: body('slow'),
      signal: controller.signal,
    }).catch(() => undefined);
    await arrived;
    const refused = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: body('demo'),
    });
    expect(refused.statusCode).toBe(429);
    expect(await refused.body.json()).toMatchObject({
      error: { code: 'rate_limit_exceeded', message: 'Too many requests in flight for this key.' },
    });
    const aborted = upstream.nextAbort();
    controller.abort();
    await Promise.all([hanging, aborted]);
    // the slot comes back when the aborted request's response closes
    await expect
      .poll(
        async () =>
          (await app.inject({ method: 'POST', url: '/v1/chat/completions', headers, payload: body('demo') }))
            .statusCode,
      )
      .toBe(200);
  });

  it('sends the x-ratelimit-* headers of a key on streamed answers as on whole ones, chat and Anthropic messages', async () => {
    const { app, url } = await listen({ admin: { masterKey: MASTER } });
    const created = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { authorization: `Bearer ${MASTER}` },
      payload: { name: 'limited', rpm: 100, tpm: 100_000 },
    });
    const { key } = created.json<{ key: string }>();
    const auth = { authorization: `Bearer ${key}` };
    const whole = await post(`${url}/v1/chat/completions`, auth, body('demo'));
    expect(whole.status).toBe(200);
    const names = Object.keys(ratelimitHeaders(whole.headers)).sort();
    expect(names).toEqual([
      'x-ratelimit-limit-requests',
      'x-ratelimit-limit-tokens',
      'x-ratelimit-remaining-requests',
      'x-ratelimit-remaining-tokens',
      'x-ratelimit-reset-requests',
      'x-ratelimit-reset-tokens',
    ]);

    const chat = await post(`${url}/v1/chat/completions`, auth, body('demo', true));
    expect(chat.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(chat.text).toContain('data: [DONE]');
    expect(ratelimitHeaders(chat.headers)).toMatchObject({
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '98',
      'x-ratelimit-limit-tokens': '100000',
    });
    expect(Object.keys(ratelimitHeaders(chat.headers)).sort()).toEqual(names);

    const messages = await post(
      `${url}/v1/messages`,
      auth,
      JSON.stringify({
        model: 'demo',
        max_tokens: 16,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    expect(messages.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(messages.text).toContain('event: message_stop');
    expect(ratelimitHeaders(messages.headers)).toMatchObject({
      'x-ratelimit-limit-requests': '100',
      'x-ratelimit-remaining-requests': '97',
    });
    expect(Object.keys(ratelimitHeaders(messages.headers)).sort()).toEqual(names);
  });
});

describe('readiness and shutdown', () => {
  it('answers /ready, and 503 from the moment draining begins', async () => {
    const app = createApp({ gateway: gateway(), admin: { masterKey: MASTER } });
    apps.push(app);
    expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toEqual({
      status: 'ready',
      checks: { keyStore: 'ok' },
    });
    app.switchyardDrain.begin();
    const draining = await app.inject({ method: 'GET', url: '/ready' });
    expect(draining.statusCode).toBe(503);
    expect(draining.json()).toMatchObject({ status: 'draining' });
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('lets a short in-flight request finish on close', async () => {
    upstream.fault({ kind: 'delay', ms: 200, times: 1 });
    const { app, url } = await listen();
    const arrived = once(upstream.events, 'request');
    const inflight = request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body('slow'),
    });
    await arrived;
    const closed = app.close();
    const response = await inflight;
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toMatchObject({ object: 'chat.completion' });
    await closed;
  });

  it('closes the connection after a stream that starts while draining, as after a whole answer', async () => {
    const { app, url } = await listen();
    app.switchyardDrain.begin();
    const whole = await post(`${url}/v1/chat/completions`, {}, body('demo'));
    expect(whole.headers.connection).toBe('close');
    const streamed = await post(`${url}/v1/chat/completions`, {}, body('demo', true));
    expect(streamed.text).toContain('data: [DONE]');
    expect(streamed.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(streamed.headers.connection).toBe('close');
  });

  it('serves on after begin() past the drain timeout: the deadline counts from close, not from a preStop hook', async () => {
    // a deadline of 1 ms from begin() would have cut the slow answer (and every one after it)
    const { app, url } = await listen({ drainTimeoutMs: 1 });
    app.switchyardDrain.begin();
    upstream.fault({ kind: 'delay', ms: 50, times: 1 });
    const slow = await post(`${url}/v1/chat/completions`, {}, body('slow'));
    expect(slow.status).toBe(200);
    expect(JSON.parse(slow.text)).toMatchObject({ object: 'chat.completion' });
    expect(slow.headers.connection).toBe('close');
    expect((await post(`${url}/v1/chat/completions`, {}, body('demo'))).status).toBe(200);
  });

  it('keeps idle keep-alive connections open while draining, and closes them with the listener', async () => {
    const { app, url } = await listen();
    // a load balancer's pooled connections, idle between its requests
    const pooled = await Promise.all(
      [0, 1].map(async () => {
        const socket = connect(Number(new URL(url).port), '127.0.0.1');
        await once(socket, 'connect');
        expect(await exchange(socket, '/health')).toBe(200);
        return socket;
      }),
    );
    const [used, idle] = pooled as [Socket, Socket];
    app.switchyardDrain.begin();
    // another client's request finishes while draining; its own connection is closed after it
    const other = await post(`${url}/v1/chat/completions`, {}, body('demo'));
    expect(other.headers.connection).toBe('close');
    expect(await exchange(used, '/health')).toBe(200);
    const closed = once(idle, 'close');
    await app.close();
    await closed;
  });

  it('ends a connection that never sent a request when the app closes, rather than waiting for its headers timeout', async () => {
    // without the fix close() waits until Node's periodic check finds the socket's headers
    // timeout passed: longer than the test may take
    const { app, url } = await listen();
    const port = Number(new URL(url).port);
    // a browser's preconnect, a load balancer's warm socket: open, nothing sent
    const accepted = once(app.server, 'connection');
    const unused = connect(port, '127.0.0.1');
    unused.on('error', () => undefined);
    await accepted;
    // beside one that served a request and is idle, and one whose request is in flight
    const idle = connect(port, '127.0.0.1');
    await once(idle, 'connect');
    expect(await exchange(idle, '/health')).toBe(200);
    upstream.fault({ kind: 'delay', ms: 200, times: 1 });
    const inFlight = post(`${url}/v1/chat/completions`, {}, body('slow'));
    await expect.poll(() => upstream.requests.length).toBe(1);
    const unusedClosed = once(unused, 'close');
    const idleClosed = once(idle, 'close');
    await app.close();
    await Promise.all([unusedClosed, idleClosed]);
    expect((await inFlight).status).toBe(200);
  });

  it('ends a stream still running at the drain deadline with an error event, never [DONE]', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 2, times: 1 });
    const { app, url } = await listen({ drainTimeoutMs: 100 });
    const response = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body('slow', true),
    });
    expect(response.statusCode).toBe(200);
    const chunks: string[] = [];
    const reading = (async () => {
      for await (const chunk of response.body) chunks.push((chunk as Buffer).toString());
    })();
    await expect.poll(() => chunks.join('').includes('chat.completion.chunk')).toBe(true);
    await app.close();
    await reading;
    const text = chunks.join('');
    expect(text).not.toContain('[DONE]');
    const last = text.trim().split('\n\n').at(-1)!;
    expect(JSON.parse(last.slice('data: '.length))).toMatchObject({ error: { code: 'overloaded' } });
  });
});

describe('createRequestHandler() in a server of its own: close() drains the requests in flight', () => {
  async function serve(
    options: Partial<AppOptions>,
  ): Promise<{ handler: SwitchyardRequestHandler; url: string; server: Server }> {
    const handler = await createRequestHandler({ gateway: gateway(), ...options });
    const server = createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { handler, server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
  }

  it('ends a stream still running at the drain deadline with an error event, then closes (close() cleared the deadline and then waited on the stalled upstream for ever)', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 2, times: 1 });
    const { handler, server, url } = await serve({ drainTimeoutMs: 100 });
    const response = await request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body('slow', true),
    });
    const chunks: string[] = [];
    const reading = (async () => {
      for await (const chunk of response.body) chunks.push((chunk as Buffer).toString());
    })();
    await expect.poll(() => chunks.join('').includes('chat.completion.chunk')).toBe(true);
    await handler.close();
    await reading;
    const last = chunks.join('').trim().split('\n\n').at(-1)!;
    expect(JSON.parse(last.slice('data: '.length))).toMatchObject({ error: { code: 'overloaded' } });
    server.close();
  });

  it('closes at once with nothing in flight', async () => {
    const { handler, server, url } = await serve({ drainTimeoutMs: 60_000 });
    expect((await post(`${url}/v1/chat/completions`, {}, body('demo'))).status).toBe(200);
    // a drain that waited out its deadline here would fail the test by its timeout
    await handler.close();
    server.close();
  });

  it("gives the slow-client limits of its options as Node server options, for the server that is the embedder's", async () => {
    const handler = await createRequestHandler({
      gateway: gateway(),
      requestTimeoutMs: 500,
      headersTimeoutMs: 300,
      keepAliveTimeoutMs: 5_000,
      maxHeaderBytes: 4_096,
    });
    expect(handler.serverOptions).toEqual({
      requestTimeout: 500,
      headersTimeout: 300,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 4_096,
      connectionsCheckingInterval: 150,
    });
    const server = createServer(handler.serverOptions, handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      // a head that never ends is cut by the headers timeout given, not Node's default minute
      const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
      socket.on('error', () => undefined);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.write('GET /health HTTP/1.1\r\nHost: 1');
      await once(socket, 'close');
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      // the defaults, when the options set none
      const defaults = await createRequestHandler({ gateway: gateway() });
      expect(defaults.serverOptions).toMatchObject({
        requestTimeout: 30_000,
        headersTimeout: 10_000,
        maxHeaderSize: 16_384,
      });
      await defaults.close();
    } finally {
      await handler.close();
      server.close();
    }
  });

  it("answers what Node's parser refused in the gateway's error shape through onClientError, as createApp's server does (the embedder's server sent Node's bare status line)", async () => {
    const handler = await createRequestHandler({ gateway: gateway(), maxHeaderBytes: 1_024 });
    const server = createServer(handler.serverOptions, handler);
    server.on('clientError', handler.onClientError);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    async function raw(head: string): Promise<string> {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.write(head);
      await once(socket, 'close');
      return received;
    }
    try {
      const garbage = await raw('NOT HTTP AT ALL\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({
        error: { code: 'invalid_request', type: 'invalid_request_error' },
      });
      const large = await raw(`GET /health HTTP/1.1\r\nHost: a\r\nx-big: ${'a'.repeat(2_048)}\r\n\r\n`);
      expect(large).toMatch(/^HTTP\/1\.1 431 /);
      expect(JSON.parse(large.slice(large.indexOf('\r\n\r\n') + 4))).toMatchObject({
        error: { code: 'request_too_large' },
      });
    } finally {
      await handler.close();
      server.close();
    }
  });
});

describe('CORS and OpenAPI', () => {
  it('sends no CORS headers by default', async () => {
    const app = createApp({ gateway: gateway() });
    apps.push(app);
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/v1/chat/completions',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers preflights for configured origins only', async () => {
    const app = createApp({ gateway: gateway(), cors: { origin: ['https://app.example'] } });
    apps.push(app);
    const allowed = await app.inject({
      method: 'OPTIONS',
      url: '/v1/chat/completions',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await app.inject({
      method: 'OPTIONS',
      url: '/v1/chat/completions',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("lets an allowed origin preflight the admin API's PATCH and DELETE and the proxy's PUT", async () => {
    const app = createApp({ gateway: gateway(), cors: { origin: ['https://app.example'] } });
    apps.push(app);
    for (const [url, method] of [
      ['/admin/keys/key_x', 'PATCH'],
      ['/admin/keys/key_x', 'DELETE'],
      ['/proxy/https://api.example.com/v1/things', 'PUT'],
    ] as const) {
      const preflight = await app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: 'https://app.example', 'access-control-request-method': method },
      });
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(String(preflight.headers['access-control-allow-methods']).split(/,\s*/)).toContain(method);
    }
  });

  it('sends CORS headers and the request id on streamed answers to an allowed origin', async () => {
    const { url } = await listen({ cors: { origin: ['https://app.example'] } });
    const origin = { origin: 'https://app.example', 'x-request-id': 'req-cors-stream-1' };
    const whole = await post(`${url}/v1/chat/completions`, origin, body('demo'));
    expect(whole.headers['access-control-allow-origin']).toBe('https://app.example');
    for (const path of ['/v1/chat/completions', '/v1/completions']) {
      const payload =
        path === '/v1/completions'
          ? JSON.stringify({ model: 'demo', prompt: 'hi', stream: true })
          : body('demo', true);
      const streamed = await post(`${url}${path}`, origin, payload);
      expect(streamed.status).toBe(200);
      expect(streamed.text).toContain('data: [DONE]');
      expect(streamed.headers).toMatchObject({
        'content-type': 'text/event-stream; charset=utf-8',
        'access-control-allow-origin': 'https://app.example',
        'access-control-expose-headers': whole.headers['access-control-expose-headers'],
        vary: whole.headers.vary,
      });
      // the gateway's own id (the client's is its correlation id), set on the reply before the head
      expect(streamed.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    }
    const other = await post(
      `${url}/v1/chat/completions`,
      { origin: 'https://evil.example' },
      body('demo', true),
    );
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves an OpenAPI document generated from the route schemas, and a docs page', async () => {
    const app = createApp({ gateway: gateway(), admin: { masterKey: MASTER } });
    apps.push(app);
    const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/chat/completions',
        '/v1/messages',
        '/v1/embeddings',
        '/admin/keys',
        '/admin/keys/{id}',
      ]),
    );
    expect(JSON.stringify(document.paths['/v1/messages'])).toContain('max_tokens');
    expect(JSON.stringify(document.paths['/v1/chat/completions'])).toContain('messages');
    const docs = await app.inject({ method: 'GET', url: '/docs' });
    expect(docs.headers['content-type']).toContain('text/html');
    expect(docs.body).toContain('/admin/keys/{id}/rotate');
  });
});
