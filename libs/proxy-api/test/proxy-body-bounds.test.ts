import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EventEmitter, once } from 'node:events';
import { get, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { GatewayPlugin, RequestContext } from '@switchyard/proxy-core';
import { createMockUpstream, UNTIL_SETTLED, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/create-app';
import { PROXY_DEFAULTS } from '../src/index';

// The universal proxy bounds what it forwards: the request body by the app's bodyLimitBytes
// (the proxy reads bodies itself, so fastify's limit never applies), and the upstream's
// response by an idle timeout, while a long stream that keeps sending goes through whole up to
// the overall time limit (proxy.requestTimeoutMs), which a trickle of bytes does not escape.

const BODY_LIMIT = 4096;
const IDLE_MS = 1000;
const PACED_CHUNKS = 30;
const PACE_MS = 50;
// the time limit of a second app: well below the paced stream's whole length, far below the idle timeout's total
const LIMIT_MS = 500;
const HOUR_MS = 60 * 60_000;
// the key of a third app, which keeps the default time limit: one exchange in flight at a time
const SLOT_KEY = 'sk-sy-proxy-bounds-one-slot-0123456789';

let upstream: MockUpstream;
let app: FastifyInstance;
let base: string;
let limited: FastifyInstance;
let limitedBase: string;
let defaults: FastifyInstance;
let defaultsBase: string;
const stalled: ServerResponse[] = [];
// the upstream's answers to /written-by-test, whose body the test writes
const upstreamAnswers = new EventEmitter();
// the proxy's own responses, as its HTTP server hands them out
const proxyResponses = new EventEmitter();
const ended: RequestContext[] = [];
const recorder: GatewayPlugin = {
  name: 'test:request-log',
  apply: (hooks) => hooks.onRequestEnd.tap('test:request-log', (context) => ended.push(context)),
};

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /\/echo$/,
        handle: ({ res, rawBody }) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end(rawBody);
        },
      },
      {
        method: 'GET',
        path: /\/stalls$/,
        handle: ({ res }) => {
          // one event, then silence with the connection held open
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: {"first":true}\n\n');
          stalled.push(res);
        },
      },
      {
        method: 'GET',
        path: /\/trickles$/,
        handle: ({ res }) => {
          // a byte every PACE_MS for as long as the connection lasts: never idle, never done
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const timer = setInterval(() => res.write(':\n'), PACE_MS);
          res.once('close', () => clearInterval(timer));
        },
      },
      {
        method: 'GET',
        path: /\/no-head$/,
        handle: ({ res }) => {
          // the request is read, and then nothing: no status line, no headers
          stalled.push(res);
        },
      },
      {
        method: 'GET',
        path: /\/written-by-test$/,
        handle: ({ res }) => {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          stalled.push(res);
          upstreamAnswers.emit('answer', res);
        },
      },
      {
        method: 'GET',
        path: /\/paced$/,
        handle: ({ res }) => {
          // longer than the idle timeout in all, never silent for long
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          let sent = 0;
          const timer = setInterval(() => {
            sent += 1;
            res.write(`data: {"n":${sent}}\n\n`);
            if (sent === PACED_CHUNKS) {
              clearInterval(timer);
              res.end();
            }
          }, PACE_MS);
        },
      },
    ],
  });
  app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [recorder] },
    bodyLimitBytes: BODY_LIMIT,
    proxy: { routes: { mock: upstream.url }, allowAddresses: ['127.0.0.1'], bodyIdleTimeoutMs: IDLE_MS },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  limited = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [recorder] },
    proxy: {
      routes: { mock: upstream.url },
      allowAddresses: ['127.0.0.1'],
      bodyIdleTimeoutMs: IDLE_MS,
      requestTimeoutMs: LIMIT_MS,
    },
  });
  limitedBase = await limited.listen({ port: 0, host: '127.0.0.1' });
  // the default time limit; an idle timeout past it, so that the hours its tests make pass on
  // undici's clock (its timers are fake there too) do not trip it first
  defaults = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [recorder] },
    keys: [{ name: 'one-slot', key: SLOT_KEY, maxParallel: 1 }],
    proxy: { routes: { mock: upstream.url }, allowAddresses: ['127.0.0.1'], bodyIdleTimeoutMs: 2 * HOUR_MS },
  });
  defaultsBase = await defaults.listen({ port: 0, host: '127.0.0.1' });
  // a listener next to fastify's: the response object the route writes to
  defaults.server.on('request', (_request: IncomingMessage, response: ServerResponse) =>
    proxyResponses.emit('response', response),
  );
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await app.close();
  await limited.close();
  await defaults.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.reset();
  ended.length = 0;
});

async function reported(): Promise<RequestContext> {
  // the log row is reported once the reply closed; poll the hook's output
  for (let i = 0; i < 2000 && ended.length === 0; i += 1)
    await new Promise((resolve) => setImmediate(resolve));
  expect(ended).toHaveLength(1);
  return ended[0]!;
}

describe('universal proxy: request body limit', () => {
  it('answers 413 for a declared length past bodyLimitBytes without calling the upstream', async () => {
    const response = await request(`${base}/proxy/mock/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(BODY_LIMIT + 1),
    });
    expect(response.statusCode).toBe(413);
    expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe(
      'request_too_large',
    );
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 413 once a chunked body passes bodyLimitBytes, and forwards one within it whole', async () => {
    const chunks = (count: number): Readable =>
      Readable.from(Array.from({ length: count }, () => Buffer.alloc(1500, 'y')));
    const refused = await request(`${base}/proxy/mock/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks(4),
    });
    expect(refused.statusCode).toBe(413);
    expect(((await refused.body.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    expect((await reported()).error?.code).toBe('request_too_large');
    expect(upstream.requests).toHaveLength(0);

    ended.length = 0;
    const forwarded = await request(`${base}/proxy/mock/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: chunks(2),
    });
    expect(forwarded.statusCode).toBe(200);
    expect(Buffer.from(await forwarded.body.arrayBuffer()).equals(Buffer.alloc(3000, 'y'))).toBe(true);
  });
});

describe('universal proxy: upstream idle timeout', () => {
  it('cuts a response whose upstream goes silent for bodyIdleTimeoutMs and reports upstream_timeout', async () => {
    const response = await request(`${base}/proxy/mock/stalls`);
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    expect((await reported()).error?.code).toBe('upstream_timeout');
  });

  it('keeps a stream that outlasts bodyIdleTimeoutMs while it keeps sending', async () => {
    const response = await request(`${base}/proxy/mock/paced`);
    const text = await response.body.text();
    expect(text.match(/^data: /gm)).toHaveLength(PACED_CHUNKS);
    expect((await reported()).error).toBeUndefined();
  });
});

describe('universal proxy: overall time limit', () => {
  it('cuts a stream that keeps sending past proxy.requestTimeoutMs, which no idle timeout catches, and reports request_timeout', async () => {
    const response = await request(`${limitedBase}/proxy/mock/trickles`);
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    const context = await reported();
    expect(context.error?.code).toBe('request_timeout');
    expect(context.error?.message).toBe(`The proxied exchange did not finish within ${LIMIT_MS} ms.`);
    // the failure has its counter
    const metrics = (await limited.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/switchyard_request_errors_total\{route="proxy",code="request_timeout"\} 1\n/);
  });

  it('answers 504 request_timeout when the upstream has sent no headers by proxy.requestTimeoutMs (its headers timeout is 5 minutes)', async () => {
    const response = await request(`${limitedBase}/proxy/mock/no-head`);
    expect(response.statusCode).toBe(504);
    expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe('request_timeout');
    expect((await reported()).error?.code).toBe('request_timeout');
  });

  it('leaves an exchange that ends within the limit whole', async () => {
    const response = await request(`${limitedBase}/proxy/mock/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'hello',
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('hello');
    expect((await reported()).error).toBeUndefined();
  });

  it('is refused unless a whole number of milliseconds from 1 to MAX_TIMER_MS (a longer timer would fire after 1 ms: every exchange a 504)', () => {
    // by createApp itself, with its other options' problems, before anything opens
    for (const requestTimeoutMs of [0, 1.5]) {
      expect(() =>
        createApp({ gateway: { providers: [{ name: 'mock', type: 'mock' }] }, proxy: { requestTimeoutMs } }),
      ).toThrow(/proxy\/requestTimeoutMs/);
    }
    expect(() =>
      createApp({
        gateway: { providers: [{ name: 'mock', type: 'mock' }] },
        proxy: { requestTimeoutMs: 3_000_000_000 },
      }),
    ).toThrow(
      'proxy/requestTimeoutMs: 3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms',
    );
  });

  // undici arms these on its own coarse clock, which does not wrap (a 3000000000 ms headers or body
  // timeout waited as long as asked): they are bounded with every other timer option, so an
  // out-of-range value is refused the same way rather than kept
  it('refuses a headers or body idle timeout past MAX_TIMER_MS, naming each field and why', () => {
    const options = {
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      proxy: { headersTimeoutMs: 3_000_000_000, bodyIdleTimeoutMs: 3_000_000_000 },
    };
    const why =
      '3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms';
    expect(() => createApp(options)).toThrow(`proxy/headersTimeoutMs: ${why}`);
    expect(() => createApp(options)).toThrow(`proxy/bodyIdleTimeoutMs: ${why}`);
    expect(() => createApp({ ...options, proxy: { headersTimeoutMs: 0 } })).toThrow(
      /proxy\/headersTimeoutMs/,
    );
  });
});

/** A GET through the `defaults` app with its key, by node:http (undici's own timers would be fake). */
function getWithKey(path: string): { sent: ReturnType<typeof get>; response: Promise<IncomingMessage> } {
  const sent = get(`${defaultsBase}${path}`, { headers: { 'x-switchyard-key': SLOT_KEY } });
  // a connection the proxy cuts is an error here: the test watches the proxy's side
  sent.on('error', () => undefined);
  return { sent, response: once(sent, 'response').then(([response]) => response as IncomingMessage) };
}

/**
 * Follows what the proxy writes to its client: resolves once it has written `bytes` in all, or
 * as soon as a write is refused (more than a stream buffer waits: the client's side is full).
 */
function proxyWrites(response: ServerResponse): (bytes: number) => Promise<boolean> {
  const progress = new EventEmitter();
  let written = 0;
  let full = false;
  const write = response.write.bind(response) as (chunk: Buffer, ...rest: unknown[]) => boolean;
  response.write = ((chunk: Buffer, ...rest: unknown[]) => {
    const accepted = write(chunk, ...rest);
    written += chunk.length;
    full = !accepted;
    progress.emit('write');
    return accepted;
  }) as ServerResponse['write'];
  return (bytes) =>
    new Promise((resolve) => {
      const check = (): void => {
        if (written < bytes && !full) return;
        progress.off('write', check);
        resolve(full);
      };
      progress.on('write', check);
      check();
    });
}

/** Resolves once the proxy's upstream call has received its whole answer (undici's last event of a request). */
function upstreamCallComplete(): Promise<void> {
  return new Promise((resolve) => {
    const onTrailers = (): void => {
      unsubscribe('undici:request:trailers', onTrailers);
      resolve();
    };
    subscribe('undici:request:trailers', onTrailers);
  });
}

describe('universal proxy: overall time limit, the default', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is 1 hour: the route cuts a stream that keeps sending at PROXY_DEFAULTS.requestTimeoutMs, and not a millisecond before', async () => {
    expect(PROXY_DEFAULTS.requestTimeoutMs).toBe(HOUR_MS);
    // the route's timers are fake from here (the upstream's trickle and the sockets are real)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { response } = getWithKey('/proxy/mock/trickles');
    const answer = await response;
    expect(answer.statusCode).toBe(200);
    const cut = new Promise((resolve) => answer.once('close', resolve));
    answer.on('error', () => undefined).resume();
    vi.advanceTimersByTime(PROXY_DEFAULTS.requestTimeoutMs - 1);
    // still forwarded: more of the trickle arrives, and nothing has ended
    await once(answer, 'data');
    expect(ended).toHaveLength(0);
    vi.advanceTimersByTime(1);
    await cut;
    expect(answer.complete).toBe(false);
    const context = await reported();
    expect(context.error?.code).toBe('request_timeout');
    expect(context.error?.message).toBe(
      `The proxied exchange did not finish within ${PROXY_DEFAULTS.requestTimeoutMs} ms.`,
    );
  });

  it("cuts a response whose upstream is done but whose client reads too slowly to take it by then, and ends the exchange once (one report, the key's slot given back)", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const upstreamAnswer = once(upstreamAnswers, 'answer').then(([answer]) => answer as ServerResponse);
    const proxyResponse = once(proxyResponses, 'response').then(([response]) => response as ServerResponse);
    // a client that takes the headers and then reads nothing
    const { sent, response } = getWithKey('/proxy/mock/written-by-test');
    const [upstreamResponse, forwarded] = await Promise.all([
      upstreamAnswer,
      proxyResponse.then(proxyWrites),
    ]);
    // the upstream sends until the proxy can write no more to the client: the rest waits in its
    // buffers. Chunks of half a stream buffer: a write is refused only with another one still in it
    const chunk = Buffer.alloc(8 * 1024, 'x');
    let sentBytes = 0;
    let full = false;
    for (let chunks = 0; !full; chunks += 1) {
      expect(chunks).toBeLessThan(16_384);
      upstreamResponse.write(chunk);
      sentBytes += chunk.length;
      full = await forwarded(sentBytes);
    }
    expect((await response).statusCode).toBe(200);
    // and ends: the upstream call is over, cancelling it would cut nothing
    const complete = upstreamCallComplete();
    upstreamResponse.end('tail');
    await complete;
    expect(ended).toHaveLength(0);
    vi.advanceTimersByTime(PROXY_DEFAULTS.requestTimeoutMs);
    const context = await reported();
    expect(context.error?.code).toBe('request_timeout');
    sent.destroy();
    vi.useRealTimers();
    // the key's one slot is free again, and the cut exchange was reported once
    const next = await getWithKey('/proxy/mock/paced').response;
    expect(next.statusCode).toBe(200);
    await once(next.resume(), 'end');
    await vi.waitFor(() => expect(ended).toHaveLength(2), UNTIL_SETTLED);
    expect(ended.filter((reported) => reported.requestId === context.requestId)).toHaveLength(1);
  });
});
