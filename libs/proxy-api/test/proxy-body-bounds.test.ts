import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { GatewayPlugin, RequestContext } from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

let upstream: MockUpstream;
let app: FastifyInstance;
let base: string;
let limited: FastifyInstance;
let limitedBase: string;
const stalled: ServerResponse[] = [];
const ended: RequestContext[] = [];
const recorder: GatewayPlugin = { name: 'test:request-log', apply: (hooks) => hooks.onRequestEnd.tap('test:request-log', (context) => ended.push(context)) };

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
    proxy: { routes: { mock: upstream.url }, allowAddresses: ['127.0.0.1'], bodyIdleTimeoutMs: IDLE_MS, requestTimeoutMs: LIMIT_MS },
  });
  limitedBase = await limited.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  await app.close();
  await limited.close();
  await upstream.close();
});

beforeEach(() => {
  upstream.reset();
  ended.length = 0;
});

async function reported(): Promise<RequestContext> {
  // the log row is reported once the reply closed; poll the hook's output
  for (let i = 0; i < 2000 && ended.length === 0; i += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(ended).toHaveLength(1);
  return ended[0]!;
}

describe('universal proxy: request body limit', () => {
  it('answers 413 for a declared length past bodyLimitBytes without calling the upstream', async () => {
    const response = await request(`${base}/proxy/mock/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(BODY_LIMIT + 1) });
    expect(response.statusCode).toBe(413);
    expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 413 once a chunked body passes bodyLimitBytes, and forwards one within it whole', async () => {
    const chunks = (count: number): Readable => Readable.from(Array.from({ length: count }, () => Buffer.alloc(1500, 'y')));
    const refused = await request(`${base}/proxy/mock/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks(4) });
    expect(refused.statusCode).toBe(413);
    expect(((await refused.body.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    expect((await reported()).error?.code).toBe('request_too_large');
    expect(upstream.requests).toHaveLength(0);

    ended.length = 0;
    const forwarded = await request(`${base}/proxy/mock/echo`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: chunks(2) });
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
  });

  it('answers 504 request_timeout when the upstream has sent no headers by proxy.requestTimeoutMs (its headers timeout is 5 minutes)', async () => {
    const response = await request(`${limitedBase}/proxy/mock/no-head`);
    expect(response.statusCode).toBe(504);
    expect(((await response.body.json()) as { error: { code: string } }).error.code).toBe('request_timeout');
    expect((await reported()).error?.code).toBe('request_timeout');
  });

  it('leaves an exchange that ends within the limit whole', async () => {
    const response = await request(`${limitedBase}/proxy/mock/echo`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'hello' });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('hello');
    expect((await reported()).error).toBeUndefined();
  });

  it('is 1 hour by default, and refused unless a whole number of milliseconds from 1 to MAX_TIMER_MS (a longer timer would fire after 1 ms: every exchange a 504)', async () => {
    expect(PROXY_DEFAULTS.requestTimeoutMs).toBe(60 * 60_000);
    for (const requestTimeoutMs of [0, 1.5]) {
      const refused = createApp({ gateway: { providers: [{ name: 'mock', type: 'mock' }] }, proxy: { requestTimeoutMs } });
      await expect(refused.ready()).rejects.toThrow(/proxy\/requestTimeoutMs/);
      await refused.close();
    }
    const tooLong = createApp({ gateway: { providers: [{ name: 'mock', type: 'mock' }] }, proxy: { requestTimeoutMs: 3_000_000_000 } });
    await expect(tooLong.ready()).rejects.toThrow(
      'proxy/requestTimeoutMs: 3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms',
    );
    await tooLong.close();
  });
});
