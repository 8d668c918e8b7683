import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { Client, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { recordReports } from './support/proxy-reports';

// Answers of a real HTTP upstream (node:http, not the mock: it reads every request body
// before it answers) that the universal proxy must pass on as HTTP allows them: one that
// comes before the request body was read, one that fails between its headers and its first
// body byte, and a 304 that states the length of the body it does not send.

const reports = recordReports();
const answers: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  // a 401 before reading the upload, as an API behind a load balancer answers a bad key
  '/early': (_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"bad key"}}');
  },
  '/ok': (req, res) => {
    req.resume();
    req.once('end', () => res.end('ok'));
  },
  '/v1/echo?q=1': (req, res) => {
    req.resume();
    res.end(`path ${req.url}`);
  },
  // headers (a compressed body announced, a cookie, a validator), then the connection closes
  '/cut-before-body': (req, res) => {
    req.resume();
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': '100',
      'set-cookie': 'upstream-session=1',
      etag: '"v1"',
    });
    res.flushHeaders();
    res.socket?.end();
  },
  // RFC 9110 §8.6: a 304 may carry the Content-Length of the 200 it stands for
  '/not-modified': (req, res) => {
    req.resume();
    res.writeHead(304, { etag: '"v1"', 'content-length': '55' });
    res.end();
  },
};

let upstream: Server;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const answer = answers[req.url ?? ''];
    if (answer === undefined) res.writeHead(404).end();
    else answer(req, res);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
    proxy: {
      routes: { local: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` },
      allowAddresses: ['127.0.0.1'],
    },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  upstream.close();
});

beforeEach(() => reports.clear());

describe('universal proxy: an answer that comes before the request body was read', () => {
  it('is forwarded, and the next request on the same connection is answered (the unread body held the connection)', async () => {
    const client = new Client(base);
    try {
      // larger than the socket buffers: most of it is still unread when the answer comes
      const first = await client.request({
        path: '/proxy/local/early',
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(8 * 1024 * 1024, 'x'),
      });
      expect(first.statusCode).toBe(401);
      expect(await first.body.json()).toEqual({ error: { message: 'bad key' } });
      expect((await reports.proxyReport()).statusCode).toBe(401);
      const second = await client.request({ path: '/proxy/local/ok', method: 'GET', headersTimeout: 5_000 });
      expect({ status: second.statusCode, body: await second.body.text() }).toEqual({
        status: 200,
        body: 'ok',
      });
    } finally {
      await client.destroy();
    }
  });
});

/** The raw answer to `head` (which asks to close the connection), sent as is on a connection of its own. */
async function rawExchange(head: string): Promise<string> {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  // not end(): a client that half-closes has left, for Node's server
  socket.write(head);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString();
}

describe('universal proxy: a body past the limit', () => {
  it('is refused with 413 and the connection closed after it, announced or not (the rest was read for as long as the request timeout let it)', async () => {
    const small = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      bodyLimitBytes: 1024,
      proxy: {
        routes: { local: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` },
        allowAddresses: ['127.0.0.1'],
      },
    });
    const url = await small.listen({ port: 0, host: '127.0.0.1' });
    try {
      const announced = await request(`${url}/proxy/local/ok`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(4096, 'x'),
      });
      await announced.body.dump();
      const chunked = await request(`${url}/proxy/local/ok`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: Readable.from([Buffer.alloc(512, 'x'), Buffer.alloc(512, 'x'), Buffer.alloc(4096, 'x')]),
      });
      await chunked.body.dump();
      expect([announced, chunked].map((answer) => [answer.statusCode, answer.headers['connection']])).toEqual(
        [
          [413, 'close'],
          [413, 'close'],
        ],
      );
    } finally {
      await small.close();
    }
  });
});

describe('universal proxy: a request target in absolute form', () => {
  it('is forwarded by its path (RFC 9112 §3.2.2: a server accepts it; its origin was taken for the path)', async () => {
    const answer = await rawExchange(
      'GET http://localhost/proxy/local/v1/echo?q=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    expect(answer.split('\r\n', 1)[0]).toBe('HTTP/1.1 200 OK');
    expect(answer.endsWith('path /v1/echo?q=1')).toBe(true);
  });
});

describe('universal proxy: an upstream that fails after its headers, before any body byte', () => {
  it("answers 502 in the gateway's error shape, without the upstream's headers, and logs that status", async () => {
    const response = await request(`${base}/proxy/local/cut-before-body`);
    const raw = Buffer.from(await response.body.arrayBuffer());
    // the client's decoder follows Content-Encoding: an upstream's gzip on a plain JSON body fails it
    const text =
      response.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
    expect({
      status: response.statusCode,
      code: (JSON.parse(text) as { error: { code: string } }).error.code,
      encoding: response.headers['content-encoding'],
      cookie: response.headers['set-cookie'],
      etag: response.headers['etag'],
    }).toEqual({
      status: 502,
      code: 'upstream_connection_error',
      encoding: undefined,
      cookie: undefined,
      etag: undefined,
    });
    const report = await reports.proxyReport();
    expect({ status: report.statusCode, code: report.error?.code }).toEqual({
      status: 502,
      code: 'upstream_connection_error',
    });
  });
});

describe('universal proxy: a 304 with a Content-Length', () => {
  it('is forwarded as the 304 it is (undici read the stated length as a body cut short: a 500)', async () => {
    const response = await request(`${base}/proxy/local/not-modified`, {
      headers: { 'if-none-match': '"v1"' },
    });
    await response.body.dump();
    expect({ status: response.statusCode, etag: response.headers['etag'] }).toEqual({
      status: 304,
      etag: '"v1"',
    });
    const report = await reports.proxyReport();
    expect({ status: report.statusCode, error: report.error }).toEqual({ status: 304, error: undefined });
  });
});
